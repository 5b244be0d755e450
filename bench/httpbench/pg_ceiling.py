"""The database's limit: raw psycopg insert and select rates for the records the workloads write.

    python -m httpbench.pg_ceiling URL SECONDS CLIENTS

Creates a table shaped like a Kinto objects table (id, parent_id, resource_name, last_modified,
JSONB data) in the database of URL, then for SECONDS each: CLIENTS threads, one connection each,
insert one row per transaction (autocommit), then select one row by primary key. Prints one JSON
object: {"insert": {"rate", "p50_ms", "p99_ms"}, "select": {...}}.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable

import psycopg

from .workloads import CREATED_DATA

PARENT = "/buckets/bench/collections/created"
PAYLOAD = json.dumps(CREATED_DATA)
SCHEMA = """
CREATE TABLE IF NOT EXISTS ceiling_objects (
    id TEXT NOT NULL, parent_id TEXT NOT NULL, resource_name TEXT NOT NULL,
    last_modified BIGINT NOT NULL, data JSONB NOT NULL,
    PRIMARY KEY (id, parent_id, resource_name))
"""
INSERT = "INSERT INTO ceiling_objects VALUES (%s, %s, 'record', %s, %s::jsonb)"
SELECT = "SELECT data, last_modified FROM ceiling_objects WHERE id = %s AND parent_id = %s AND resource_name = 'record'"


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def measure(url: str, seconds: float, clients: int, operation: Callable[[psycopg.Connection, int], None]) -> dict:
    """Run ``operation`` in a loop on ``clients`` connections for ``seconds``; rate and latencies."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    def loop(index: int) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            own = latencies[index]
            count = 0
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                operation(connection, count)
                own.append(time.perf_counter() - started)
                count += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    merged = sorted(value for own in latencies for value in own)
    return {
        "rate": len(merged) / elapsed,
        "p50_ms": statistics.median(merged) * 1000,
        "p99_ms": percentile(merged, 0.99) * 1000,
    }


def main(argv: list[str]) -> int:
    url, seconds, clients = argv[0], float(argv[1]), int(argv[2])
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(SCHEMA)
    inserted: list[str] = []

    def insert(connection: psycopg.Connection, count: int) -> None:
        record_id = str(uuid.uuid4())
        connection.execute(INSERT, (record_id, PARENT, time.time_ns() // 1000, PAYLOAD))
        inserted.append(record_id)

    rng = random.Random(42)

    def select(connection: psycopg.Connection, count: int) -> None:
        connection.execute(SELECT, (inserted[rng.randrange(len(inserted))], PARENT)).fetchone()

    result = {"insert": measure(url, seconds, clients, insert), "select": measure(url, seconds, clients, select)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
