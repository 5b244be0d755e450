"""``nox -s bench [-- WORKLOAD ... --backend B --server-kind K --duration S --repeat N --profile WORKLOAD]``.

For each WSGI server kind (``--server-kind``: granian, the default, and/or gunicorn) and each
backend: start Kinto 26.5.0 (own venv), our server (when packages/server exists) and the empty
ceiling apps, each under that WSGI server pinned to the server CPU; seed the two servers through
HTTP; then for each workload, repeat: one wrk run per server, in alternating order, wrk pinned to
the other CPU. Medians go to bench/results/<date>-<backend>.md (``-gunicorn.md`` under gunicorn) and
to stdout; a run of several backends or kinds also writes bench/results/<date>-side-by-side.md: one
table of every ratio and p99, then every report. The whole table of issue 24, in one run::

    nox -s bench -- --server-kind granian --server-kind gunicorn

Under gunicorn, every application runs with 2 threads per worker, as the issue's harness did (Kinto's
documentation recommends no gunicorn settings: it names gunicorn as an alternative to uWSGI, whose
example runs 3 processes with threads): 2 workers on PostgreSQL, 1 on memory and on SQLite (where
Kinto runs its memory backend, which lives in one process). Kinto and the ceiling apps use gunicorn's
``gthread`` worker; ours uses ``kinto.server.gunicorn_serving.KintoWorker``, the gthread worker that
``kinto start --server gunicorn`` deploys (requests read whole on the poller before a thread runs them).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from . import loadgen, profiling
from .client import Client, ProbeFailed
from .databases import BACKENDS, Databases, Storage, add_postgresql_argument, postgresql_unreachable, wait_for_indexes
from .report import BackendReport, ServerColumn, render, render_side_by_side
from .servers import (
    BENCH,
    CEILING_APPS,
    SERVER_KINDS,
    KintoReference,
    OurServer,
    RunningServer,
    ServerUnderTest,
    ServeSettings,
)
from .workloads import (
    CEILING_WORKLOAD,
    INDEXED_FIELDS,
    WORKLOAD_NAMES,
    Dataset,
    Workload,
    build_workloads,
    seed,
)

RESULTS = BENCH / "results"
#: Requests per second a run is first assumed to reach (for the workloads that prepare what requests consume).
EXPECTED_RATE = 300


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD", help=f"subset of {', '.join(WORKLOAD_NAMES)}")
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="repeatable; default: memory, sqlite (when our server exists) and postgresql (when it answers)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before each measured run (0: none)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload and server; the median is reported")
    parser.add_argument("--records", type=int, default=10_000, help="records in the listed collection")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument(
        "--server-kind",
        action="append",
        choices=SERVER_KINDS,
        dest="server_kinds",
        help="WSGI server running every application; repeatable (default: granian)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: 1; under gunicorn 2 on postgresql; memory backend: 1)",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (granian: blocking threads)")
    parser.add_argument("--server-cpu", default="0", help="taskset CPU list of the servers")
    parser.add_argument(
        "--max-other-cpu",
        type=float,
        default=15.0,
        help="percent of the server CPU other jobs may take during a run before it is measured again (default 15)",
    )
    parser.add_argument(
        "--min-cpu-speed",
        type=float,
        default=80.0,
        help="percent of the fastest CPU speed probe of the invocation a run's server CPU must keep, probed just "
        "before and after it, or it is measured again (default 80; 0: never)",
    )
    parser.add_argument(
        "--retries", type=int, default=2, help="how many times a contended or slowed-down run is measured again"
    )
    parser.add_argument("--generator-cpu", default="1", help="taskset CPU list of wrk")
    add_postgresql_argument(parser)
    parser.add_argument(
        "--server",
        action="append",
        choices=("kinto", "ours"),
        dest="servers",
        help="repeatable; default: both (ours when packages/server exists)",
    )
    parser.add_argument("--no-ceilings", action="store_true", help="leave the ceiling lines out")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the Markdown tables")
    parser.add_argument(
        "--profile",
        metavar="WORKLOAD",
        choices=WORKLOAD_NAMES,
        help="profile our server (py-spy) on this workload instead of running the table",
    )
    parser.add_argument("--profile-server", choices=("ours", "kinto"), default="ours")
    args = parser.parse_args(argv)
    unknown = [name for name in args.workloads if name not in WORKLOAD_NAMES]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose among {', '.join(WORKLOAD_NAMES)}")
    return args


def workers_for(args: argparse.Namespace, kind: str, backend: str) -> int:
    """``--workers``, else the issue's harness: 2 gunicorn workers on PostgreSQL, 1 elsewhere.

    On SQLite, Kinto runs its memory backend, which lives in one process: both servers get one worker.
    """
    if args.workers is not None:
        return args.workers
    return 2 if kind == "gunicorn" and backend == "postgresql" else 1


def choose_backends(args: argparse.Namespace, ours_present: bool) -> list[str]:
    """The requested backends, or the default ones that can run here."""
    unreachable = postgresql_unreachable(args.postgresql_url)
    if args.backend:
        if "postgresql" in args.backend and unreachable:
            raise SystemExit(f"PostgreSQL: {unreachable}")
        if {"memory", "sqlite"} & set(args.backend) and (args.workers or 1) > 1:
            raise SystemExit("the memory backend lives in each worker (Kinto runs it on sqlite): use --workers 1")
        return args.backend
    backends = ["memory"]
    if ours_present:
        backends.append("sqlite")
    if unreachable:
        log(f"PostgreSQL left out: {unreachable}")
    else:
        backends.append("postgresql")
    return backends


def choose_servers(args: argparse.Namespace) -> list[ServerUnderTest]:
    wanted = args.servers or ["kinto", "ours"]
    candidates = [server for server in (KintoReference(), OurServer()) if server.key in wanted]
    servers = []
    for server in candidates:
        reason = server.unavailable()
        if reason:
            log(f"{server.label} left out: {reason}")
            continue
        server.install()
        servers.append(server)
    return servers


@dataclass
class Deployment:
    """The servers of one backend's run, up and seeded."""

    servers: list[ServerUnderTest]
    running: dict[str, RunningServer]
    datasets: dict[str, Dataset]
    storages: dict[str, Storage]
    notes: list[str]


