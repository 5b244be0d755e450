"""What buckets, collections, groups and records share: living in the bucket hierarchy.

Each object's permission URI is its path without ``/v1`` (``/buckets/b1``,
``/buckets/b1/collections/c1``, ``/buckets/b1/collections/c1/records/r1``,
``/buckets/b1/groups/g1``), and its storage parent id is its parent's URI
(``""`` for buckets). Permissions are inherited downwards along each
class's ``permission_inheritance``.

Kinto behaviours kept here, on top of kinto.core's ``ShareableResource``:

* nobody may create an object unless the settings or a parent allow it (no
  default ``create`` principals);
* a plural endpoint the caller cannot read as a whole lists the objects shared
  with the caller; when none is, only a caller who may create there gets the
  (empty) list, others get 403 (401 when anonymous);
* ``PATCH``/``DELETE`` of a missing object answer 404, not 403, to a caller
  who may read its parent (clients deleting what is already gone expect it);
* the parent of a request must exist (404 naming it), checked after the
  permission, so that nothing leaks to callers without access.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from kinto.core.errors import ERRORS, http_error
from kinto.core.resource import ShareableResource
from kinto.core.settings import as_list
from kinto.core.storage import ObjectNotFoundError
from pyramid import httpexceptions

from kinto.server.ids import NAME_PATTERN

__all__ = ["HierarchicalResource", "bucket_uri", "collection_uri", "missing_object"]

_NAME = re.compile(NAME_PATTERN)


def bucket_uri(bucket_id: str) -> str:
    return f"/buckets/{bucket_id}"


def collection_uri(bucket_id: str, collection_id: str) -> str:
    return f"/buckets/{bucket_id}/collections/{collection_id}"


def missing_object(resource_name: str, object_id: str) -> Exception:
    """Kinto's 404 for an object (or a parent) that does not exist."""
    return http_error(
        httpexceptions.HTTPNotFound(),
        errno=ERRORS.MISSING_RESOURCE,
        message=f"{resource_name.capitalize()} not found",
        details={"id": object_id, "resource_name": resource_name},
    )


class HierarchicalResource(ShareableResource):
    """A shareable resource below ``/buckets``: see the module docstring."""

    default_principals: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: The storage resource name of the parent (``bucket``, ``collection``), ``None`` for buckets.
    parent_resource: ClassVar[str | None] = None
    #: ``{resource_name: [permissions]}`` granting read on the parent (PATCH/DELETE of a missing object).
    parent_read_inheritance: ClassVar[dict[str, list[str]]] = {}

    # --- URIs ----------------------------------------------------------------------------------

    @classmethod
    def permission_parents(cls, matchdict: dict[str, Any]) -> dict[str, str]:
        parents = {}
        if "bucket_id" in matchdict:
            parents["bucket"] = bucket_uri(matchdict["bucket_id"])
        if "collection_id" in matchdict:
            parents["collection"] = collection_uri(matchdict["bucket_id"], matchdict["collection_id"])
        return parents

    @classmethod
    def storage_parent_id(cls, matchdict: dict[str, Any]) -> str:
        """The parent id objects are stored under: the parent's URI, ``""`` at the top."""
        if cls.parent_resource is None:
            return ""
        return cls.permission_parents(matchdict)[cls.parent_resource]

    def get_parent_id(self, request: Any) -> str:
        matchdict = dict(request.matchdict or {})
        self.parent_object = self.load_parent(matchdict)
        return self.storage_parent_id(matchdict)

    def load_parent(self, matchdict: dict[str, Any]) -> dict[str, Any] | None:
        """Read the parent object, or raise 404 when it (or one of its ids) does not exist."""
        if self.parent_resource is None:
            return None
        parent_key = f"{self.parent_resource}_id"
        grandparent = "" if self.parent_resource == "bucket" else bucket_uri(matchdict["bucket_id"])
        try:
            return self.request.registry.storage.get(self.parent_resource, grandparent, matchdict[parent_key])
        except ObjectNotFoundError:
            raise missing_object(self.parent_resource, matchdict[parent_key]) from None

    # --- permissions -------------------------------------------------------------------------

    @classmethod
    def check_permission(cls, context: Any, principals: list[str], permission: str) -> bool:
        cls._check_ids(dict(context.request.matchdict or {}))
        allowed = super().check_permission(context, principals, permission)
        if context.endpoint == "plural":
            if allowed and context.shared_ids == []:
                return cls._may_create(context, principals)
            return allowed
        if not allowed and permission == "write" and context.request.method in ("PATCH", "DELETE"):
            return cls._may_read_parent(context, principals) and not cls._object_exists(context)
        return allowed

    @classmethod
    def _check_ids(cls, matchdict: dict[str, Any]) -> None:
        """Ids that no object can have are answered before any backend sees them (a NUL would 503 there)."""
        for key in ("bucket_id", "collection_id"):
            if key in matchdict and not _NAME.match(matchdict[key]):
                raise missing_object(key[: -len("_id")], matchdict[key])
        object_id = matchdict.get("id")
        if object_id is not None and not _NAME.match(object_id):
            raise http_error(
                httpexceptions.HTTPBadRequest(),
                errno=ERRORS.INVALID_RESOURCE_ID,
                message="id in path: Invalid object id",
                details=[{"location": "path", "name": "id", "description": "Invalid object id"}],
            )

    @classmethod
    def _may_read_parent(cls, context: Any, principals: list[str]) -> bool:
        if cls.parent_resource is None:
            return False
        settings = context.request.registry.settings
        key = f"{cls.parent_resource}_read_principals"
        if set(principals) & set(as_list(settings.get(key) or settings.get("kinto." + key))):
            return True
        parents = cls.permission_parents(dict(context.request.matchdict or {}))
        bound = [(parents[name], granted) for name, grants in cls.parent_read_inheritance.items()
                 for granted in grants if name in parents]
        backend = context.request.registry.permission
        return bool(bound) and backend is not None and backend.check_permission(principals, bound)

    @classmethod
    def _object_exists(cls, context: Any) -> bool:
        matchdict = dict(context.request.matchdict or {})
        if not _NAME.match(matchdict.get("id", "")):
            return False
        try:
            context.request.registry.storage.get(cls.name, cls.storage_parent_id(matchdict), matchdict["id"])
        except ObjectNotFoundError:
            return False
        return True
