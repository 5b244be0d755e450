"""Rebuild indexes from storage: after an indexing failure, a mapping change, or a new indexer.

From Python::

    from kinto_elasticsearch.reindex import reindex
    report = reindex(registry)                       # every collection
    report = reindex(registry, "b1", "c1")           # one collection of the Kinto server
    report = reindex(registry, collection_id="articles")   # one resource of a kinto.core app

From the command line: ``kinto reindex [BUCKET [COLLECTION]]`` (or ``kinto reindex
RESOURCE`` for a kinto.core application) with the Kinto server's ``kinto``
command, or ``kinto-elasticsearch-reindex --ini app.ini [...]`` for any
application PasteDeploy can load.

Each collection's index is deleted, created again with the collection's
``index:schema`` and filled from storage in batches, with the permissions
stored now; until it is filled, searches of that collection miss records.
Reindexing everything also deletes the indexes of collections that no longer exist.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kinto.core.storage import COMPARISON, Filter, Sort

from kinto_elasticsearch import get_indexer
from kinto_elasticsearch.indexer import IndexerBase, IndexKey
from kinto_elasticsearch.listener import build_operations, collection_schema
from kinto_elasticsearch.permissions import PrincipalHasher
from kinto_elasticsearch.resources import (
    IndexedResource,
    bucket_uri,
    collection_of,
    collection_uri,
    indexed_resources,
    server_records,
)

__all__ = ["ReindexReport", "command", "main", "reindex"]

Progress = Callable[[str], None]


@dataclasses.dataclass
class ReindexReport:
    """What a reindex did."""

    collections: int = 0
    records: int = 0
    failures: int = 0
    deleted_indexes: int = 0


class ReindexError(Exception):
    """A collection or resource to reindex does not exist."""


def _pages(storage: Any, resource_name: str, parent_id: str, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """Live objects of one collection, by pages of ``batch_size`` in id order."""
    last_id: str | None = None
    while True:
        rules = [[Filter("id", last_id, COMPARISON.GT)]] if last_id is not None else None
        page = storage.list_all(
            resource_name, parent_id, sorting=[Sort("id", 1)], pagination_rules=rules, limit=batch_size
        )
        if not page:
            return
        yield page
        if len(page) < batch_size:
            return
        last_id = page[-1]["id"]


def _fill(
    registry: Any,
    indexer: IndexerBase,
    resource: IndexedResource,
    parents: dict[str, Any],
    parent_id: str,
    report: ReindexReport,
    progress: Progress,
    label: str,
    batch_size: int,
) -> None:
    hasher = PrincipalHasher.from_settings(registry.settings)
    owner = parent_id if resource.per_user else ""
    count = 0
    for page in _pages(registry.storage, resource.name, parent_id, batch_size):
        operations = build_operations(registry, None, resource, parents, page, hasher, owner)
        result = indexer.bulk(operations, refresh=False)
        report.failures += len(result.failures)
        count += result.succeeded
        progress(f"{label}: {count} records indexed")
    report.records += count


def _server_collections(registry: Any, bucket_id: str | None, collection_id: str | None) -> list[tuple[str, str]]:
    storage = registry.storage
    if bucket_id is None:
        buckets = [bucket["id"] for page in _pages(storage, "bucket", "", 1000) for bucket in page]
    else:
        buckets = [bucket_id]
    found = []
    for bucket in buckets:
        for page in _pages(storage, "collection", bucket_uri(registry, bucket), 1000):
            found.extend(
                (bucket, collection["id"])
                for collection in page
                if collection_id is None or collection["id"] == collection_id
            )
    if collection_id is not None and not found:
        raise ReindexError(f"no collection {bucket_id}/{collection_id}")
    return found


def _reindex_server(
    registry: Any,
    indexer: IndexerBase,
    records: IndexedResource,
    bucket_id: str | None,
    collection_id: str | None,
    report: ReindexReport,
    progress: Progress,
    batch_size: int,
) -> None:
    rebuilt: set[IndexKey] = set()
    for bucket, collection in _server_collections(registry, bucket_id, collection_id):
        label = collection_uri(registry, bucket, collection)
        indexer.delete_index(collection, bucket)
        indexer.create_index(collection, bucket, collection_schema(registry, bucket, collection))
        parents = {"bucket_id": bucket, "collection_id": collection}
        progress(f"{label}: reindexing")
        _fill(registry, indexer, records, parents, label, report, progress, label, batch_size)  # label: parent id
        indexer.refresh(collection, bucket)
        report.collections += 1
        rebuilt.add((bucket, collection))
    if collection_id is None:
        for key in indexer.list_indexes():
            if len(key) == 2 and key not in rebuilt and (bucket_id is None or key[0] == bucket_id):
                indexer.delete_index(key[1], key[0])
                report.deleted_indexes += 1
                progress(f"{collection_uri(registry, key[0], key[1])}: index deleted (no such collection)")


def _reindex_resources(
    registry: Any,
    indexer: IndexerBase,
    resources: list[IndexedResource],
    report: ReindexReport,
    progress: Progress,
    batch_size: int,
) -> None:
    for resource in resources:
        indexer.delete_index(resource.name)
        indexer.create_index(resource.name)
        progress(f"{resource.name}: reindexing")
        parents = sorted(registry.storage.all_resources_timestamps(resource.name)) or [""]
        for parent_id in parents:
            _fill(registry, indexer, resource, {}, parent_id, report, progress, resource.name, batch_size)
        indexer.refresh(resource.name)
        report.collections += 1


def reindex(
    registry: Any,
    bucket_id: str | None = None,
    collection_id: str | None = None,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> ReindexReport:
    """Rebuild the indexes of one collection, one bucket, or everything (see the module docstring).

    On a kinto.core application, ``collection_id`` names a resource (or its
    plural path) and ``bucket_id`` must be ``None``. Raises :class:`ReindexError`
    for a collection or resource that does not exist.
    """
    say = progress or (lambda message: None)
    indexer = get_indexer(registry)
    report = ReindexReport()
    records = server_records(registry)
    if records is not None:
        _reindex_server(registry, indexer, records, bucket_id, collection_id, report, say, batch_size)
    else:
        if bucket_id is not None:
            raise ReindexError("this application has no buckets: name a resource only")
        if collection_id is None:
            resources = list(indexed_resources(registry).values())
        else:
            resource = collection_of(registry, collection_id)
            if resource is None:
                raise ReindexError(f"no indexed resource named {collection_id!r}")
            resources = [resource]
        _reindex_resources(registry, indexer, resources, report, say, batch_size)
    say(
        f"Reindexed {report.records} records in {report.collections} collection(s)"
        + (f", {report.failures} failed" if report.failures else "")
        + (f", {report.deleted_indexes} stale index(es) deleted" if report.deleted_indexes else "")
    )
    return report


def _targets(registry: Any, names: Sequence[str]) -> tuple[str | None, str | None]:
    if len(names) > 2:
        raise ReindexError("expected at most BUCKET COLLECTION")
    if server_records(registry) is not None:
        return (names[0] if names else None), (names[1] if len(names) > 1 else None)
    if len(names) > 1:
        raise ReindexError("this application has no buckets: name one resource")
    return None, (names[0] if names else None)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        nargs="*",
        metavar="NAME",
        help="BUCKET [COLLECTION] on the Kinto server, RESOURCE elsewhere (default: everything)",
    )
    parser.add_argument("--batch-size", type=int, default=500, help="records per bulk request (default: 500)")


def command(env: dict[str, Any], args: argparse.Namespace) -> int:
    """rebuild search indexes from storage (one collection, one bucket, or everything)"""
    registry = env["registry"]
    quiet = getattr(args, "verbosity", None) == 50  # logging.CRITICAL: ``kinto -q``
    try:
        bucket_id, collection_id = _targets(registry, list(args.target))
        report = reindex(
            registry, bucket_id, collection_id, batch_size=args.batch_size, progress=None if quiet else print
        )
    except ReindexError as error:
        print(f"kinto reindex: {error}", file=sys.stderr)
        return 1
    return 1 if report.failures else 0


command.add_arguments = add_arguments  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    """``kinto-elasticsearch-reindex --ini app.ini [NAME...]``: reindex an application PasteDeploy loads."""
    parser = argparse.ArgumentParser(prog="kinto-elasticsearch-reindex", description=command.__doc__)
    parser.add_argument("--ini", required=True, help="the application's ini file ([app:main])")
    add_arguments(parser)
    args = parser.parse_args(argv)
    from pyramid.paster import bootstrap

    with bootstrap(args.ini) as env:
        return command(env, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