def start_and_seed(
    server: ServerUnderTest,
    backend: str,
    args: argparse.Namespace,
    databases: Databases,
    folder: Path,
    settings: ServeSettings,
    deployment: Deployment,
) -> None:
    """Write the server's ini, create its schema, start it and seed it through HTTP."""
    storage = databases.storage(server.backend_for(backend), server.key)
    ini = folder / f"{server.key}.ini"
    server.write_ini(ini, storage)
    server_log = folder / f"{server.key}.log"
    server.prepare(ini, storage, server_log)
    running = RunningServer(
        server.key, server.bin_dir(), "paste_app:load", settings, server_log, ini, "/v1/", server.gunicorn_worker
    )
    deployment.running[server.key] = running
    started = time.perf_counter()
    client = Client(running.port)
    try:
        dataset = seed(client, args.records)
    finally:
        client.close()
    if server.builds_declared_indexes and storage.kind != "memory":
        # Built after the PATCH was answered: measured with them, and ANALYZE then would deadlock
        # with a build (both take the table's ShareUpdateExclusiveLock; the build waits for its snapshot).
        wait_for_indexes(storage, len(INDEXED_FIELDS))
    databases.analyze(storage)
    deployment.servers.append(server)
    deployment.storages[server.key] = storage
    deployment.datasets[server.key] = dataset
    log(f"{server.label} on {storage.kind}: seeded {args.records:,} records in {time.perf_counter() - started:.0f}s")


def deploy(
    servers: list[ServerUnderTest],
    backend: str,
    args: argparse.Namespace,
    databases: Databases,
    folder: Path,
    settings: ServeSettings,
    ceilings: bool,
    deployment: Deployment,
) -> Deployment:
    """Start and seed every server (one that fails is left out, with a note), then the ceiling apps.

    Whatever started is in ``deployment.running`` at once, so that the caller stops it even on failure.
    """
    for server in servers:
        try:
            start_and_seed(server, backend, args, databases, folder, settings, deployment)
        except (RuntimeError, ProbeFailed, subprocess.CalledProcessError, OSError) as failure:
            running = deployment.running.pop(server.key, None)
            if running:
                running.stop()
            message = f"{server.label} left out on {backend}: it failed to start or to take the seed data: {failure}"
            deployment.notes.append(message.splitlines()[0][:400])
            log(message)
    if ceilings:
        for app in CEILING_APPS:
            deployment.running[app.key] = RunningServer(
                app.key, Path(sys.executable).parent, app.factory, settings, folder / f"{app.key}.log"
            )
    return deployment


#: The fastest CPU speed probe of this bench invocation, in ms (``loadgen.cpu_probe``): runs are compared to it.
FASTEST_PROBE = [math.inf]


