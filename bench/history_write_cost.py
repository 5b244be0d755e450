"""What kinto.plugins.history adds to a write, in a bucket whose history is empty and in one holding N entries.

    python bench/history_write_cost.py --entries 100000 --writes 400 \\
        --postgresql-url postgresql://postgres@127.0.0.1/kinto_history_bench

For SQLite (a file in a temporary folder) and PostgreSQL (the database named by
``--postgresql-url`` is dropped and created again), with trimming off and on
(``history.auto_trim_max_count`` = N, threshold 100, so that the full stream is
trimmed every 101 writes during the measure), the script times ``--writes``
record PUTs (WebTest, in process, one bucket after the other in turn) in a bucket with an
empty history, then in a bucket whose history holds N record entries; and,
as the baseline, the same writes on a server without the plugin. The N
entries are what the plugin would have written (same fields, ids from the
trimming counters when trimming is on, a read permission each), imported
through the storage and permission contracts: writing them through the API
would take many minutes. Prints one Markdown table (milliseconds per write).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import psycopg
import webtest
from psycopg import sql

from kinto.core.database import REGISTRY_KEY
from kinto.core.database.postgresql import normalize_url
from kinto.core.testing import basic_auth_header
from kinto.plugins.history.listener import HISTORY
from kinto.plugins.history.retention import StreamCounters
from kinto.server import main

SECRET = "bench-history-secret"
ALICE = basic_auth_header("alice")
BATCH = 5000
THRESHOLD = 100


def serve(url: str, entries: int, trimming: bool | None) -> webtest.TestApp:
    """The server; ``trimming`` None: without the history plugin (the baseline)."""
    engine = "sqlite" if url.startswith("sqlite") else "postgresql"
    settings = {
        "kinto.userid_hmac_secret": SECRET,
        "multiauth.policies": "basicauth",
        "kinto.bucket_create_principals": "system.Authenticated",
        **{f"kinto.{kind}_backend": f"kinto.core.{kind}.{engine}" for kind in ("storage", "permission")},
        **{f"kinto.{kind}_url": url for kind in ("storage", "permission")},
        "kinto.cache_backend": "kinto.core.cache.memory",
    }
    if trimming is not None:
        settings["kinto.includes"] = "kinto.plugins.history"
    if trimming:
        settings["kinto.history.auto_trim_max_count"] = str(entries)
        settings["kinto.history.auto_trim_threshold"] = str(THRESHOLD)
    app = main({}, **settings)
    app.registry.storage.initialize_schema()
    app.registry.permission.initialize_schema()
    return webtest.TestApp(app)


def close(app: webtest.TestApp) -> None:
    for client in app.app.registry.get(REGISTRY_KEY, {}).values():
        client.close()


def fill_history(app: webtest.TestApp, bucket: str, entries: int, trimming: bool) -> None:
    """``entries`` record entries in the bucket's history, as the plugin writes them."""
    registry = app.app.registry
    storage, permission = registry.storage, registry.permission
    alice = app.get("/v1/", headers=ALICE).json["user"]["id"]
    bucket_uri = f"/buckets/{bucket}"
    counters = StreamCounters(storage, bucket_uri, entries, THRESHOLD)
    start = int(time.time() * 1000) - 10 * entries
    date = datetime.now(timezone.utc).isoformat()
    for first in range(0, entries, BATCH):
        batch = []
        for index in range(first, min(entries, first + BATCH)):
            entry: dict[str, Any] = {
                "action": "update",
                "uri": f"{bucket_uri}/collections/c/records/old{index}",
                "user_id": alice,
                "resource_name": "record",
                "collection_id": "c",
                "record_id": f"old{index}",
                "date": date,
                "last_modified": start + index,
                "target": {
                    "data": {"id": f"old{index}", "n": index, "last_modified": start + index},
                    "permissions": {"write": [alice]},
                },
            }
            entry["id"] = counters.next_entry("record")[0] if trimming else f"{index:032x}"
            batch.append(entry)
        with storage.transaction(), permission.transaction():
            storage.import_objects(HISTORY, bucket_uri, batch)
            for entry in batch:
                permission.replace_object_permissions(f"{bucket_uri}/history/{entry['id']}", {"read": [alice]})
    if trimming:
        with storage.transaction():
            counters.save()


