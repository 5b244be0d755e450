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
Entries carry no timestamp: by default they come by descending ``uri``, and
timestamp filters (``_since``, ``_before``) are ignored, as in Kinto.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from kinto.core import resource
from kinto.core.resource import Model, Resource
from kinto.core.settings import as_list
from kinto.core.storage import MISSING, Filter, Sort
from kinto.core.storage import query as q
from kinto.core.storage.timestamps import now_ms
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
    (
        "record",
        re.compile(
            r"^/buckets/(?P<bucket_id>[^/]+)/collections/(?P<collection_id>[^/]+)"
            r"/records/(?P<record_id>[^/]+)$"
        ),
    ),
    ("collection", re.compile(r"^/buckets/(?P<bucket_id>[^/]+)/collections/(?P<collection_id>[^/]+)$")),
    ("group", re.compile(r"^/buckets/(?P<bucket_id>[^/]+)/groups/(?P<group_id>[^/]+)$")),
    ("bucket", re.compile(r"^/buckets/(?P<bucket_id>[^/]+)$")),
)


#: Where an application's plugin kinds are kept in its registry (see ``register_object_uri``).
_PLUGIN_KINDS = "kinto.server.permissions.plugin_kinds"


def register_object_uri(
    registry: Any, resource_name: str, pattern: str, implied: dict[str, set[str]] | None = None
) -> None:
    """Let this application's endpoint list objects of a plugin's resource (``pattern`` names
    ``<resource_name>_id``); ``implied`` says what a permission implies on the same object
    (``{"write": {"read"}}``)."""
    registry.setdefault(_PLUGIN_KINDS, {})[resource_name] = (re.compile(pattern), dict(implied or {}))


def _kinds(registry: Any) -> tuple[tuple[tuple[str, re.Pattern[str]], ...], dict[str, dict[str, set[str]]]]:
    """The URI patterns (most specific first) and implied permissions of the Kinto API plus the plugins'."""
    plugins = registry.get(_PLUGIN_KINDS, {})
    patterns = (*URI_PATTERNS, *((name, pattern) for name, (pattern, _) in plugins.items()))
    return patterns, {**IMPLIED, **{name: implied for name, (_, implied) in plugins.items()}}


_SETTING = re.compile(r"^(?:kinto\.)?(bucket|collection|group|record)_(read|write|create)_principals$")
#: ``<child>_create_principals`` is the ``<child>:create`` permission of the parent kind.
_CREATE_ON_PARENT = {"bucket": "root", "collection": "bucket", "group": "bucket", "record": "collection"}


def _describe(uri: str, patterns: tuple[tuple[str, re.Pattern[str]], ...]) -> dict[str, Any] | None:
    if uri == "/":
        return {"uri": "/", "resource_name": "root", "id": ""}
    for resource_name, pattern in patterns:
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
    patterns, implied = _kinds(request.registry)
    entries = []
    for uri, perms in by_uri.items():
        entry = _describe(uri, patterns)
        if entry is None:
            continue
        expanded = set(perms)
        for granted in perms:
            expanded |= implied.get(entry["resource_name"], {}).get(granted, set())
        entry["permissions"] = sorted(expanded)
        entries.append(entry)
    return entries


def _sort_key(field: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    """The storage contract's sort key of ``field`` (entries are flat: a dotted path is rare)."""
    if "." in field:
        return lambda entry: q.sort_key(q.field_value(entry, field))
    return lambda entry: q.sort_key(entry.get(field, MISSING))


class PermissionsModel(Model):
    """The caller's entries, computed per request, with the storage contract's filters, sorting and pagination.

    Entries have no timestamp (Kinto's have none either): keyset pagination
    works on the sort fields and ``uri``, whose values are the same on every
    request, so a page starts right after the previous one. The default sort
    on ``last_modified`` compares equal for every entry and leaves the order to
    the ``uri`` tie-breaker, descending, as Kinto lists them.
    """

    id_field = "uri"

    def __init__(self, request: Any) -> None:
        super().__init__(None, resource_name="permission", parent_id="")
        self.entries = permission_entries(request)

    def timestamp(self, parent_id: str | None = None) -> int:
        # No change counter covers permissions: a fresh value never lets a cache answer a stale list.
        return now_ms()

    def _matching(self, filters: list[Filter] | None) -> list[dict[str, Any]]:
        # Filters on a timestamp entries lack (``_since``, ``_before``) are ignored, as Kinto does.
        kept = [
            q.normalize_filter(f, self.id_field, self.modified_field)
            for f in filters or []
            if f.field != self.modified_field
        ]
        accept = q.compile_filters(kept)
        return self.entries if accept is None else [entry for entry in self.entries if accept(entry)]

    def get_objects(
        self,
        filters: list[Filter] | None = None,
        sorting: list[Sort] | None = None,
        pagination_rules: list[list[Filter]] | None = None,
        limit: int | None = None,
        include_deleted: bool = False,
        parent_id: str | None = None,
    ) -> list[dict[str, Any]]:
        found = self._matching(filters)
        if pagination_rules:
            rules = [
                [q.normalize_filter(f, self.id_field, self.modified_field) for f in rule] for rule in pagination_rules
            ]
            found = [entry for entry in found if q.matches_any_rule(entry, rules)]
        # One stable sort per key, the least significant first.
        for field, direction in reversed(q.sorting_with_tie_breaker(sorting, self.id_field)):
            found = sorted(found, key=_sort_key(field), reverse=direction < 0)
        return found[:limit] if limit else found

    def count_objects(self, filters: list[Filter] | None = None, parent_id: str | None = None) -> int:
        return len(self._matching(filters))


# kinto.core registers an object route for every resource: this one answers 404, as no such object exists.
@resource.register(
    name="permissions",
    plural_path="/permissions",
    object_path="/permissions/{{id}}",
    plural_methods=("HEAD", "GET"),
    object_methods=("GET",),
)
class Permissions(Resource):
    """The caller's permissions (read-only list, enabled by ``kinto.experimental_permissions_endpoint``)."""

    default_principals: ClassVar[dict[str, tuple[str, ...]]] = {"read": (Everyone,)}

    def __init__(self, request: Any, context: Any = None, **kwargs: Any) -> None:
        super().__init__(request, context=context, **kwargs)
        self.model = PermissionsModel(request)

    def get(self) -> Any:
        raise missing_object("permissions", self.request.matchdict.get("id", ""))