def measure(
    workload: Workload, running: RunningServer, client: Client, load: loadgen.LoadSettings, wrk: str, folder: Path
) -> loadgen.RunResult:
    """Warm up, then one measured wrk run (a workload's data file is rewritten before each)."""
    script = loadgen.write_script(workload, folder)
    if workload.connections:
        load = dataclasses.replace(load, connections=workload.connections)

    # What a run may consume (a pool of records to delete) is sized from the last run's rate, with margin.
    expected_rate = EXPECTED_RATE

    def one_run(seconds: float) -> loadgen.RunResult:
        nonlocal expected_rate
        requests = math.ceil(seconds * expected_rate)
        script_args = [*workload.prepare(client, folder, requests), str(load.threads)] if workload.prepare else []
        result = loadgen.run_wrk(wrk, running.url, script, script_args, seconds, load, running.pid, running.cpu)
        running.drain()
        expected_rate = max(expected_rate, 1.5 * result.rate)
        return result

    if load.warmup > 0:
        one_run(load.warmup)
    result = one_run(load.duration)
    retried = 0
    while retried < load.retries:
        FASTEST_PROBE[0] = min(FASTEST_PROBE[0], result.probe_ms)
        speed = FASTEST_PROBE[0] / result.probe_ms
        if result.other_cpu > load.max_other_cpu:
            log(f"  other jobs took {result.other_cpu * 100:.0f}% of the server CPU: measuring {running.key} again")
        elif speed < load.min_cpu_speed:
            log(f"  the server CPU ran at {speed * 100:.0f}% of its fastest probe: measuring {running.key} again")
        else:
            break
        retried += 1
        result = one_run(load.duration)
    FASTEST_PROBE[0] = min(FASTEST_PROBE[0], result.probe_ms)
    return dataclasses.replace(result, retried=retried)


def run_backend(
    backend: str, kind: str, servers: list[ServerUnderTest], args: argparse.Namespace, wrk: str
) -> BackendReport:
    settings = ServeSettings(workers_for(args, kind, backend), args.threads, args.server_cpu, kind)
    load = loadgen.LoadSettings(
        args.duration,
        args.warmup,
        args.connections,
        args.wrk_threads,
        args.generator_cpu,
        args.max_other_cpu / 100,
        args.retries,
        min_cpu_speed=args.min_cpu_speed / 100,
    )
    names = args.workloads or list(WORKLOAD_NAMES)
    with tempfile.TemporaryDirectory(prefix=f"kinto-bench-{backend}-{kind}-") as temporary:
        folder = Path(temporary)
        databases = Databases(args.postgresql_url, folder, f"{os.getpid()}_{backend}_{kind}")
        if backend == "postgresql":
            load = dataclasses.replace(load, database_marker=databases.prefix)
        deployment = Deployment([], {}, {}, {}, [])
        try:
            deploy(servers, backend, args, databases, folder, settings, not args.no_ceilings, deployment)
            report = new_report(backend, settings, deployment, args, wrk, names)
            measure_workloads(report, deployment, names, load, wrk, folder, args.repeat)
            if not args.no_ceilings:
                measure_ceilings(report, deployment, load, wrk, folder, args.repeat)
                if backend == "postgresql":
                    measure_database(report, databases, args)
            return report
        finally:
            for running in deployment.running.values():
                running.stop()
            databases.drop_all()


def serving_line(settings: ServeSettings, servers: list[ServerUnderTest]) -> str:
    common = (
        f"{settings.workers} worker(s) x {settings.threads} threads, pinned to CPU {settings.cpu}, logging at WARNING"
    )
    if settings.kind == "granian":
        return f"granian {version('granian')} WSGI, {common}; the same for every server and ceiling app"
    classes = "; ".join(f"{server.label}: `{server.gunicorn_worker}`" for server in servers)
    return (
        f"gunicorn {version('gunicorn')}, {common}; worker class: {classes}; ceiling apps: `gthread`. Each server "
        "as it is deployed: ours with the worker `kinto start --server gunicorn` runs; Kinto's documentation "
        "recommends no gunicorn settings, so issue 24's harness is followed (gthread, 2 threads per worker, "
        "2 workers on PostgreSQL, 1 on memory)"
    )


