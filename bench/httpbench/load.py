"""``nox -s bench -- load``: many connections against whole deployments, ours and Kinto 26.5.0's.

Unlike the side-by-side table (every application under the same granian command), this compares
deployments as users run them:

* ours: ``kinto start`` with its default serving options (granian through the RSGI gateway);
* Kinto 26.5.0 as its Docker image runs it: ``kinto start``, i.e. pserve and waitress;
* Kinto 26.5.0 under uWSGI with the ``[uwsgi]`` settings of its production documentation
  (3 processes, threads enabled, harakiri, post-buffering...). The documentation puts nginx in front
  of a uWSGI socket; here uWSGI speaks HTTP/1.1 itself (``http11-socket``), so the figures are
  uWSGI's alone.

Each runs on the same PostgreSQL server (a database of its own, seeded through HTTP, then
ANALYZEd), pinned to the server CPU; wrk runs on the other CPU. Scenarios: GET one record at
random with 16, 64 and 256 keep-alive connections; then 2,000 idle keep-alive connections opened
first (each has made one request) and held while 64 clients run the same load. Every run reports
requests per second, p50/p99 latency and errors (socket errors and answers other than 2xx/3xx); the
idle scenario also reports how many of the 2,000 idle connections were answered.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import os
import platform
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .client import Client
from .databases import Databases, Storage, add_postgresql_argument, require_postgresql
from .loadgen import LoadSettings, RunResult, ensure_wrk, run_wrk, write_script
from .servers import BENCH, KintoReference, OurServer, free_port, ini_text
from .workloads import build_workloads, seed

RESULTS = BENCH / "results"
ACTIVE_CLIENTS = (16, 64, 256)
IDLE_CONNECTIONS = 2000
CLIENTS_BESIDE_IDLE = 64

#: Kinto's production documentation's ``[uwsgi]`` section, minus what a benchmark cannot use
#: (uid/gid, virtualenv, a unix socket for nginx, the ``plugin`` of distribution packages).
UWSGI_SETTINGS = {
    "enable-threads": "true",
    "processes": "3",
    "master": "true",
    "harakiri": "120",
    "lazy": "true",
    "lazy-apps": "true",
    "single-interpreter": "true",
    "buffer-size": "65535",
    "post-buffering": "65535",
    "die-on-term": "true",
}

WSGI_FILE = """\
import logging.config
import os

from pyramid.paster import get_app