def timed_write(app: webtest.TestApp, bucket: str, index: int) -> float:
    started = time.perf_counter()
    app.put_json(f"/v1/buckets/{bucket}/collections/c/records/r{index}", {"data": {"n": index}}, headers=ALICE)
    return (time.perf_counter() - started) * 1000


def history_size(app: webtest.TestApp, bucket: str) -> int:
    return int(app.head(f"/v1/buckets/{bucket}/history", headers=ALICE).headers["Total-Objects"])


#: (label, trimming setting of the server, bucket, whether its history is filled first)
TARGETS = (
    ("no history plugin", None, "baseline", False),
    ("off", False, "off-empty", False),
    ("off", False, "off-full", True),
    ("on", True, "on-empty", False),
    ("on", True, "on-full", True),
)


def measure(url: str, entries: int, writes: int) -> list[dict[str, Any]]:
    """Time writes to every target in turn (round robin), so that the machine's load weighs on all alike."""
    apps = {trimming: serve(url, entries, trimming) for trimming in (None, False, True)}
    try:
        for _, trimming, bucket, filled in TARGETS:
            app = apps[trimming]
            app.put_json(f"/v1/buckets/{bucket}", {}, headers=ALICE)
            app.put_json(f"/v1/buckets/{bucket}/collections/c", {}, headers=ALICE)
            if filled:
                fill_history(app, bucket, entries, bool(trimming))
        if url.startswith("postgresql"):
            with psycopg.connect(normalize_url(url), autocommit=True) as connection:
                connection.execute("ANALYZE")  # what autovacuum would have done after such an import
        for index in range(20):  # warming up (connections, caches), not measured
            for _, trimming, bucket, _ in TARGETS:
                timed_write(apps[trimming], bucket, writes + index)
        durations: dict[str, list[float]] = {bucket: [] for _, _, bucket, _ in TARGETS}
        sizes = {
            bucket: history_size(apps[trimming], bucket) if trimming is not None else 0
            for _, trimming, bucket, _ in TARGETS
        }
        for index in range(writes):
            for _, trimming, bucket, _ in TARGETS:
                durations[bucket].append(timed_write(apps[trimming], bucket, index))
        rows = []
        for label, trimming, bucket, _ in TARGETS:
            measured = durations[bucket]
            rows.append(
                {
                    "label": label,
                    "bucket": bucket,
                    "entries": sizes[bucket],
                    "after": history_size(apps[trimming], bucket) if trimming is not None else 0,
                    "median": statistics.median(measured),
                    "mean": statistics.fmean(measured),
                    "p95": statistics.quantiles(measured, n=20)[-1],
                    "max": max(measured),
                }
            )
        return rows
    finally:
        for app in apps.values():
            close(app)


def recreate(url: str) -> None:
    parts = urlsplit(normalize_url(url))
    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--postgresql-url", default="postgresql://postgres@127.0.0.1:5432/kinto_history_bench")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args()
    print("| backend | trimming | bucket | history entries before | after | median ms | mean ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for backend in args.backend or ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory() as folder:
            if backend == "postgresql":
                recreate(args.postgresql_url)
                url = args.postgresql_url
            else:
                url = f"sqlite:///{folder}/kinto.sqlite"
            rows = measure(url, args.entries, args.writes)
        for row in rows:
            trimming = f"max {args.entries}, threshold {THRESHOLD}" if row["label"] == "on" else row["label"]
            print(
                f"| {backend} | {trimming} | {row['bucket']} | {row['entries']:,} | {row['after']:,} "
                f"| {row['median']:.2f} | {row['mean']:.2f} | {row['p95']:.2f} | {row['max']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main_cli()
