"""Recording changes: one history entry per object changed, written inside the request's transaction.

An entry (stored as the ``history`` resource under its bucket's URI) holds the
change as Kinto 26.5 records it::

    {"action": "update", "uri": "/buckets/b1/collections/c1/records/r1",
     "resource_name": "record", "collection_id": "c1", "record_id": "r1",
     "user_id": "basicauth:...", "date": "2026-01-01T12:00:00.000000+00:00",
     "target": {"data": {...the object...}, "permissions": {...its ACL...}}}

and may be read by whoever could read the changed object when it changed: the
readers and writers of the bucket, of the collection (for a record) and of the
object itself (with ``explicit_permissions`` off, by the bucket's alone). A
deleted bucket takes its history with it; the deletions its children went
through with it are not recorded. Each change costs a fixed number of backend
calls, whatever the history already holds (see :mod:`.retention`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from kinto.core.events import ACTIONS
from kinto.core.storage import ObjectNotFoundError

from kinto.plugins.history.options import HistoryOptions
from kinto.plugins.history.retention import COUNTERS, StreamCounters

__all__ = ["HISTORY", "forget_bucket_history", "record_changes"]

#: The storage resource of the entries.
HISTORY = "history"

KintoObject = dict[str, Any]


def record_changes(event: Any, options: HistoryOptions) -> None:
    """``ResourceChanged`` subscriber of buckets, collections, groups and records."""
    payload = event.payload
    if payload.get("user_id") in options.excluded_user_ids:
        return
    request = event.request
    resource_name = payload["resource_name"]
    if resource_name == "bucket" and payload["action"] == ACTIONS.DELETE.value:
        for change in event.impacted_objects:
            forget_bucket_history(request.registry, change["new"]["id"])
        return
    changes = [
        (uri, change["new"])
        for uri, change in _object_uris(payload, event.impacted_objects)
        if not options.is_excluded(*_excluding_uris(payload, uri))
    ]
    if not changes:
        return
    if resource_name == "bucket":
        for uri, target in changes:  # each bucket's entry goes to its own history
            _write_entries(request, options, payload, target["id"], [(uri, target)])
        return
    bucket_id = payload.get("bucket_id")
    if bucket_id is None:
        return
    if payload["action"] == ACTIONS.DELETE.value and not _exists(request.registry.storage, bucket_id):
        return  # the children of a bucket deleted by this request: its history is gone with it
    _write_entries(request, options, payload, bucket_id, changes)


def _object_uris(payload: dict[str, Any], impacted: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    resource_name = payload["resource_name"]
    bucket_uri = f"/buckets/{payload.get('bucket_id')}"
    parents = {
        "bucket": "/buckets",
        "collection": f"{bucket_uri}/collections",
        "group": f"{bucket_uri}/groups",
        "record": f"{bucket_uri}/collections/{payload.get('collection_id')}/records",
    }
    return [(f"{parents[resource_name]}/{change['new']['id']}", change) for change in impacted]


def _excluding_uris(payload: dict[str, Any], uri: str) -> tuple[str, ...]:
    """The URIs whose exclusion excludes the object at ``uri``: its own, its bucket's, its collection's."""
    parts = uri.split("/")
    return tuple("/".join(parts[:length]) for length in (3, 5, len(parts)) if length <= len(parts))


def _exists(storage: Any, bucket_id: str) -> bool:
    try:
        storage.get("bucket", "", bucket_id)
    except ObjectNotFoundError:
        return False
    return True


def _write_entries(
    request: Any,
    options: HistoryOptions,
    payload: dict[str, Any],
    bucket_id: str,
    changes: list[tuple[str, KintoObject]],
) -> None:
    registry = request.registry
    storage, permission = registry.storage, registry.permission
    bucket_uri = f"/buckets/{bucket_id}"
    resource_name = payload["resource_name"]
    acls = _permissions(permission, bucket_uri, payload, [uri for uri, _ in changes])
    shared_readers = _readers(acls, _ancestors(bucket_uri, payload))
    counters = StreamCounters(storage, bucket_uri, options.max_count, options.threshold)
    date = datetime.now(timezone.utc).isoformat()
    condemned: list[str] = []
    for uri, target in changes:
        entry = {key: value for key, value in payload.items() if key not in ("timestamp", "bucket_id")}
        entry.update(
            {
                f"{resource_name}_id": target["id"],
                "uri": uri,
                "date": date,
                "target": {
                    "data": target,
                    "permissions": {perm: sorted(principals) for perm, principals in acls[uri].items()},
                },
            }
        )
        stream = options.trimming_stream(resource_name, payload.get("user_id"))
        if stream is not None:
            entry["id"], pushed_out = counters.next_entry(stream)
            condemned.extend(pushed_out)
        created = storage.create(HISTORY, bucket_uri, entry)
        readers = shared_readers | _readers(acls, [uri])
        if options.explicit_permissions and readers and permission is not None:
            permission.replace_object_permissions(f"{bucket_uri}/history/{created['id']}", {"read": readers})
    counters.save()
    _trim(storage, permission, bucket_uri, condemned)


def _ancestors(bucket_uri: str, payload: dict[str, Any]) -> list[str]:
    if payload["resource_name"] == "record":
        return [bucket_uri, f"{bucket_uri}/collections/{payload.get('collection_id')}"]
    return [bucket_uri]


def _permissions(
    permission: Any, bucket_uri: str, payload: dict[str, Any], uris: list[str]
) -> dict[str, dict[str, set[str]]]:
    """The ACLs of the changed objects and of their ancestors, read in one call."""
    wanted = list(dict.fromkeys([*uris, *_ancestors(bucket_uri, payload)]))
    if permission is None:
        return {uri: {} for uri in wanted}
    return dict(zip(wanted, permission.get_objects_permissions(wanted), strict=True))


def _readers(acls: dict[str, dict[str, set[str]]], uris: list[str]) -> set[str]:
    readers: set[str] = set()
    for uri in uris:
        acl = acls.get(uri, {})
        readers |= set(acl.get("read", ())) | set(acl.get("write", ()))
    return readers


def _trim(storage: Any, permission: Any, bucket_uri: str, entry_ids: list[str]) -> None:
    for entry_id in entry_ids:
        try:
            storage.delete(HISTORY, bucket_uri, entry_id, with_deleted=False)
        except ObjectNotFoundError:
            pass  # already deleted through DELETE /buckets/<bid>/history
    if entry_ids and permission is not None:
        permission.delete_object_permissions(*(f"{bucket_uri}/history/{entry_id}" for entry_id in entry_ids))


def forget_bucket_history(registry: Any, bucket_id: str) -> None:
    """Delete a bucket's history: its entries, their tombstones and permissions, the trimming counters."""
    storage = registry.storage
    bucket_uri = f"/buckets/{bucket_id}"
    for resource_name in (HISTORY, COUNTERS):
        storage.delete_all(resource_name, bucket_uri, with_deleted=False)
        storage.purge_deleted(resource_name, bucket_uri)
    if registry.permission is not None:
        registry.permission.delete_object_permissions(f"{bucket_uri}/history/*")