def new_report(
    backend: str,
    settings: ServeSettings,
    deployment: Deployment,
    args: argparse.Namespace,
    wrk: str,
    names: list[str],
) -> BackendReport:
    columns = [
        ServerColumn(
            server.key,
            "Kinto" if server.key == "kinto" else "ours",
            f"{server.label} {'' if server.key == 'kinto' else server.version()} "
            f"({deployment.storages[server.key].kind} backend)".replace("  ", " "),
        )
        for server in deployment.servers
    ]
    header = [
        "servers: "
        + "; ".join(column.label for column in columns)
        + ("" if len(columns) > 1 else " (our server is not there yet)"),
        serving_line(settings, deployment.servers),
        (
            f"wrk {loadgen.wrk_version(wrk)}: {args.wrk_threads} thread(s), {args.connections} connections (unless the "
            f"workload says otherwise), pinned to CPU {args.generator_cpu}"
        ),
        (
            f"{args.duration:g} s per run after {args.warmup:g} s of warm-up, median of {args.repeat} run(s); servers "
            "alternate run by run"
        ),
        f"storage, cache and permission backends: {backend}"
        + (
            " (a fresh database per server, dropped after the run; PostgreSQL itself is not pinned)"
            if backend == "postgresql"
            else ""
        )
        + ("; Kinto has no SQLite backend, so Kinto runs on memory" if backend == "sqlite" else ""),
        f"data: {args.records:,} records in the listed collection, seeded through the HTTP API, which then "
        f"declares `indexed_fields` {json.dumps(INDEXED_FIELDS)} (ours indexes it; Kinto keeps it as metadata)"
        + ("; each database analyzed after seeding (ANALYZE, as autovacuum would)" if backend == "postgresql" else ""),
        "authentication: basic auth (user `bench`) on every request, except `get-anonymous` and `list-anonymous`",
        (
            f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), shared; "
            f"load average at start {os.getloadavg()[0]:.2f}"
        ),
    ]
    workloads = [
        workload
        for workload in build_workloads(next(iter(deployment.datasets.values()), Dataset(args.records, 0)))
        if workload.name in names
    ]
    report = BackendReport(backend, datetime.date.today().isoformat(), header, columns, workloads, settings.kind)
    report.notes.extend(deployment.notes)
    return report


def measure_workloads(
    report: BackendReport,
    deployment: Deployment,
    names: list[str],
    load: loadgen.LoadSettings,
    wrk: str,
    folder: Path,
    repeat: int,
) -> None:
    clients = {server.key: Client(deployment.running[server.key].port) for server in deployment.servers}
    per_server = {
        key: {workload.name: workload for workload in build_workloads(dataset)}
        for key, dataset in deployment.datasets.items()
    }
    for name in names:
        keys = []
        for server in deployment.servers:
            workload = per_server[server.key][name]
            try:
                workload.probe(clients[server.key], deployment.datasets[server.key])
                keys.append(server.key)
            except ProbeFailed as failure:
                report.notes.append(f"{server.label} skipped on `{name}`: {failure}")
                log(f"{server.label} fails the `{name}` probe: {failure}")
        for iteration in range(repeat):
            order = keys if iteration % 2 == 0 else list(reversed(keys))
            for key in order:
                result = measure(per_server[key][name], deployment.running[key], clients[key], load, wrk, folder)
                report.runs.setdefault((key, name), []).append(result)
                log(
                    f"{name:<14} {key:<6} run {iteration + 1}/{repeat}: {result.rate:9,.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  errors "
                    f"{result.status_errors + result.socket_errors}"
                )
    for client in clients.values():
        client.close()


def measure_ceilings(
    report: BackendReport, deployment: Deployment, load: loadgen.LoadSettings, wrk: str, folder: Path, repeat: int
) -> None:
    client = Client(deployment.running["raw"].port)
    for iteration in range(repeat):
        for app in CEILING_APPS:
            result = measure(CEILING_WORKLOAD, deployment.running[app.key], client, load, wrk, folder)
            report.ceilings.setdefault(app.key, (app.label, []))[1].append(result)
            log(
                f"ceiling {app.key:<8} run {iteration + 1}/{repeat}: {result.rate:9,.0f} req/s  "
                f"wrk CPU {result.generator_cpu * 100:.0f}%"
            )
    client.close()


def measure_database(report: BackendReport, databases: Databases, args: argparse.Namespace) -> None:
    """Raw psycopg rates, pinned like the servers, with as many connections as a worker has threads."""
    storage = databases.storage("postgresql", "ceiling")
    report.database_clients = args.threads
    for iteration in range(args.repeat):
        command = [
            "taskset",
            "-c",
            args.server_cpu,
            sys.executable,
            "-m",
            "httpbench.pg_ceiling",
            str(storage.url),
            str(args.duration),
            str(args.threads),
        ]
        output = subprocess.run(command, cwd=BENCH, capture_output=True, text=True, check=True).stdout
        result = json.loads(output)
        report.database.append(result)
        log(
            f"ceiling postgresql run {iteration + 1}/{args.repeat}: insert {result['insert']['rate']:,.0f}/s, "
            f"select {result['select']['rate']:,.0f}/s"
        )


