"""Indexed fields: a collection's ``indexed_fields`` metadata names the record fields to index.

``PUT /buckets/b/collections/c`` with ``{"data": {"indexed_fields": ["age", "-age", "name.last"]}}``
asks the storage backend for an index per field (see ``StorageBase.index_fields``): filters
(``min_age``, ``lt_age``, ``age``...) and sorts (``_sort=-age``) on them, and the pages after the
first, are then read from the index instead of the whole collection. ``-field`` keeps the index in
descending order (for ``_sort=-field``); either serves filters. Answers are the same with or
without: undeclared fields only cost more to filter and sort on big collections.

The indexes are built once the request's transaction is committed (PostgreSQL builds them
concurrently, without blocking writers), so the answer to the request comes when they exist.
Changing the list drops the indexes no longer named, deleting the collection drops them all, and
``kinto migrate`` builds those of every collection (after a copy, or a failed build).

Each index costs every write of its collection, and disk: a declaration that adds fields is
checked inside the request's transaction, before anything is written. The caller must hold one
of ``kinto.indexed_fields_principals`` (403 otherwise), and the store may hold at most
``kinto.indexed_fields_max`` declared indexes, every collection's (400 beyond; 0 refuses every
new declaration). The count is the storage's (``StorageBase.count_indexed_fields``, one query on
the catalogue) plus what the request's earlier batch sub-requests declared: two requests at once
may overshoot the cap by their own fields, never more. Re-declaring or removing fields always passes.
"""

from __future__ import annotations

import logging
from typing import Any

from kinto.core.errors import ERRORS, http_error, raise_invalid
from kinto.core.events import ACTIONS, AfterResourceChanged
from kinto.core.settings import principals_of
from kinto.core.storage import InvalidValueError
from kinto.core.storage.indexes import MAX_FIELD_LENGTH, check_fields
from pyramid import httpexceptions

__all__ = ["FIELD", "MAX_INDEXED_FIELDS", "check_indexed_fields", "includeme"]

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
    _check_cap(request, collection, wanted, settings["indexed_fields_max"])


def _check_cap(request: Any, collection: dict[str, Any], wanted: set[str], maximum: int) -> None:
    """400 when the store would hold more than ``maximum`` declared indexes with this declaration.

    ``pending`` (shared by the sub-requests of a batch) holds the declarations this request made
    already, not built yet: ``{collection: (wanted, built)}``.
    """
    storage = request.registry.storage
    collection_id = collection.get("id")
    key = f"/buckets/{request.matchdict['bucket_id']}/collections/{collection_id}" if collection_id else id(collection)
    built = set(storage.indexed_fields("record", key)) if collection_id else set()
    pending = request.bound_data.setdefault("declared_indexes", {})
    pending[key] = (wanted, built)
    total = storage.count_indexed_fields() + sum(len(w - b) - len(b - w) for w, b in pending.values())
    if total > maximum:
        del pending[key]
        limit = (
            "Declared indexes are disabled on this server"
            if maximum == 0
            else (
                f"The server holds at most {maximum} declared indexes, every collection's: this declaration would "
                f"make {total}"
            )
        )
        raise_invalid(request, location="body", name=f"data.{FIELD}", description=limit)


def _declared(collection: dict[str, Any] | None) -> list[str]:
    if not collection or collection.get("deleted"):
        return []
    fields = collection.get(FIELD)
    return [f for f in fields if isinstance(f, str)] if isinstance(fields, list) else []


def _collections_changed(event: Any) -> None:
    storage = event.request.registry.storage
    if not storage.supports_indexes:
        return
    bucket_id = event.payload["bucket_id"]
    for change in event.impacted_objects:
        new = None if event.payload["action"] == ACTIONS.DELETE.value else change.get("new")
        old = change.get("old")
        wanted, before = _declared(new), _declared(old)
        if event.payload["action"] != ACTIONS.CREATE.value and sorted(wanted) == sorted(before):
            continue
        collection_id = (new or old or {})["id"]
        storage.index_fields("record", f"/buckets/{bucket_id}/collections/{collection_id}", wanted)


def build_declared_indexes(registry: Any, dry_run: bool = False) -> None:
    """Make every collection's indexes those its ``indexed_fields`` declares (``kinto migrate``)."""
    storage = registry.storage
    if storage is None or not storage.supports_indexes:
        return
    if dry_run:
        # The collections cannot be read yet: a dry run leaves the tables as they were (Kinto's, maybe).
        logger.info("Would build the indexes every collection's %s declares", FIELD)
        return
    for bucket in storage.list_all("bucket", ""):
        bucket_uri = f"/buckets/{bucket['id']}"
        for collection in storage.list_all("collection", bucket_uri):
            uri = f"{bucket_uri}/collections/{collection['id']}"
            storage.index_fields("record", uri, _declared(collection))
