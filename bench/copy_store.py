"""``kinto copy`` at scale: a SQLite store of N records copied to PostgreSQL (and back), compared through the API.

    python bench/copy_store.py --records 100000 --postgresql-url postgresql://postgres@127.0.0.1/kinto_copy_bench

The source is a server's SQLite file: a bucket and two collections made through
the HTTP API, then N records (each with its creator's ``write`` permission, as
the API stores them), 1% of them deleted, written through the storage and
permission contracts (the API would take minutes to write them). The database
named by ``--postgresql-url`` is dropped and created again. Both copies run
the real command (``python -m kinto.server copy``), timed from the outside.
Afterwards each side is served (WebTest) and read through the API: every page
of the records list with its ETag, ``_since`` answers, and every 100th record
with its permissions. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import webtest
from psycopg import sql

from kinto.core.database import REGISTRY_KEY
from kinto.core.database.postgresql import normalize_url
from kinto.core.testing import basic_auth_header
from kinto.server import main

SECRET = "bench-copy-secret"
ALICE = basic_auth_header("alice")
BATCH = 2000
RECORDS = "/v1/buckets/bench/collections/records/records"


def settings_for(url: str) -> dict[str, str]:
    engine = "sqlite" if url.startswith("sqlite") else "postgresql"
    return {
        "kinto.userid_hmac_secret": SECRET,
        "multiauth.policies": "basicauth",
        **{f"kinto.{kind}_backend": f"kinto.core.{kind}.{engine}" for kind in ("storage", "permission")},
        **{f"kinto.{kind}_url": url for kind in ("storage", "permission")},
        "kinto.cache_backend": "kinto.core.cache.memory",
    }


def serve(url: str) -> webtest.TestApp:
    app = main({}, **settings_for(url))
    app.registry.storage.initialize_schema()
    app.registry.permission.initialize_schema()
    return webtest.TestApp(app)


def close(app: webtest.TestApp) -> None:
    for client in app.app.registry.get(REGISTRY_KEY, {}).values():
        client.close()


def fill(url: str, count: int) -> None:
    app = serve(url)
    app.put_json("/v1/buckets/bench", {}, headers=ALICE)
    app.put_json("/v1/buckets/bench/collections/records", {}, headers=ALICE)
    app.put_json("/v1/buckets/bench/collections/other", {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    app.get("/v1/buckets/bench/collections/other/records", headers=ALICE)  # read once: it has a timestamp
    alice = app.get("/v1/", headers=ALICE).json["user"]["id"]
    registry = app.app.registry
    storage, permission = registry.storage, registry.permission
    parent = "/buckets/bench/collections/records"
    rng = random.Random(count)
    for start in range(0, count, BATCH):
        with storage.transaction():
            for index in range(start, min(count, start + BATCH)):
                record = {
                    "id": f"r{index:07d}",
                    "title": f"record {index}",
                    "score": rng.randint(0, 10**6),
                    "tags": [f"t{index % 7}"],
                    "nested": {"level": index % 5, "ratio": index / 7},
                }
                storage.create("record", parent, record)
                permission.replace_object_permissions(f"{parent}/records/r{index:07d}", {"write": [alice]})
    with storage.transaction():
        for index in range(0, count, 100):
            storage.delete("record", parent, f"r{index:07d}")
            permission.delete_object_permissions(f"{parent}/records/r{index:07d}")
    close(app)


def recreate(url: str) -> None:
    parts = urlsplit(normalize_url(url))
    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def timed_copy(source: str, target: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "kinto.server", "copy", "--from", source, "--to", target],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"kinto copy failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout


def read(app: webtest.TestApp) -> dict[str, Any]:
    """What a client reads: every page of the records (default order) with ETags, _since, sampled records."""
    seen: dict[str, Any] = {}
    url, pages = f"{RECORDS}?_limit=5000", []
    while url:
        answer = app.get(url, headers=ALICE)
        pages.append((answer.headers["ETag"], answer.json["data"]))
        next_page = answer.headers.get("Next-Page")
        url = f"{urlsplit(next_page).path}?{urlsplit(next_page).query}" if next_page else ""
    seen["pages"] = pages
    stamps = sorted(record["last_modified"] for _, data in pages for record in data)
    for stamp in stamps[:: max(1, len(stamps) // 5)]:
        answer = app.get(f"{RECORDS}?_since={stamp}&_sort=last_modified&_limit=10000", headers=ALICE)
        seen[f"since {stamp}"] = (answer.headers["ETag"], answer.json["data"])
    for _, data in pages:
        for record in data[::100]:
            answer = app.get(f"{RECORDS}/{record['id']}", headers=ALICE)
            seen[record["id"]] = (answer.headers["ETag"], answer.json)
    for path in ("/v1/buckets", "/v1/buckets/bench/collections", "/v1/buckets/bench/collections/other/records"):
        answer = app.get(path, headers=ALICE)
        seen[path] = (answer.headers["ETag"], answer.json)
    return seen


def compare(left_url: str, right_url: str) -> str:
    left, right = serve(left_url), serve(right_url)
    try:
        ours, theirs = read(left), read(right)
    finally:
        close(left)
        close(right)
    differing = [key for key in ours if ours[key] != theirs.get(key)]
    records = sum(len(data) for _, data in ours["pages"])
    if differing or ours.keys() != theirs.keys():
        return f"DIFFERENT ({len(differing)} answers differ, e.g. {differing[:3]})"
    return f"identical ({records:,} records, {len(ours):,} answers)"


def main_(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--postgresql-url", default="postgresql://postgres@127.0.0.1:5432/kinto_copy_bench")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        source = f"sqlite:///{Path(folder) / 'kinto.sqlite'}"
        back = f"sqlite:///{Path(folder) / 'back.sqlite'}"
        started = time.perf_counter()
        fill(source, args.records)
        print(
            f"filled the SQLite source with {args.records:,} records in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        recreate(args.postgresql_url)
        to_postgresql, output = timed_copy(source, args.postgresql_url)
        print(output, file=sys.stderr)
        first = compare(source, args.postgresql_url)
        to_sqlite, output = timed_copy(args.postgresql_url, back)
        print(output, file=sys.stderr)
        second = compare(source, back)
    print("| copy | records | time (whole command) | records/s | through the API afterwards |")
    print("|---|---|---|---|---|")
    print(
        f"| SQLite → PostgreSQL | {args.records:,} | {to_postgresql:.1f} s | {args.records / to_postgresql:,.0f} "
        f"| {first} |"
    )
    print(
        f"| PostgreSQL → SQLite | {args.records:,} | {to_sqlite:.1f} s | {args.records / to_sqlite:,.0f} | {second} |"
    )


if __name__ == "__main__":
    main_()
