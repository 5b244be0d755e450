"""What a run serves: the servers under test (adapters) and the ceiling apps, under granian or gunicorn.

A server under test says how to install it, how to write its ini for a storage, what to run before
it starts (schema creation) and which venv serves it. Every server and ceiling app is then started
the same way (``granian --interface wsgi``, or ``gunicorn`` with 2 threads per worker; same workers,
threads and CPU pinning), so the only difference between two lines of the table is the application
(and, under gunicorn, the worker class each application is deployed with: see ``gunicorn_worker``).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .databases import Storage

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
APPS = BENCH / "apps"
VENVS = BENCH / ".venvs"
KINTO_VERSION = "26.5.0"
HMAC_SECRET = "bench-secret-not-for-production"
SERVER_KINDS = ("granian", "gunicorn")
#: gunicorn's own threaded worker: Kinto's deployments and the ceiling apps run under it.
GTHREAD = "gthread"


def pinned(distribution: str) -> str:
    """The version bench/requirements.txt pins: the same build serves every application of a run."""
    text = (BENCH / "requirements.txt").read_text()
    found = re.search(rf"^{re.escape(distribution)}==(\S+)", text, re.M)
    if not found:
        raise RuntimeError(f"bench/requirements.txt pins no {distribution}")
    return found.group(1)


@dataclass(frozen=True)
class ServeSettings:
    """WSGI server settings shared by every server of a run."""

    workers: int
    threads: int
    cpu: str  # taskset list, e.g. "0"
    kind: str = "granian"  # one of SERVER_KINDS


def ini_text(distribution: str, storage: Storage, extra_settings: Sequence[tuple[str, str]] = ()) -> str:
    """An ini valid for Kinto 26.5.0 and for our server: same setting names, quiet logging (plus ``extra_settings``)."""
    backend = storage.kind
    lines = [
        "[app:main]",
        f"use = egg:{distribution}",
        f"kinto.storage_backend = kinto.core.storage.{backend}",
        f"kinto.cache_backend = kinto.core.cache.{backend}",
        f"kinto.permission_backend = kinto.core.permission.{backend}",
    ]
    if storage.url:
        lines += [f"kinto.{kind}_url = {storage.url}" for kind in ("storage", "permission")]
        lines.append(f"kinto.cache_url = {storage.cache_url or storage.url}")
    lines += [
        f"kinto.userid_hmac_secret = {HMAC_SECRET}",
        "multiauth.policies = basicauth",
        "kinto.bucket_create_principals = system.Authenticated",
        *(f"{name} = {value}" for name, value in extra_settings),
        "",
        # Both servers log per request at INFO; the benchmark measures them with logging at WARNING.
        "[loggers]",
        "keys = root",
        "[handlers]",
        "keys = console",
        "[formatters]",
        "keys = plain",
        "[logger_root]",
        "level = WARNING",
        "handlers = console",
        "[handler_console]",
        "class = StreamHandler",
        "args = (sys.stderr,)",
        "level = NOTSET",
        "formatter = plain",
        "[formatter_plain]",
        "format = %(levelname)s %(name)s %(message)s",
    ]
    return "\n".join(lines) + "\n"


class ServerUnderTest(ABC):
    """An application compared in the table: installed, configured and prepared its own way."""

    key: str  # column prefix and file names: "kinto", "ours"
    label: str
    distribution: str  # the paste egg of its ``[app:main]``
    gunicorn_worker: str = GTHREAD  # the worker class it is deployed with under gunicorn
    builds_declared_indexes: bool = False  # builds indexes for a collection's ``indexed_fields`` (ours)

    @abstractmethod
    def unavailable(self) -> str | None:
        """Why it cannot be measured in this run, or None."""

    @abstractmethod
    def install(self) -> None:
        """Make ``bin_dir()`` hold it, granian, gunicorn and its ``kinto`` command."""

    @abstractmethod
    def bin_dir(self) -> Path:
        """The venv's bin folder serving it."""

    def version(self) -> str:
        return KINTO_VERSION

    def backend_for(self, backend: str) -> str:
        """The storage kind this server uses when the run's backend is ``backend``."""
        return backend

    def write_ini(self, path: Path, storage: Storage, extra_settings: Sequence[tuple[str, str]] = ()) -> None:
        path.write_text(ini_text(self.distribution, storage, extra_settings))

    def prepare(self, ini: Path, storage: Storage, log: Path) -> None:
        """Create the schema of a persistent backend (``kinto migrate``)."""
        if storage.kind == "memory":
            return
        with log.open("a") as output:
            subprocess.run(
                [str(self.bin_dir() / "kinto"), "migrate", "--ini", str(ini)],
                stdout=output,
                stderr=subprocess.STDOUT,
                check=True,
            )


def _uv() -> str | None:
    found = shutil.which("uv")
    beside = Path(sys.executable).parent / "uv"
    return found or (str(beside) if beside.exists() else None)