ini = os.environ["KINTO_INI"]
logging.config.fileConfig(ini, disable_existing_loggers=False)
application = get_app(ini, "main")
"""


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Deployment:
    """One server process tree, serving on ``port``."""

    key: str
    label: str
    process: subprocess.Popen[bytes]
    port: int

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def _launch(
    key: str, label: str, command: list[str], port: int, cpu: str, folder: Path, env: dict[str, str] | None = None
) -> Deployment:
    output = (folder / f"{key}.log").open("ab")
    process = subprocess.Popen(
        ["taskset", "-c", cpu, *command],
        stdout=output,
        stderr=subprocess.STDOUT,
        cwd=folder,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    deployment = Deployment(key, label, process, port)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (folder / f"{key}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{label} exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/", timeout=5) as answer:
                if answer.status == 200:
                    return deployment
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    deployment.stop()
    raise RuntimeError(f"{label} not ready after 90 s (see {folder / key}.log)")


def _migrate(bin_dir: Path, ini: Path, folder: Path, key: str) -> None:
    with (folder / f"{key}.log").open("ab") as output:
        subprocess.run(
            [str(bin_dir / "kinto"), "migrate", "--ini", str(ini)], stdout=output, stderr=subprocess.STDOUT, check=True
        )


def start_ours(storage: Storage, folder: Path, cpu: str, extra_settings: Sequence[tuple[str, str]] = ()) -> Deployment:
    ours = OurServer()
    ini = folder / "ours.ini"
    ours.write_ini(ini, storage, extra_settings)
    _migrate(ours.bin_dir(), ini, folder, "ours")
    port = free_port()
    command = [str(ours.bin_dir() / "kinto"), "start", "--ini", str(ini), "--port", str(port)]
    return _launch("ours", "ours: kinto start (defaults)", command, port, cpu, folder)


def start_kinto_waitress(kinto: KintoReference, storage: Storage, folder: Path, cpu: str) -> Deployment:
    ini = folder / "kinto-waitress.ini"
    server = "[server:main]\nuse = egg:waitress#main\nhost = 127.0.0.1\nport = %(http_port)s\n\n"
    ini.write_text(server + ini_text("kinto", storage))
    _migrate(kinto.bin_dir(), ini, folder, "kinto-waitress")
    port = free_port()
    command = [str(kinto.bin_dir() / "kinto"), "start", "--ini", str(ini), "--port", str(port)]
    return _launch("kinto-waitress", "Kinto 26.5.0: kinto start (Docker image: waitress)", command, port, cpu, folder)


def ensure_uwsgi(kinto: KintoReference) -> Path:
    uwsgi = kinto.bin_dir() / "uwsgi"
    if not uwsgi.exists():
        log("building uWSGI in Kinto's venv (needs a C compiler and Python headers)")
        subprocess.run([str(kinto.bin_dir() / "python"), "-m", "pip", "install", "-q", "uwsgi"], check=True)
    return uwsgi


def start_kinto_uwsgi(kinto: KintoReference, storage: Storage, folder: Path, cpu: str) -> Deployment:
    uwsgi = ensure_uwsgi(kinto)
    ini = folder / "kinto-uwsgi.ini"
    wsgi_file = folder / "kinto_app.wsgi"
    wsgi_file.write_text(WSGI_FILE)
    port = free_port()
    settings = {**UWSGI_SETTINGS, "wsgi-file": str(wsgi_file), "http11-socket": f"127.0.0.1:{port}"}
    section = "[uwsgi]\n" + "".join(f"{name} = {value}\n" for name, value in settings.items()) + "\n"
    ini.write_text(section + ini_text("kinto", storage))
    _migrate(kinto.bin_dir(), ini, folder, "kinto-uwsgi")
    command = [str(uwsgi), "--ini", str(ini)]
    return _launch(
        "kinto-uwsgi",
        "Kinto 26.5.0: uWSGI (production docs' settings)",
        command,
        port,
        cpu,
        folder,
        env={"KINTO_INI": str(ini)},
    )


# --- idle connections ------------------------------------------------------------------------------


def open_idle(port: int, count: int, within: float = 20.0) -> tuple[list[socket.socket], int]:
    """``count`` connections that each made one request; those answered within ``within`` s, and how many."""
    request = b"GET /v1/__lbheartbeat__ HTTP/1.1\r\nHost: bench\r\n\r\n"
    selector = selectors.DefaultSelector()
    sockets: list[socket.socket] = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", port))
        sockets.append(sock)
        selector.register(sock, selectors.EVENT_WRITE, b"")
    answered: set[socket.socket] = set()
    deadline = time.monotonic() + within
    while len(answered) < count and time.monotonic() < deadline:
        for key, events in selector.select(timeout=0.2):
            sock = key.fileobj
            if events & selectors.EVENT_WRITE:
                try:
                    sock.sendall(request)
                    selector.modify(sock, selectors.EVENT_READ, b"")
                except OSError:
                    selector.unregister(sock)
                continue
            try:
                data = sock.recv(65536)
            except OSError:
                selector.unregister(sock)
                continue
            if not data:
                selector.unregister(sock)
                continue
            received = key.data + data
            if b"\r\n\r\n" in received:  # the heartbeat's answer is small: headers and body in one read
                answered.add(sock)
                selector.unregister(sock)
            else:
                selector.modify(sock, selectors.EVENT_READ, received)
    selector.close()
    return sockets, len(answered)


def raise_open_file_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# --- the run -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    deployment: str
    scenario: str
    result: RunResult | None
    idle_answered: int | None = None
    note: str = ""


def measure(
    deployment: Deployment, args: argparse.Namespace, wrk: str, folder: Path, analyze: Callable[[], None]
) -> list[Row]:
    client = Client(deployment.port)
    try:
        dataset = seed(client, args.records)
    finally:
        client.close()
    analyze()
    workload = next(w for w in build_workloads(dataset) if w.name == "get")
    script = write_script(workload, folder)
    base = LoadSettings(duration=args.duration, warmup=0, connections=16, threads=1, cpu=args.generator_cpu)
    url = f"http://127.0.0.1:{deployment.port}{workload.path}"
    rows = []
    for clients in ACTIVE_CLIENTS:
        settings = dataclasses.replace(base, connections=clients, threads=min(4, clients))
        log(f"{deployment.label}: {clients} keep-alive clients")
        rows.append(_run(deployment, f"{clients} clients", wrk, url, script, args, settings))
    log(f"{deployment.label}: {IDLE_CONNECTIONS:,} idle connections, then {CLIENTS_BESIDE_IDLE} clients")
    idle, answered = open_idle(deployment.port, IDLE_CONNECTIONS)
    try:
        settings = dataclasses.replace(base, connections=CLIENTS_BESIDE_IDLE, threads=4)
        row = _run(
            deployment, f"{IDLE_CONNECTIONS:,} idle + {CLIENTS_BESIDE_IDLE} clients", wrk, url, script, args, settings
        )
        rows.append(dataclasses.replace(row, idle_answered=answered))
    finally:
        for sock in idle:
            sock.close()
    return rows


def _run(
    deployment: Deployment,
    scenario: str,
    wrk: str,
    url: str,
    script: Path,
    args: argparse.Namespace,
    settings: LoadSettings,
) -> Row:
    """One wrk run; a run wrk gives up on (it stops when a connection cannot be opened) is a row saying so."""
    try:
        result = run_wrk(wrk, url, script, [], args.duration, settings, deployment.process.pid, args.server_cpu)
    except RuntimeError as failure:
        reason = " ".join(str(failure).split())[:120]
        log(f"{deployment.label}, {scenario}: {reason}")
        return Row(
            deployment.label, scenario, None, note=f"wrk stopped: {reason.removeprefix('wrk printed no result: ')}"
        )
    return Row(deployment.label, scenario, result)


def render(rows: list[Row], args: argparse.Namespace, wrk_version: str) -> str:
    lines = [
        f"# Load: deployments under many connections ({datetime.date.today().isoformat()})",
        "",
        f"`nox -s bench -- load`: {platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()},"
        f" wrk {wrk_version}; servers on CPU {args.server_cpu}, wrk on CPU {args.generator_cpu};"
        f" PostgreSQL; GET one of {args.records:,} records at random (Basic Auth); {args.duration:.0f} s per run.",
        "Errors: socket errors (connect, read, write, 30 s timeouts) plus answers other than 2xx/3xx.",
        "",
        "| deployment | scenario | req/s | p50 ms | p99 ms | errors | idle answered |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.result is None:
            idle = "" if row.idle_answered is None else f"{row.idle_answered:,} / {IDLE_CONNECTIONS:,}; "
            lines.append(f"| {row.deployment} | {row.scenario} | - | - | - | - | {idle}{row.note} |")
            continue
        result = row.result
        errors = result.socket_errors + result.status_errors
        idle = "" if row.idle_answered is None else f"{row.idle_answered:,} / {IDLE_CONNECTIONS:,}"
        if result.requests == 0:
            # wrk counts a timeout only after 30 s: clients left waiting through a shorter run show up here.
            lines.append(f"| {row.deployment} | {row.scenario} | 0 | - | - | every client unanswered | {idle} |")
            continue
        lines.append(
            f"| {row.deployment} | {row.scenario} | {result.rate:,.0f} | {result.p50_ms:.1f} |"
            f" {result.p99_ms:.1f} | {errors:,} | {idle} |"
        )
    return "\n".join(lines) + "\n"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench -- load", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (default 10)")
    parser.add_argument("--records", type=int, default=1000, help="records seeded in each server (default 1,000)")
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--generator-cpu", default="1")
    parser.add_argument(
        "--deployment",
        action="append",
        choices=("ours", "kinto-waitress", "kinto-uwsgi"),
        help="repeatable; default: all three",
    )
    add_postgresql_argument(parser)
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    require_postgresql(args.postgresql_url)
    raise_open_file_limit(IDLE_CONNECTIONS + 512)
    wrk = ensure_wrk()
    from .loadgen import wrk_version

    kinto = KintoReference()
    kinto.install()
    wanted = args.deployment or ["ours", "kinto-waitress", "kinto-uwsgi"]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="kinto-load-") as scratch:
        folder = Path(scratch)
        databases = Databases(args.postgresql_url, folder, f"load_{os.getpid()}")
        try:
            for key in wanted:
                storage = databases.storage("postgresql", key)
                try:
                    if key == "ours":
                        deployment = start_ours(storage, folder, args.server_cpu)
                    elif key == "kinto-waitress":
                        deployment = start_kinto_waitress(kinto, storage, folder, args.server_cpu)
                    else:
                        deployment = start_kinto_uwsgi(kinto, storage, folder, args.server_cpu)
                except (RuntimeError, subprocess.CalledProcessError) as failure:
                    log(f"{key} left out: {failure}")
                    rows.append(Row(key, "(did not start)", None, note=str(failure).splitlines()[0]))
                    continue
                try:
                    rows += measure(deployment, args, wrk, folder, lambda storage=storage: databases.analyze(storage))
                finally:
                    deployment.stop()
        finally:
            databases.drop_all()
    table = render(rows, args, wrk_version(wrk))
    print(table)
    args.results.mkdir(parents=True, exist_ok=True)
    target = args.results / f"{datetime.date.today().isoformat()}-load.md"
    target.write_text(table)
    log(f"written to {target}")
    return 0
