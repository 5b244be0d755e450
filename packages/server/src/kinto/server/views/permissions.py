"""``GET /v1/permissions``: every object the caller holds a permission on, and which ones.

One entry per object URI, in Kinto's format::

    {"uri": "/buckets/b1/collections/c1", "resource_name": "collection",
     "id": "c1", "bucket_id": "b1", "collection_id": "c1",
     "permissions": ["read", "record:create", "write"]}

Permissions listed are those granted on the object itself (to the caller, its
groups, ``system.Authenticated`` or ``system.Everyone``), by the settings
(``kinto.bucket_create_principals`` gives ``bucket:create`` on the root ``/``,
``kinto.bucket_read_principals`` ``read`` on every bucket...), and what they
imply on the same object (``write`` implies ``read`` and the bucket's
``collection:create``...). Inherited permissions on children are not
expanded: ``write`` on a bucket shows on the bucket only. The list takes the
usual querystring: filters (``resource_name=bucket``,
``exclude_resource_name=record``), ``_sort``, ``_limit`` and pagination.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from kinto.core import resource
from kinto.core.resource import Model, Resource
from kinto.core.settings import as_list
from kinto.core.storage import memory
from pyramid.authorization import Everyone

from kinto.server.views.hierarchy import missing_object

__all__ = ["Permissions", "permission_entries", "register_object_uri"]

#: What a permission implies on the same object.
IMPLIED = {
    "bucket": {"write": {"read", "collection:create", "group:create"}},
    "collection": {"write": {"read", "record:create"}},
    "group": {"write": {"read"}},
    "record": {"write": {"read"}},
}
#: Known object URIs, most specific first.
URI_PATTERNS = (
    ("record", re.compile(r"^/buckets/(?P<bucket_id>[^/]+)/collections/(?P<collection_id>[^/]+)"
                          r"/records/(?P<record_id>[^/]+)$")),
    ("collection", re.compile(r"^/buckets/(?P<bucket_id>[^/]+)/collections/(?P<collection_id>[^/]+)$")),
    ("group", re.compile(r"^/buckets/(?P<bucket_id>[^/]+)/groups/(?P<group_id>[^/]+)$")),
    ("bucket", re.compile(r"^/buckets/(?P<bucket_id>[^/]+)$")),
)


def register_object_uri(resource_name: str, pattern: str, implied: dict[str, set[str]] | None = None) -> None:
    """Let the endpoint list objects of a plugin's resource (``pattern`` names ``<resource_name>_id``).

    ``implied`` says what a permission implies on the same object (``{"write": {"read"}}``).
    """
    compiled = re.compile(pattern)
    global URI_PATTERNS
    if all(name != resource_name for name, _ in URI_PATTERNS):
        URI_PATTERNS = (*URI_PATTERNS, (resource_name, compiled))
    IMPLIED.setdefault(resource_name, {}).update(implied or {})


_SETTING = re.compile(r"^(?:kinto\.)?(bucket|collection|group|record)_(read|write|create)_principals$")
#: ``<child>_create_principals`` is the ``<child>:create`` permission of the parent kind.
_CREATE_ON_PARENT = {"bucket": "root", "collection": "bucket", "group": "bucket", "record": "collection"}


def _describe(uri: str) -> dict[str, Any] | None:
    if uri == "/":
        return {"uri": "/", "resource_name": "root", "id": ""}
    for resource_name, pattern in URI_PATTERNS:
        match = pattern.match(uri)
        if match is not None:
            ids = match.groupdict()
            return {"uri": uri, "resource_name": resource_name, "id": ids[f"{resource_name}_id"], **ids}
    return None


def _from_settings(settings: dict[str, Any], principals: set[str]) -> dict[str, set[str]]:
    """``{resource_name: {permission}}`` the settings grant these principals on every object of a kind."""
    granted: dict[str, set[str]] = {}
    for key, value in settings.items():
        match = _SETTING.match(key)
        if match is None or not principals & set(as_list(value)):
            continue
        resource_name, permission = match.groups()
        if permission == "create":
            resource_name, permission = _CREATE_ON_PARENT[resource_name], f"{resource_name}:create"
        granted.setdefault(resource_name, set()).add(permission)
    return granted


def _objects_of_kind(storage: Any, resource_name: str) -> list[str]:
    buckets = [f"/buckets/{bucket['id']}" for bucket in storage.list_all("bucket", "")]
    if resource_name == "bucket":
        return buckets
    plural = {"collection": "collections", "group": "groups"}.get(resource_name)
    if plural is None:  # records granted by settings are not enumerated (there may be millions)
        return []
    return [f"{uri}/{plural}/{child['id']}" for uri in buckets for child in storage.list_all(resource_name, uri)]


def permission_entries(request: Any) -> list[dict[str, Any]]:
    """The entries of ``GET /v1/permissions`` for the request's caller (unsorted, unfiltered)."""
    principals = set(request.prefixed_principals)
    backend = request.registry.permission
    by_uri: dict[str, set[str]] = {uri: set(perms) for uri, perms in backend.get_accessible_objects(principals).items()}
    for resource_name, perms in _from_settings(request.registry.settings, principals).items():
        uris = ["/"] if resource_name == "root" else _objects_of_kind(request.registry.storage, resource_name)
        for uri in uris:
            by_uri.setdefault(uri, set()).update(perms)
    entries = []
    for uri, perms in by_uri.items():
        entry = _describe(uri)
        if entry is None:
            continue
        expanded = set(perms)
        for granted in perms:
            expanded |= IMPLIED.get(entry["resource_name"], {}).get(granted, set())
        entry["permissions"] = sorted(expanded)
        entries.append(entry)
    return entries


class PermissionsModel(Model):
    """The caller's entries, loaded into a throw-away memory storage to get the usual query semantics."""

    id_field = "uri"

    def __init__(self, request: Any) -> None:
        storage = memory.Storage()
        super().__init__(storage, resource_name="permission", parent_id="")
        for entry in sorted(permission_entries(request), key=lambda item: item["uri"]):
            storage.create("permission", "", entry, id_field="uri")


# kinto.core registers an object route for every resource: this one answers 404, as no such object exists.
@resource.register(name="permissions", plural_path="/permissions", object_path="/permissions/{{id}}",
                   plural_methods=("HEAD", "GET"), object_methods=("GET",))
class Permissions(Resource):
    """The caller's permissions (read-only list, enabled by ``kinto.experimental_permissions_endpoint``)."""

    default_principals: ClassVar[dict[str, tuple[str, ...]]] = {"read": (Everyone,)}

    def __init__(self, request: Any, context: Any = None, **kwargs: Any) -> None:
        super().__init__(request, context=context, **kwargs)
        self.model = PermissionsModel(request)

    def get(self) -> Any:
        raise missing_object("permissions", self.request.matchdict.get("id", ""))

    def present(self, obj: dict[str, Any]) -> dict[str, Any]:
        # The throw-away storage stamps entries; Kinto's entries carry no timestamp.
        return {key: value for key, value in obj.items() if key != "last_modified"}
