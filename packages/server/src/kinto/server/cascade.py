"""Deleting what a deleted bucket or collection contained.

Runs inside the request's transaction, right after the parent's deletion:
children are deleted with tombstones (a client syncing a re-created
collection with ``_since`` learns what went away), their permissions are
removed, deleted groups stop being anyone's principal, and one
``ResourceChanged`` per resource and parent announces the deletions (merged
with the request's other events, and followed by ``AfterResourceChanged``
once committed).
"""

from __future__ import annotations

from typing import Any

from kinto.core.events import ACTIONS, notify_resource_event

__all__ = ["delete_bucket_contents", "delete_collection_contents"]

KintoObject = dict[str, Any]


def _delete_children(
    request: Any, resource_name: str, parent_id: str, plural_uri: str, resource_data: dict[str, str]
) -> list[KintoObject]:
    """Delete every live ``resource_name`` object under ``parent_id``; return the objects deleted."""
    storage = request.registry.storage
    storage.lock_for_write(resource_name, parent_id)
    objects = storage.list_all(resource_name, parent_id)
    if not objects:
        return []
    tombstones = storage.delete_all(resource_name, parent_id)
    old_by_id = {obj["id"]: obj for obj in objects}
    deleted = [tombstone for tombstone in tombstones if tombstone["id"] in old_by_id]
    if deleted:
        timestamp = max(tombstone["last_modified"] for tombstone in deleted)
        notify_resource_event(
            request,
            parent_id,
            timestamp,
            deleted,
            ACTIONS.DELETE,
            old=[old_by_id[tombstone["id"]] for tombstone in deleted],
            resource_name=resource_name,
            resource_data={**resource_data, "uri": plural_uri},
        )
    return [old_by_id[tombstone["id"]] for tombstone in deleted]


def delete_collection_contents(request: Any, bucket_id: str, collection_ids: list[str]) -> None:
    """The records of the deleted collections, and their permissions."""
    permission = request.registry.permission
    for collection_id in collection_ids:
        uri = f"/buckets/{bucket_id}/collections/{collection_id}"
        _delete_children(
            request, "record", uri, f"{uri}/records", {"bucket_id": bucket_id, "collection_id": collection_id}
        )
        if permission is not None:
            permission.delete_object_permissions(f"{uri}/*")


def delete_bucket_contents(request: Any, bucket_ids: list[str]) -> None:
    """The collections (and their records) and groups of the deleted buckets, and their permissions."""
    permission = request.registry.permission
    for bucket_id in bucket_ids:
        uri = f"/buckets/{bucket_id}"
        collections = _delete_children(request, "collection", uri, f"{uri}/collections", {"bucket_id": bucket_id})
        delete_collection_contents(request, bucket_id, [collection["id"] for collection in collections])
        groups = _delete_children(request, "group", uri, f"{uri}/groups", {"bucket_id": bucket_id})
        if permission is not None:
            for group in groups:
                permission.remove_principal(f"{uri}/groups/{group['id']}")
            permission.delete_object_permissions(f"{uri}/*")
