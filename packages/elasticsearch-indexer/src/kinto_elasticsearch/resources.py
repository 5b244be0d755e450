"""Which of the application's resources are indexed, and into which collection index.

Two layouts, found through ``kinto.core.resource.registered_resources``:

* **the Kinto server**: a resource named ``record`` at
  ``/buckets/{bucket_id}/collections/{collection_id}/records``. Its records go
  to one index per collection, ``(bucket_id, collection_id)``; the
  ``collection`` and ``bucket`` resources drive the indexes' life (created with
  the collection's ``index:schema``, deleted with the collection or bucket).
* **any kinto.core application**: each resource (or those listed in
  ``kinto_elasticsearch.resources``) is one collection, named by the resource
  name; ``/search/<name>/`` also accepts the last segment of its plural path
  (``/search/articles/`` for an ``article`` resource at ``/articles``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kinto.core.resource import ResourceInfo, UserResource, registered_resources
from kinto.core.settings import as_list

__all__ = [
    "SERVER_RECORDS_PATH",
    "IndexedResource",
    "bucket_uri",
    "collection_of",
    "collection_uri",
    "indexed_resources",
    "server_records",
]

SERVER_RECORDS_PATH = "/buckets/{bucket_id}/collections/{collection_id}/records"
#: Resources of the Kinto server that are containers, never indexed as documents.
SERVER_CONTAINERS = frozenset({"bucket", "collection", "group", "permissions"})


@dataclasses.dataclass(frozen=True)
class IndexedResource:
    """A resource whose objects are indexed, and how its objects are reached."""

    info: ResourceInfo
    server_records: bool

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def resource_class(self) -> Any:
        return self.info.resource_class

    @property
    def per_user(self) -> bool:
        """Objects private to their user (``UserResource``): the owner alone finds them."""
        return issubclass(self.info.resource_class, UserResource)

    @property
    def shareable(self) -> bool:
        return bool(getattr(self.info.resource_class, "shareable", False))

    def key(self, parents: Mapping[str, Any]) -> tuple[str | None, str]:
        """``(bucket_id, collection_id)`` of the index holding objects with these parent ids."""
        if self.server_records:
            return str(parents["bucket_id"]), str(parents["collection_id"])
        return None, self.name

    def object_uri(self, request: Any, parents: Mapping[str, Any], object_id: str) -> str:
        """The permission URI of one object (``/articles/a1``, ``/buckets/b/collections/c/records/r``)."""
        return str(self.info.resource_class.object_uri(request, {**parents, "id": object_id}))

    def own_read_permissions(self) -> list[str]:
        """The permissions on the object itself that let a principal read it (read and write, usually)."""
        inheritance = getattr(self.info.resource_class, "permission_inheritance", {}).get("read", {})
        return list(inheritance.get("self") or inheritance.get(self.name) or ["read", "write"])


def server_records(registry: Any) -> IndexedResource | None:
    """The Kinto server's record resource, when this application is the Kinto server."""
    info = registered_resources(registry).get("record")
    if info is not None and info.plural_path == SERVER_RECORDS_PATH:
        return IndexedResource(info, server_records=True)
    return None


def indexed_resources(registry: Any) -> dict[str, IndexedResource]:
    """Every resource whose objects are indexed, by resource name."""
    records = server_records(registry)
    if records is not None:
        return {records.name: records}
    wanted = set(as_list(registry.settings.get("kinto_elasticsearch.resources")))
    return {
        name: IndexedResource(info, server_records=False)
        for name, info in registered_resources(registry).items()
        if not wanted or name in wanted
    }


def collection_of(registry: Any, collection_id: str) -> IndexedResource | None:
    """The kinto.core resource searched at ``/search/<collection_id>/`` (by name or plural path), if any."""
    resources = indexed_resources(registry)
    found = resources.get(collection_id)
    if found is not None and not found.server_records:
        return found
    for resource in resources.values():
        if not resource.server_records and resource.info.plural_path.rstrip("/") == f"/{collection_id}":
            return resource
    return None


def bucket_uri(registry: Any, bucket_id: str) -> str:
    """The URI of a Kinto server bucket (``/buckets/b``): the parent id of its collections."""
    return registered_resources(registry)["bucket"].object_uri(id=bucket_id)


def collection_uri(registry: Any, bucket_id: str, collection_id: str) -> str:
    """The URI of a Kinto server collection (``/buckets/b/collections/c``): the parent id of its records."""
    return registered_resources(registry)["collection"].object_uri(bucket_id=bucket_id, id=collection_id)


def is_server_container(registry: Any, resource_name: str) -> bool:
    """Whether ``resource_name`` is one of the Kinto server's containers (bucket, collection...)."""
    return server_records(registry) is not None and resource_name in SERVER_CONTAINERS