class KintoReference(ServerUnderTest):
    """Kinto from PyPI, in a venv of its own (its ``kinto/__init__.py`` would shadow our namespace)."""

    key = "kinto"
    label = f"Kinto {KINTO_VERSION}"
    distribution = "kinto"

    def __init__(self, venv: Path = VENVS / f"kinto-{KINTO_VERSION}") -> None:
        self.venv = venv

    def unavailable(self) -> str | None:
        return None

    def bin_dir(self) -> Path:
        return self.venv / "bin"

    def backend_for(self, backend: str) -> str:
        # Kinto 26.5.0 has no SQLite backend: our SQLite is compared with its memory backend.
        return "memory" if backend == "sqlite" else backend

    def install(self) -> None:
        """Build the venv once; concurrent callers (test workers, benchmarks) wait for the first one's build."""
        wanted = [
            f"kinto[postgresql]=={KINTO_VERSION}",
            *(f"{name}=={pinned(name)}" for name in ("granian", "gunicorn")),
        ]
        python = self.bin_dir() / "python"
        with self._install_lock():
            if python.exists() and self._installed(python):
                return
            uv = _uv()
            if uv:
                subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(self.venv)], check=True)
                subprocess.run([uv, "pip", "install", "-q", "--python", str(python), *wanted], check=True)
            else:
                subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
                subprocess.run([str(python), "-m", "pip", "install", "-q", *wanted], check=True)

    @contextlib.contextmanager
    def _install_lock(self) -> Iterator[None]:
        """An exclusive lock beside the venv, held while it is checked and built (released if the process dies)."""
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        with open(self.venv.parent / f"{self.venv.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _installed(python: Path) -> bool:
        expected = {"kinto": KINTO_VERSION, "granian": pinned("granian"), "gunicorn": pinned("gunicorn")}
        probe = (
            "from importlib.metadata import version as v; "
            f"assert all(v(name) == wanted for name, wanted in {expected!r}.items()); import psycopg2"
        )
        return subprocess.run([str(python), "-c", probe], capture_output=True, check=False).returncode == 0


class OurServer(ServerUnderTest):
    """packages/server with packages/core, in the venv running the harness (nox installs them there)."""

    key = "ours"
    label = "ours"
    distribution = "kinto-server"
    # What ``kinto start --server gunicorn`` runs: gthread's process model, requests read whole on the poller.
    gunicorn_worker = "kinto.server.gunicorn_serving.KintoWorker"
    builds_declared_indexes = True

    def unavailable(self) -> str | None:
        if not (ROOT / "packages" / "server" / "src" / "kinto" / "server" / "__init__.py").exists():
            return "packages/server does not exist yet"
        if importlib.util.find_spec("kinto.server") is None:
            return "kinto.server is not installed in this venv (run it through `nox -s bench`)"
        return None

    def install(self) -> None:
        """Nothing: ``nox -s bench`` installs packages/core and packages/server editable in this venv."""

    def bin_dir(self) -> Path:
        return Path(sys.executable).parent

    def version(self) -> str:
        described = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
        )
        return described.stdout.strip() or "unknown"


@dataclass(frozen=True)
class CeilingApp:
    """An empty application served like the servers: the HTTP stack's limit."""

    key: str
    label: str
    factory: str  # "module:function" in bench/apps/ceiling_apps.py


CEILING_APPS = (
    CeilingApp("raw", "raw WSGI callable", "ceiling_apps:make_raw"),
    CeilingApp("pyramid", "empty Pyramid view", "ceiling_apps:make_pyramid"),
    CeilingApp("cornice", "empty Cornice service", "ceiling_apps:make_cornice"),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_command(bin_dir: Path, target: str, settings: ServeSettings, port: int, worker_class: str) -> list[str]:
    """The command serving the WSGI application ``target`` ("module:factory" in bench/apps/) on ``port``."""
    pinning = ["taskset", "-c", settings.cpu]
    if settings.kind == "gunicorn":
        return [
            *pinning,
            str(bin_dir / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(settings.workers),
            "--threads",
            str(settings.threads),
            "--worker-class",
            worker_class,
            "--log-level",
            "warning",
            "--chdir",
            str(APPS),
            f"{target}()",
        ]
    return [
        *pinning,
        str(bin_dir / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(settings.workers),
        "--blocking-threads",
        str(settings.threads),
        "--no-ws",
        "--log-level",
        "warning",
        "--working-dir",
        str(APPS),
        "--factory",
        target,
    ]


class RunningServer:
    """A granian or gunicorn process (its own process group) serving one application on 127.0.0.1."""

    def __init__(
        self,
        key: str,
        bin_dir: Path,
        target: str,
        settings: ServeSettings,
        log: Path,
        ini: Path | None = None,
        ready_path: str = "/",
        worker_class: str = GTHREAD,
    ) -> None:
        self.key = key
        self.port = free_port()
        self.cpu = settings.cpu
        self.log = log
        environment = dict(os.environ)
        if ini is not None:
            environment["BENCH_INI"] = str(ini)
        command = serve_command(bin_dir, target, settings, self.port, worker_class)
        with log.open("a") as output:
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True
            )
        self.ready_path = ready_path
        self._wait_ready(ready_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.key} exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.key} not ready after {timeout}s:\n{self._log_tail()}")

    def drain(self, timeout: float = 120.0) -> None:
        """Return once the requests a finished wrk run left in flight are answered.

        wrk stops with up to one request per connection unanswered; the server still runs them (a WSGI
        request cannot be cancelled), and with many connections on a slow server they would delay the
        next run's first answers by seconds. One more request, queued behind them, comes back after.
        """
        with urllib.request.urlopen(self.url + self.ready_path, timeout=timeout) as answer:
            answer.read()

    def _log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        """End the server's process group this object started."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
