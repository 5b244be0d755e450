"""``nox -s bench -- scale``: one collection of a million records, served by our server.

For each backend (PostgreSQL, SQLite): a fresh store, ``kinto migrate``, then ``kinto start`` (our
server as users run it, pinned to the server CPU); the bucket and the collection are created
through HTTP, then the records are written through the storage contract's bulk path
(``import_objects`` in large transactions, what ``kinto copy`` uses: HTTP would take hours), and the
database is analyzed. Then, one client at a time through HTTP, each measured over ``--requests``
requests after a few warm-up ones:

* the first page of a filtered and sorted list on a data field (``?min_age=80&_sort=-age&_limit=50``,
  a fifth of the records match);
* a ``_since`` page (the 100 newest of the half of the collection written after the middle timestamp);
* GET one record, drawn at random.

Before the queries, the collection declares its indexed fields (``--index -age`` by default: the
filtered and sorted list's field, descending as its sort) with a PATCH of its ``indexed_fields``
metadata. The server answers once the declaration is stored and builds the indexes in the
background: the PATCH's answer time is timed, then the build's, until the database's catalogue
holds every declared index, valid (``pg_index.indisvalid``; SQLite's ``sqlite_master`` has it once
built). ``--no-index`` measures the undeclared case (the same answers, read without an index: far
slower past a few thousand records).

Reported: seeding time, the declaration's answer time and the index build time, p50/p99 of each
query against the issue's targets, and the resident memory of the server's processes (after the
seeding and after the queries).
``--collection-data`` and ``--setting`` add collection metadata and server settings.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import Client, ProbeFailed
from .databases import (
    Databases,
    Storage,
    add_postgresql_argument,
    require_postgresql,
    sqlite_path,
    wait_for_indexes,
)
from .load import Deployment, start_ours
from .servers import BENCH
from .workloads import BUCKET_PATH, ID_TEMPLATE, ITEMS, RANGE_SORT_QUERY, collection_path, document

RESULTS = BENCH / "results"
SINCE_PAGE = 100
WARMUP_REQUESTS = 5
#: A query slower than ``budget / MIN_REQUESTS`` (an undeclared sort at a million records) stops early, after this many.
MIN_REQUESTS = 10
#: How long the bench waits for the declared indexes to be built, and how often it looks.
#: The issue's targets, in milliseconds (p50 here: a single client, nothing queued).
TARGETS = {"filtered + sorted first page": 20.0, "_since page": 10.0, "GET one record": 2.0}


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Latencies:
    name: str
    path: str  # one example
    p50_ms: float
    p99_ms: float
    records: int  # in the example's answer
    measured: int  # requests measured


@dataclass(frozen=True)
class BackendResult:
    backend: str
    records: int
    seed_seconds: float
    analyze_seconds: float
    declare_seconds: float | None  # the answer to the PATCH declaring the indexed fields (None: nothing declared)
    index_seconds: float | None  # from that PATCH until every declared index is built and valid
    database_bytes: int
    rss_after_seed: int  # bytes, every process of the server
    rss_after_queries: int
    queries: list[Latencies]


def process_tree_rss(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, in bytes (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        pending.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def create_collection(port: int, collection_data: dict[str, Any]) -> None:
    client = Client(port)
    try:
        client.expect(201, "PUT", BUCKET_PATH, {"data": {}})
        body = {"data": collection_data, "permissions": {"read": ["system.Everyone"]}}
        client.expect(201, "PUT", f"{BUCKET_PATH}/collections/{ITEMS}", body)
    finally:
        client.close()


def declare_indexes(port: int, storage: Storage, fields: list[str]) -> tuple[float, float]:
    """PATCH the collection's ``indexed_fields``: the seconds until the answer, and until the indexes are built."""
    client = Client(port)
    started = time.perf_counter()
    try:
        answer = client.expect(200, "PATCH", f"{BUCKET_PATH}/collections/{ITEMS}", {"data": {"indexed_fields": fields}})
    finally:
        client.close()
    answered = time.perf_counter() - started
    if answer["data"].get("indexed_fields") != fields:
        raise ProbeFailed(f"the collection did not keep its indexed fields: {answer['data']}")
    wait_for_indexes(storage, len(fields))
    return answered, time.perf_counter() - started


