"""Index what changed, after the transaction committed (``AfterResourceChanged``).

The changes of one request (a batch included) are gathered and sent when the
request is finished: consecutive record changes become one bulk call. What the
events mean:

* a record created or updated: (re)indexed with the principals that may read it,
  read from the permission backend now, so that permission-only changes count;
* a record deleted: removed from the index;
* on the Kinto server, a collection created: its index is created with the
  collection's ``index:schema`` mapping; updated with a new ``index:schema``:
  the mapping is extended (a change Elasticsearch cannot apply in place is a
  failure: reindex); deleted: its index is deleted; a bucket deleted: every
  index of the bucket is deleted.

A failure never fails the write: it is logged with what to reindex, and
counted in ``indexer.stats.failures``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kinto.core.events import ACTIONS, AfterResourceChanged
from kinto.core.storage import ObjectNotFoundError

from kinto_elasticsearch.indexer import RESERVED_FIELD, BulkOperation, IndexerBase, IndexerUnavailable, index_key
from kinto_elasticsearch.permissions import PrincipalHasher, record_metadata
from kinto_elasticsearch.resources import IndexedResource, bucket_uri, indexed_resources, server_records

__all__ = ["IndexingListener", "build_operations", "collection_schema"]

logger = logging.getLogger(__name__)

_PENDING = "kinto_elasticsearch.pending"
SCHEMA_FIELD = "index:schema"
_PERMISSIONS_FIELD = "__permissions__"


@dataclasses.dataclass
class _Step:
    """One thing to do with the indexer: a bulk of record operations, or an index change."""

    kind: str  # "bulk", "ensure_index", "create_index", "update_mapping", "delete_index"
    operations: list[BulkOperation] = dataclasses.field(default_factory=list)
    collection_id: str | None = None
    bucket_id: str | None = None
    schema: Mapping[str, Any] | None = None

    def describe(self) -> str:
        if self.kind == "bulk":
            keys = sorted({operation.key for operation in self.operations})
            return f"{len(self.operations)} record change(s) in {', '.join('/'.join(key) for key in keys)}"
        return f"{self.kind} of {self.bucket_id or ''}/{self.collection_id or '*'}"


def collection_schema(registry: Any, bucket_id: str, collection_id: str) -> Mapping[str, Any] | None:
    """The ``index:schema`` of a Kinto server collection, read from storage (``None`` when absent)."""
    try:
        collection = registry.storage.get("collection", bucket_uri(registry, bucket_id), collection_id)
    except ObjectNotFoundError:
        return None
    schema = collection.get(SCHEMA_FIELD)
    return schema if isinstance(schema, Mapping) else None


def build_operations(
    registry: Any,
    request: Any,
    resource: IndexedResource,
    parents: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
    hasher: PrincipalHasher,
    parent_id: str = "",
) -> list[BulkOperation]:
    """Index operations for live objects of one collection, with their permission metadata."""
    bucket_id, collection_id = resource.key(parents)
    key = index_key(collection_id, bucket_id)
    object_ids = [str(obj["id"]) for obj in objects]
    permissions: list[Mapping[str, Any]] = [{} for _ in objects]
    backend = getattr(registry, "permission", None)
    if resource.shareable and backend is not None and objects:
        uris = [resource.object_uri(request, parents, object_id) for object_id in object_ids]
        permissions = backend.get_objects_permissions(uris, resource.own_read_permissions())
    operations = []
    for obj, object_id, granted in zip(objects, object_ids, permissions):
        document = {name: value for name, value in obj.items() if name not in (RESERVED_FIELD, _PERMISSIONS_FIELD)}
        document[RESERVED_FIELD] = record_metadata(resource, granted, parent_id, hasher)
        operations.append(BulkOperation(key, "index", object_id, document))
    return operations


class IndexingListener:
    """The ``AfterResourceChanged`` subscriber; ``get_indexer(registry)`` gives the indexer."""

    def __init__(self, get_indexer: Callable[[Any], IndexerBase]) -> None:
        self.get_indexer = get_indexer
        #: Server collections whose index this process created or saw (saves an existence check per write).
        self._known: set[tuple[str, str]] = set()

    def __call__(self, event: AfterResourceChanged) -> None:
        request = event.request
        try:
            steps = self._steps(event)
        except Exception:
            logger.exception("Could not prepare the indexing of %s (reindex it)", event.payload.get("uri"))
            self.get_indexer(request.registry).stats.add(failures=max(1, len(event.impacted_objects)))
            return
        if not steps:
            return
        pending = request.bound_data.get(_PENDING)
        if pending is None:
            pending = request.bound_data[_PENDING] = []
            if hasattr(request, "add_finished_callback"):
                request.add_finished_callback(self._flush)
            else:
                pending.extend(steps)
                self._flush(request)
                return
        pending.extend(steps)

    # --- events to steps ---

    def _steps(self, event: AfterResourceChanged) -> list[_Step]:
        payload = event.payload
        registry = event.request.registry
        name, action = payload.get("resource_name"), payload.get("action")
        records = server_records(registry)
        if records is not None and name != records.name:
            return self._container_steps(name, action, payload, event.impacted_objects)
        resource = records or indexed_resources(registry).get(name or "")
        if resource is None:
            return []
        if action == ACTIONS.DELETE.value:
            bucket_id, collection_id = resource.key(payload)
            key = index_key(collection_id, bucket_id)
            ids = [str((impacted.get("new") or impacted.get("old") or {})["id"]) for impacted in event.impacted_objects]
            return [_Step("bulk", [BulkOperation(key, "delete", object_id) for object_id in ids])]
        steps = []
        if records is not None:
            steps.append(self._ensure_index_step(registry, payload))
        objects = [impacted["new"] for impacted in event.impacted_objects]
        parent_id = str(payload.get("user_id") or "") if resource.per_user else ""
        hasher = PrincipalHasher.from_settings(registry.settings)
        operations = build_operations(registry, event.request, resource, payload, objects, hasher, parent_id)
        steps.append(_Step("bulk", operations))
        return steps

    @staticmethod
    def _ensure_index_step(registry: Any, payload: Mapping[str, Any]) -> _Step:
        """Create a collection's index on its first record when the collection predates the plugin."""
        return _Step("ensure_index", collection_id=str(payload["collection_id"]), bucket_id=str(payload["bucket_id"]))

    def _container_steps(
        self,
        name: str | None,
        action: str | None,
        payload: Mapping[str, Any],
        impacted_objects: Sequence[Mapping[str, Any]],
    ) -> list[_Step]:
        steps = []
        for impacted in impacted_objects:
            new, old = impacted.get("new") or {}, impacted.get("old") or {}
            object_id = str(new.get("id") or old.get("id"))
            if name == "bucket" and action == ACTIONS.DELETE.value:
                steps.append(_Step("delete_index", collection_id=None, bucket_id=object_id))
            elif name == "collection":
                bucket_id = str(payload["bucket_id"])
                if action == ACTIONS.DELETE.value:
                    steps.append(_Step("delete_index", collection_id=object_id, bucket_id=bucket_id))
                elif action == ACTIONS.CREATE.value:
                    steps.append(
                        _Step("create_index", collection_id=object_id, bucket_id=bucket_id, schema=_schema_of(new))
                    )
                elif action == ACTIONS.UPDATE.value and _schema_of(new) != _schema_of(old) and _schema_of(new):
                    steps.append(
                        _Step("update_mapping", collection_id=object_id, bucket_id=bucket_id, schema=_schema_of(new))
                    )
        return steps

    # --- running the steps ---

    def _flush(self, request: Any) -> None:
        steps = request.bound_data.pop(_PENDING, None) or []
        indexer = self.get_indexer(request.registry)
        for step in _merge_bulks(steps):
            try:
                self._run(request.registry, indexer, step)
            except IndexerUnavailable as error:
                logger.error(
                    "Indexing failed: %s: %s (the change is committed; reindex to repair)", step.describe(), error
                )
                if step.kind != "bulk":
                    indexer.stats.add(failures=1)
            except Exception:
                logger.exception("Indexing failed: %s (the change is committed; reindex to repair)", step.describe())
                if step.kind != "bulk":  # bulk failures are counted by the indexer, per operation
                    indexer.stats.add(failures=1)

    def _run(self, registry: Any, indexer: IndexerBase, step: _Step) -> None:
        key = (str(step.bucket_id), str(step.collection_id))
        if step.kind == "bulk":
            result = indexer.bulk(step.operations)
            for record_id, reason in result.failures:
                logger.error("Indexing record %s failed: %s (reindex its collection to repair)", record_id, reason)
        elif step.kind == "ensure_index":
            if key not in self._known and not indexer.index_exists(key[1], key[0]):
                indexer.create_index(key[1], key[0], collection_schema(registry, key[0], key[1]))
            self._known.add(key)
        elif step.kind == "create_index":
            indexer.create_index(key[1], step.bucket_id, step.schema)
            self._known.add(key)
        elif step.kind == "update_mapping":
            indexer.update_mapping(key[1], step.bucket_id, step.schema or {})
        elif step.kind == "delete_index":
            indexer.delete_index(step.collection_id, step.bucket_id)
            self._known.difference_update(
                {
                    known
                    for known in self._known
                    if known[0] == step.bucket_id and (step.collection_id is None or known[1] == step.collection_id)
                }
            )


def _schema_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    schema = obj.get(SCHEMA_FIELD)
    return schema if isinstance(schema, Mapping) else None


def _merge_bulks(steps: list[_Step]) -> list[_Step]:
    merged: list[_Step] = []
    for step in steps:
        if step.kind == "bulk" and merged and merged[-1].kind == "bulk":
            merged[-1].operations.extend(step.operations)
        else:
            merged.append(step)
    return merged