def write_report(report: BackendReport, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "" if report.server_kind == "granian" else f"-{report.server_kind}"
    path = folder / f"{report.date}-{report.backend}{suffix}.md"
    path.write_text(render(report))
    return path


def write_side_by_side(reports: list[BackendReport], folder: Path, command: str) -> Path:
    path = folder / f"{reports[0].date}-side-by-side.md"
    path.write_text(render_side_by_side(reports, command))
    return path


def run_profile(args: argparse.Namespace, backend: str, wrk: str) -> Path:
    """Seed one server, then sample it with py-spy while wrk runs the workload."""
    server: ServerUnderTest = OurServer() if args.profile_server == "ours" else KintoReference()
    reason = server.unavailable()
    if reason:
        raise SystemExit(f"cannot profile {server.label}: {reason}")
    server.install()
    kind = (args.server_kinds or ["granian"])[0]
    settings = ServeSettings(workers_for(args, kind, backend), args.threads, args.server_cpu, kind)
    load = loadgen.LoadSettings(args.duration, args.warmup, args.connections, args.wrk_threads, args.generator_cpu)
    output_folder = args.results / "profiles"
    output_folder.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.date.today().isoformat()}-{backend}-{server.key}-{args.profile}"
    with tempfile.TemporaryDirectory(prefix="kinto-bench-profile-") as temporary:
        folder = Path(temporary)
        databases = Databases(args.postgresql_url, folder, f"{os.getpid()}_profile")
        deployment = Deployment([], {}, {}, {}, [])
        try:
            deploy([server], backend, args, databases, folder, settings, False, deployment)
            if server.key not in deployment.running:
                raise SystemExit("; ".join(deployment.notes))
            running = deployment.running[server.key]
            workload = {w.name: w for w in build_workloads(deployment.datasets[server.key])}[args.profile]
            client = Client(running.port)
            workload.probe(client, deployment.datasets[server.key])
            if load.warmup > 0:
                measure(
                    workload,
                    running,
                    client,
                    loadgen.LoadSettings(load.warmup, 0, load.connections, load.threads, load.cpu),
                    wrk,
                    folder,
                )
            collapsed = output_folder / f"{stem}.collapsed"
            sampler = profiling.record(running.pid, args.duration, collapsed)
            time.sleep(0.5)
            queries = (
                profiling.ActiveQuerySampler(args.postgresql_url, databases.prefix) if backend == "postgresql" else None
            )
            with queries or contextlib.nullcontext():
                result = measure(
                    workload,
                    running,
                    client,
                    loadgen.LoadSettings(args.duration, 0, load.connections, load.threads, load.cpu),
                    wrk,
                    folder,
                )
            sampler_output = sampler.communicate()[0]
            if not collapsed.exists():
                raise SystemExit(f"py-spy wrote nothing:\n{sampler_output}")
            title = (
                f"Profile of {server.label} on `{args.profile}`, {backend} backend "
                f"({result.rate:,.0f} req/s under py-spy, p50 {result.p50_ms:.2f} ms)"
            )
            summary = output_folder / f"{stem}.md"
            text = profiling.summarize(collapsed.read_text(), title)
            summary.write_text(text + ("\n" + queries.summary() if queries else ""))
            client.close()
            return summary
        finally:
            for running_server in deployment.running.values():
                running_server.stop()
            databases.drop_all()


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    wrk = loadgen.ensure_wrk()
    if args.profile:
        for backend in args.backend or ["memory"]:
            summary = run_profile(args, backend, wrk)
            print(summary.read_text())
            log(f"profile summary in {summary}, raw stacks beside it (.collapsed)")
        return 0
    servers = choose_servers(args)
    backends = choose_backends(args, any(server.key == "ours" for server in servers))
    reports = []
    for kind in args.server_kinds or ["granian"]:
        for backend in backends:
            log(f"{kind}, backend {backend}: starting {', '.join(s.label for s in servers)} and the ceiling apps")
            report = run_backend(backend, kind, servers, args, wrk)
            reports.append(report)
            path = write_report(report, args.results)
            print(path.read_text())
            log(f"wrote {path}")
    if len(reports) > 1:
        command = "nox -s bench -- " + " ".join(sys.argv[1:] if argv is None else argv)
        path = write_side_by_side(reports, args.results, command.strip())
        log(f"wrote {path}")
    return 0