def bulk_seed(ini: Path, count: int, batch_size: int) -> float:
    """Write ``count`` records through ``import_objects``, one transaction per batch; the seconds it took."""
    from kinto.server.copying import location_settings, open_store

    settings, label = location_settings(str(ini))
    store = open_store(settings, label, readonly=False)
    parent = f"/buckets/bench/collections/{ITEMS}"
    rng = random.Random(count)
    first_stamp = int(time.time() * 1000) - count
    started = time.perf_counter()
    try:
        for start in range(0, count, batch_size):
            batch = [
                {**document(index, rng), "id": ID_TEMPLATE % index, "last_modified": first_stamp + index}
                for index in range(start, min(count, start + batch_size))
            ]
            with store.storage.transaction():
                store.storage.import_objects("record", parent, batch)
            if (start // batch_size) % 20 == 19:
                done = start + len(batch)
                log(f"  {done:,} records in {time.perf_counter() - started:.0f} s")
    finally:
        store.close()
    return time.perf_counter() - started


def analyze(databases: Databases, storage: Storage) -> float:
    started = time.perf_counter()
    if storage.kind == "postgresql":
        databases.analyze(storage)
    else:
        with sqlite3.connect(sqlite_path(storage)) as connection:
            connection.execute("ANALYZE")
    return time.perf_counter() - started


def database_bytes(storage: Storage) -> int:
    if storage.kind == "sqlite":
        path = Path(sqlite_path(storage))
        return sum(file.stat().st_size for file in path.parent.glob(path.name + "*"))
    import psycopg

    with psycopg.connect(storage.url) as connection:
        return int(connection.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def timed(client: Client, paths: list[str], name: str, budget: float) -> Latencies:
    """Each path once, in order (after ``WARMUP_REQUESTS`` unmeasured ones); p50 and p99 of the rest.

    Stops once ``budget`` seconds are spent, if ``MIN_REQUESTS`` are measured by then.
    """
    for path in paths[:WARMUP_REQUESTS]:
        client.expect(200, "GET", path)
    timings: list[float] = []
    records = 0
    deadline = time.monotonic() + budget
    for path in paths[WARMUP_REQUESTS:]:
        if len(timings) >= MIN_REQUESTS and time.monotonic() > deadline:
            break
        started = time.perf_counter()
        response = client.request("GET", path)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise ProbeFailed(f"{name}: GET {path} answered {response.status}: {str(response.body)[:300]}")
        data = response.body["data"]
        records = len(data) if isinstance(data, list) else 1
    quantiles = statistics.quantiles(timings, n=100, method="inclusive")
    return Latencies(name, paths[-1], statistics.median(timings), quantiles[98], records, len(timings))


def measure_queries(port: int, count: int, requests: int, budget: float) -> list[Latencies]:
    client = Client(port)
    try:
        items = collection_path(ITEMS)
        newest = client.expect(200, "GET", f"{items}?_sort=-last_modified&_limit=1")["data"][0]["last_modified"]
        middle = newest - count // 2
        total = WARMUP_REQUESTS + requests
        rng = random.Random(7)
        results = [
            timed(client, [f"{items}?{RANGE_SORT_QUERY}"] * total, "filtered + sorted first page", budget),
            timed(
                client,
                [f"{items}?_since={middle}&_sort=-last_modified&_limit={SINCE_PAGE}"] * total,
                "_since page",
                budget,
            ),
            timed(
                client,
                [f"{items}/{ID_TEMPLATE % rng.randrange(count)}" for _ in range(total)],
                "GET one record",
                budget,
            ),
        ]
        range_page = client.expect(200, "GET", f"{items}?{RANGE_SORT_QUERY}")["data"]
        ages = [record["age"] for record in range_page]
        if len(ages) != 50 or min(ages) < 80 or ages != sorted(ages, reverse=True):
            raise ProbeFailed(f"filtered + sorted page is wrong: {len(ages)} records, ages {ages[:10]}...")
        return results
    finally:
        client.close()


def run_backend(backend: str, args: argparse.Namespace, folder: Path) -> BackendResult:
    folder.mkdir(parents=True, exist_ok=True)
    databases = Databases(args.postgresql_url, folder, f"scale_{os.getpid()}_{backend}")
    storage = databases.storage(backend, "ours")
    deployment: Deployment | None = None
    try:
        deployment = start_ours(storage, folder, args.server_cpu, args.setting)
        create_collection(deployment.port, args.collection_data)
        log(f"{backend}: writing {args.records:,} records in batches of {args.batch_size:,}")
        seed_seconds = bulk_seed(folder / "ours.ini", args.records, args.batch_size)
        log(f"{backend}: {args.records:,} records in {seed_seconds:.0f} s; analyzing")
        analyze_seconds = analyze(databases, storage)
        declare_seconds = index_seconds = None
        if args.index:
            log(f"{backend}: declaring indexed_fields {args.index}")
            declare_seconds, index_seconds = declare_indexes(deployment.port, storage, args.index)
            log(f"{backend}: declaration answered in {declare_seconds:.2f} s, indexes built in {index_seconds:.1f} s")
        rss_after_seed = process_tree_rss(deployment.process.pid)
        queries = measure_queries(deployment.port, args.records, args.requests, args.budget)
        for query in queries:
            log(f"{backend}: {query.name}: p50 {query.p50_ms:.2f} ms, p99 {query.p99_ms:.2f} ms")
        return BackendResult(
            backend,
            args.records,
            seed_seconds,
            analyze_seconds,
            declare_seconds,
            index_seconds,
            database_bytes(storage),
            rss_after_seed,
            process_tree_rss(deployment.process.pid),
            queries,
        )
    finally:
        if deployment is not None:
            deployment.stop()
        databases.drop_all()


def megabytes(count: int) -> str:
    return f"{count / 2**20:,.0f} MB"


def render(results: list[BackendResult], args: argparse.Namespace) -> str:
    declared = (
        f"`indexed_fields` {json.dumps(args.index)}, declared after the seeding (built in the background: the "
        "declaration's answer time, then the time until the catalogue holds the index, valid)"
        if args.index
        else "none (`--no-index`: every query reads without a declared index)"
    )
    if args.collection_data or args.setting:
        declared += f"; collection data {json.dumps(args.collection_data)}, settings {args.setting}"
    lines = [
        f"# Scale: one collection of {args.records:,} records ({datetime.date.today().isoformat()})",
        "",
        f"`nox -s bench -- scale --records {args.records}`: our server (`kinto start`, its default granian "
        f"serving, pinned to CPU {args.server_cpu}) on a fresh store per backend; records written through "
        f"`import_objects` in transactions of {args.batch_size:,} (the path of `kinto copy`), then ANALYZE; each "
        f"query measured over {args.requests} requests from one client (after {WARMUP_REQUESTS} unmeasured ones; "
        f"fewer when they took over {args.budget:g} s). "
        f"Index declaration: {declared}. Machine: {os.cpu_count()} CPUs, shared; load average at the end "
        f"{os.getloadavg()[0]:.2f}.",
        "",
        "| backend | records | seeding | records/s | ANALYZE | declaration answered | index built | database size "
        "| server RSS after seeding | server RSS after the queries |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for result in results:
        lines.append(
            f"| {result.backend} | {result.records:,} | {result.seed_seconds:.0f} s "
            f"| {result.records / result.seed_seconds:,.0f} | {result.analyze_seconds:.1f} s "
            f"| {'-' if result.declare_seconds is None else f'{result.declare_seconds * 1000:.0f} ms'} "
            f"| {'-' if result.index_seconds is None else f'{result.index_seconds:.1f} s'} "
            f"| {megabytes(result.database_bytes)} | {megabytes(result.rss_after_seed)} "
            f"| {megabytes(result.rss_after_queries)} |"
        )
    lines += [
        "",
        "| backend | query | requests | p50 ms | p99 ms | target (p50) | records answered | example |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    for result in results:
        for query in result.queries:
            target = TARGETS[query.name]
            verdict = "met" if query.p50_ms < target else "**missed**"
            lines.append(
                f"| {result.backend} | {query.name} | {query.measured} | {query.p50_ms:.2f} | {query.p99_ms:.2f} "
                f"| < {target:g} ms: {verdict} | {query.records} | `{query.path}` |"
            )
    return "\n".join(lines) + "\n"


def parse_setting(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench -- scale", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the collection (default 1,000,000)")
    parser.add_argument("--backend", action="append", choices=("postgresql", "sqlite"), help="default: both")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per query (default 200)")
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help=f"seconds per query after which it stops, once {MIN_REQUESTS} requests are measured (default 60)",
    )
    index = parser.add_mutually_exclusive_group()
    index.add_argument(
        "--index",
        action="append",
        metavar="FIELD",
        help="a field the collection declares in indexed_fields after the seeding (repeatable; default: -age)",
    )
    index.add_argument("--no-index", action="store_true", help="declare no indexed field")
    parser.add_argument("--batch-size", type=int, default=10_000, help="records per seeding transaction")
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument(
        "--collection-data",
        type=json.loads,
        default={},
        metavar="JSON",
        help="the collection's data, e.g. what declares its indexed fields",
    )
    parser.add_argument(
        "--setting",
        type=parse_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra [app:main] setting of the server's ini (repeatable)",
    )
    add_postgresql_argument(parser)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.index = [] if args.no_index else (args.index or ["-age"])
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    backends = args.backend or ["postgresql", "sqlite"]
    if "postgresql" in backends:
        require_postgresql(args.postgresql_url)
    results = []
    with tempfile.TemporaryDirectory(prefix="kinto-scale-") as scratch:
        for backend in backends:
            results.append(run_backend(backend, args, Path(scratch) / backend))
    text = render(results, args)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    target = args.results / f"{datetime.date.today().isoformat()}-scale.md"
    target.write_text(text)
    log(f"written to {target}")
    return 0
