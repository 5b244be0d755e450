"""Indexed fields: a collection's ``indexed_fields`` metadata names the record fields to index.

``PUT /buckets/b/collections/c`` with ``{"data": {"indexed_fields": ["age", "-age", "name.last"]}}``
asks the storage backend for an index per field (see ``StorageBase.index_fields``): filters
(``min_age``, ``lt_age``, ``age``...) and sorts (``_sort=-age``) on them, and the pages after the
first, are then read from the index instead of the whole collection. ``-field`` keeps the index in
descending order (for ``_sort=-field``); either serves filters. Answers are the same with or
without: undeclared fields only cost more to filter and sort on big collections.

The indexes are built in the background, by a thread of the process that served the declaration
(:class:`IndexBuilds`), once the request's transaction is committed: the answer comes as soon as
the declaration is stored, and reads answer the same meanwhile, only slower. PostgreSQL builds
concurrently, without blocking readers or writers; SQLite builds in one write transaction, which
holds the other writers for its duration (seconds at a million records). A log line tells when
each build starts and ends, and how long it took. Changing the list drops the indexes no longer
named; deleting the collection (or its bucket) drops them all. A build that fails (or a process
stopped during one) is logged, and done again by the collection's next change (its fields kept or
not) or by ``kinto migrate``, which builds every collection's declared indexes
and drops those of collections that no longer exist (``kinto purge-deleted`` drops those too).

Each index costs every write of its collection, and disk: a declaration that adds fields is
checked inside the request's transaction, before anything is written. The caller must hold one
of ``kinto.indexed_fields_principals`` (403 otherwise), and the store may hold at most
``kinto.indexed_fields_max`` declared indexes, every collection's (400 beyond; 0 refuses every
new declaration). What counts is the collections' declarations, built yet or not, the request's
earlier batch sub-requests included: two requests at once may overshoot the cap by their own
fields, never more. Counting them is one query on every bucket's collections, which reads the
store's index of parents whole (0.1 s at a million records), a fraction of the build it leads to;
re-declaring or removing fields always passes, without it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from kinto.core.errors import ERRORS, http_error, raise_invalid
from kinto.core.events import ACTIONS, AfterResourceChanged
from kinto.core.settings import principals_of
from kinto.core.storage import COMPARISON, Filter, InvalidValueError, ObjectNotFoundError
from kinto.core.storage.indexes import MAX_FIELD_LENGTH, check_fields
from pyramid import httpexceptions

__all__ = [
    "FIELD",
    "MAX_INDEXED_FIELDS",
    "IndexBuilds",
    "check_indexed_fields",
    "drop_orphaned_indexes",
    "includeme",
    "index_builds",
    "wait_for_index_builds",
]

logger = logging.getLogger(__name__)

#: The collection metadata field listing the record fields to index.
FIELD = "indexed_fields"
#: Indexes cost every write of the collection: a collection declares at most this many.
MAX_INDEXED_FIELDS = 10
#: The JSON Schema of the field, in the collection's schema.
SCHEMA = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": MAX_FIELD_LENGTH},
    "maxItems": MAX_INDEXED_FIELDS,
}
#: The registry key of the process's :class:`IndexBuilds`.
BUILDS_KEY = "kinto.server.index_builds"


def includeme(config: Any) -> None:
    config.add_subscriber(_collections_changed, AfterResourceChanged, for_resources=("collection",))
    config.add_migration("collection indexes", build_declared_indexes)


def check_indexed_fields(request: Any, collection: dict[str, Any], old: dict[str, Any] | None = None) -> None:
    """400 unless ``indexed_fields`` (when present) is a list of field paths (the type is the schema's);
    for a declaration adding fields to ``old``'s, 403 or 400 unless the caller and the cap allow it."""
    fields = collection.get(FIELD)
    if not isinstance(fields, list):
        return
    try:
        wanted = set(check_fields(fields, "id", "last_modified"))
    except InvalidValueError as error:
        raise_invalid(
            request, location="body", name=f"data.{FIELD}", description=str(error), errno=ERRORS.INVALID_PARAMETERS
        )
    if wanted <= set(_declared(old)):
        return
    settings = request.registry.settings
    if not principals_of(settings["indexed_fields_principals"]) & set(request.prefixed_principals):
        raise http_error(
            httpexceptions.HTTPForbidden(),
            errno=ERRORS.FORBIDDEN,
            message=f"Not allowed to declare data.{FIELD} on this server",
        )
    _check_cap(request, old, wanted, settings["indexed_fields_max"])


def _check_cap(request: Any, old: dict[str, Any] | None, wanted: set[str], maximum: int) -> None:
    """400 when the store would declare more than ``maximum`` indexes with this declaration.

    Declarations are counted, not built indexes (builds come later, in the background): every
    collection's as this request's transaction sees them (a batch's earlier sub-requests included),
    the declaring collection's ``old`` one replaced by ``wanted``.
    """
    declaring = request.registry.storage.list_all(
        "collection", "/buckets/*", filters=[Filter(FIELD, True, COMPARISON.HAS)]
    )
    total = sum(len(_indexes(collection)) for collection in declaring) - len(_indexes(old)) + len(wanted)
    if total <= maximum:
        return
    limit = (
        "Declared indexes are disabled on this server"
        if maximum == 0
        else f"The server holds at most {maximum} declared indexes, every collection's: this declaration would make {total}"
    )
    raise_invalid(request, location="body", name=f"data.{FIELD}", description=limit)


def _indexes(collection: dict[str, Any] | None) -> list[str]:
    """The indexes a stored collection declares (its fields were checked when it was written)."""
    return check_fields(_declared(collection), "id", "last_modified")


def _declared(collection: dict[str, Any] | None) -> list[str]:
    if not collection or collection.get("deleted"):
        return []
    fields = collection.get(FIELD)
    return [f for f in fields if isinstance(f, str)] if isinstance(fields, list) else []


def _collections_changed(event: Any) -> None:
    registry = event.request.registry
    if not registry.storage.supports_indexes:
        return
    bucket_id = event.payload["bucket_id"]
    for change in event.impacted_objects:
        new = None if event.payload["action"] == ACTIONS.DELETE.value else change.get("new")
        # A change that keeps the declaration builds too: what a failed build left missing. A
        # collection that declares nothing, before or after, has nothing to build or drop (a build
        # holds SQLite's write lock: scheduling one per created collection made writers time out).
        if not _declared(new) and not _declared(change.get("old")):
            continue
        index_builds(registry).schedule(bucket_id, (new or change.get("old") or {})["id"])


class IndexBuilds:
    """The collections whose indexes this process builds next, and the thread building them.

    The thread starts with the first collection scheduled and ends when none is left. For each
    collection it reads the declaration as stored now (nothing for a deleted collection) and makes
    the indexes match it, until the declaration it read is still the stored one once done: a
    declaration another process served meanwhile, and built before, is then not undone by an older
    one built after.
    """

    def __init__(self, storage: Any) -> None:
        self._storage = storage
        self._pending: dict[tuple[str, str], None] = {}  # ordered: first scheduled, first built
        self._thread: threading.Thread | None = None
        self._condition = threading.Condition()

    def schedule(self, bucket_id: str, collection_id: str) -> None:
        """Build the collection's declared indexes (and drop the others) in the background."""
        with self._condition:
            self._pending[(bucket_id, collection_id)] = None
            # Not alive though set: the process forked while building, the thread stayed in the parent.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kinto-index-builds", daemon=True)
                self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every scheduled build is done (``False``: still building after ``timeout`` seconds)."""
        with self._condition:
            return self._condition.wait_for(lambda: self._thread is None, timeout)

    def _run(self) -> None:
        while True:
            with self._condition:
                if not self._pending:
                    self._thread = None
                    self._condition.notify_all()
                    return
                bucket_id, collection_id = next(iter(self._pending))
                del self._pending[(bucket_id, collection_id)]
            try:
                self._build(bucket_id, collection_id)
            except Exception:
                logger.exception(
                    "Building the indexes of /buckets/%s/collections/%s failed: the next declaration or "
                    "`kinto migrate` builds them",
                    bucket_id,
                    collection_id,
                )

    def _build(self, bucket_id: str, collection_id: str) -> None:
        uri = f"/buckets/{bucket_id}/collections/{collection_id}"
        fields = self._declaration(bucket_id, collection_id)
        while True:
            logger.info("Building the indexes of %s: %s", uri, fields)
            started = time.perf_counter()
            self._storage.index_fields("record", uri, fields)
            logger.info("Built the indexes of %s in %.1f s: %s", uri, time.perf_counter() - started, fields)
            stored = self._declaration(bucket_id, collection_id)
            if stored == fields:
                return
            fields = stored

    def _declaration(self, bucket_id: str, collection_id: str) -> list[str]:
        try:
            return _declared(self._storage.get("collection", f"/buckets/{bucket_id}", collection_id))
        except ObjectNotFoundError:
            return []


def index_builds(registry: Any) -> IndexBuilds:
    """The application's :class:`IndexBuilds` (one per process and application)."""
    builds = registry.get(BUILDS_KEY)
    if builds is None:
        builds = registry.setdefault(BUILDS_KEY, IndexBuilds(registry.storage))
    return builds


def wait_for_index_builds(registry: Any, timeout: float | None = None) -> bool:
    """Wait until the indexes this process was asked to build are built (``False``: not after ``timeout`` s).

    For tests and scripts: requests never wait for builds.
    """
    return index_builds(registry).wait(timeout)


def build_declared_indexes(registry: Any, dry_run: bool = False) -> None:
    """Make every collection's indexes those its ``indexed_fields`` declares, and drop the indexes of
    collections that no longer exist (``kinto migrate``)."""
    storage = registry.storage
    if storage is None or not storage.supports_indexes:
        return
    if dry_run:
        # The collections cannot be read yet: a dry run leaves the tables as they were (Kinto's, maybe).
        logger.info("Would build the indexes every collection's %s declares", FIELD)
        return
    for uri, collection in _collections(storage):
        storage.index_fields("record", uri, _declared(collection))
    drop_orphaned_indexes(storage)


def drop_orphaned_indexes(storage: Any) -> list[str]:
    """Drop the indexes of collections that no longer exist (a process stopped before it dropped
    them); return their names. ``kinto migrate`` and ``kinto purge-deleted`` call it."""
    orphans = storage.drop_indexes_except([("record", uri) for uri, _ in _collections(storage)])
    if orphans:
        logger.info("Dropped %d indexes of collections that no longer exist: %s", len(orphans), ", ".join(orphans))
    return orphans


def _collections(storage: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(uri, collection)`` of every live collection."""
    for bucket in storage.list_all("bucket", ""):
        bucket_uri = f"/buckets/{bucket['id']}"
        for collection in storage.list_all("collection", bucket_uri):
            yield f"{bucket_uri}/collections/{collection['id']}", collection
