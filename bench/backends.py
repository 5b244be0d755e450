"""Storage backend benchmark: create/get/update rates and listing latency at scale.

    python bench/backends.py --backend memory --backend sqlite --sizes 10000,100000
    python bench/backends.py --backend postgresql --postgresql-url postgresql://postgres@127.0.0.1/bench

Prints one Markdown table. Writes run one per transaction, as requests do;
the collection is then filled up to the size in batches. Listing figures are
the median of repeated calls: a filtered, sorted first page (what a client's
``GET /records?category=c3&_sort=-score&_limit=10`` costs), the same with the
default sort (newest first), and the separate count.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator

from kinto.core.storage import COMPARISON, Filter, Sort, StorageBase

RESOURCE = "record"
PARENT = "/buckets/bench/collections/objects"
OTHER_PARENT = "/buckets/bench/collections/noise"
SAMPLE = 1000
BATCH = 2000


def build(backend: str, args: argparse.Namespace) -> StorageBase:
    settings: dict[str, Any] = {}
    if backend == "sqlite":
        settings["storage_url"] = f"sqlite:///{args.sqlite_path}"
    elif backend == "postgresql":
        settings["storage_url"] = args.postgresql_url
    settings.update({f"kinto.{key}": value for key, value in list(settings.items())})
    module = __import__(f"kinto.core.storage.{backend}", fromlist=["load_from_config"])
    storage = module.load_from_config(Configurator(settings=settings))
    storage.initialize_schema()
    storage.flush()
    return storage


def document(index: int, rng: random.Random) -> dict[str, Any]:
    return {
        "title": f"object number {index}",
        "category": f"c{index % 20}",
        "score": rng.randint(0, 1_000_000),
        "tags": [f"t{index % 7}", f"t{index % 11}"],
        "nested": {"level": index % 5},
    }


def rate(operation: Callable[[int], Any], count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        operation(index)
    return count / (time.perf_counter() - started)


def median_ms(operation: Callable[[], Any], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        operation()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def fill(storage: StorageBase, start: int, stop: int, rng: random.Random) -> float:
    started = time.perf_counter()
    for batch_start in range(start, stop, BATCH):
        with storage.transaction():
            for index in range(batch_start, min(stop, batch_start + BATCH)):
                storage.create(RESOURCE, PARENT, {"id": f"o{index:07d}", **document(index, rng)})
    return time.perf_counter() - started


def run(backend: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    storage = build(backend, args)
    rng = random.Random(size)
    sample = min(SAMPLE, size)

    def create_one(index: int) -> None:
        with storage.transaction():
            storage.create(RESOURCE, PARENT, {"id": f"o{index:07d}", **document(index, rng)})

    create_rate = rate(create_one, sample)
    fill_seconds = fill(storage, sample, size, rng)
    # A second collection, so that listing has to select its own rows.
    fill_noise = min(size // 10, 10_000)
    with storage.transaction():
        for index in range(fill_noise):
            storage.create(RESOURCE, OTHER_PARENT, {"id": f"n{index:07d}", **document(index, rng)})

    ids = [f"o{rng.randrange(size):07d}" for _ in range(sample)]
    get_rate = rate(lambda i: storage.get(RESOURCE, PARENT, ids[i]), sample)

    def update_one(index: int) -> None:
        with storage.transaction():
            storage.lock_for_write(RESOURCE, PARENT)
            current = storage.get(RESOURCE, PARENT, ids[index])
            storage.update(RESOURCE, PARENT, ids[index], {**current, "score": index})

    update_rate = rate(update_one, sample)

    by_category = [Filter("category", "c3", COMPARISON.EQ)]
    repeat = args.repeat

    def sorted_page() -> list[Any]:
        return storage.list_all(RESOURCE, PARENT, filters=by_category, sorting=[Sort("score", -1)], limit=10)

    def newest_page() -> list[Any]:
        return storage.list_all(RESOURCE, PARENT, filters=by_category, sorting=[Sort("last_modified", -1)], limit=10)

    def range_page() -> list[Any]:
        filters = [Filter("score", 500_000, COMPARISON.GT)]
        return storage.list_all(RESOURCE, PARENT, filters=filters, sorting=[Sort("title", 1)], limit=10)

    assert len(sorted_page()) == 10 and len(newest_page()) == 10
    result = {
        "backend": backend,
        "objects": size,
        "create/s": create_rate,
        "get/s": get_rate,
        "update/s": update_rate,
        "fill s": fill_seconds,
        "filter+sort page ms": median_ms(sorted_page, repeat),
        "filter+newest page ms": median_ms(newest_page, repeat),
        "range+sort page ms": median_ms(range_page, repeat),
        "count filter ms": median_ms(lambda: storage.count_all(RESOURCE, PARENT, filters=by_category), repeat),
    }
    storage.flush()
    return result


def markdown(rows: list[dict[str, Any]]) -> str:
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = []
        for key in headers:
            value = row[key]
            if isinstance(value, float):
                value = f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
            elif isinstance(value, int):
                value = f"{value:,}"
            cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["memory", "sqlite", "postgresql"])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated object counts")
    parser.add_argument("--repeat", type=int, default=15, help="calls per listing figure (median)")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("KINTO_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/kinto_storage_tests"),
    )
    parser.add_argument("--sqlite-path", default=os.path.join(tempfile.gettempdir(), "kinto-bench-storage.sqlite"))
    args = parser.parse_args(argv)
    backends = args.backend or ["memory", "sqlite"]
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    rows = []
    for backend in backends:
        for size in sizes:
            print(f"... {backend} with {size:,} objects", file=sys.stderr, flush=True)
            rows.append(run(backend, size, args))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
