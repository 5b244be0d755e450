"""What buckets, collections, groups and records share: living in the bucket hierarchy.

Each object's permission URI is its path without ``/v1`` (``/buckets/b1``,
``/buckets/b1/collections/c1``, ``/buckets/b1/collections/c1/records/r1``,
``/buckets/b1/groups/g1``), and its storage parent id is its parent's URI
(``""`` for buckets). Permissions are inherited downwards along each
class's ``permission_inheritance``.

kinto.core's ``ShareableResource`` already answers as Kinto does for lists a
caller cannot read as a whole (the objects shared one by one; 401/403 when
there are none and the caller may not create) and for missing objects (404 to
a caller who may read the parent). Kinto behaviours added here:

* nobody may create an object unless the settings or a parent allow it (no
  default ``create`` principals);
* ``PUT`` of a missing object by a caller who may read the parent but not
  create is a 403 (creating needs ``create``), not a 404;
* ids that no object can have (``-x``, a NUL, a final newline, more than
  ``id_max_length`` characters) never reach a backend: 400 for the object's
  id, 404 for a parent's, to callers whom the settings or the valid ancestors
  allow the request (401/403 to others); a write with an invalid parent id is
  a 404 whoever asks, as Kinto reads the parent before the permission;
* the parent of a request must exist (404 naming it), checked after the
  permission, so that nothing leaks to callers without access.
"""

from __future__ import annotations

import functools
import re
from typing import Any, ClassVar

from kinto.core.errors import ERRORS, http_error
from kinto.core.resource import ShareableResource
from kinto.core.storage import ObjectKey, ObjectNotFoundError
from pyramid import httpexceptions

from kinto.server.ids import NAME_PATTERN
from kinto.server.views.validation import schema_validation_enabled

__all__ = ["HierarchicalResource", "bucket_uri", "collection_uri", "missing_object"]

_NAME = re.compile(NAME_PATTERN)
#: The ids an ancestor's URI is made of, by the ancestor's resource name.
_ANCESTOR_IDS = {"bucket": ("bucket_id",), "collection": ("bucket_id", "collection_id")}


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

    @classmethod
    def parent_key(cls, matchdict: dict[str, Any]) -> ObjectKey | None:
        """Where the parent object is stored (None for buckets)."""
        if cls.parent_resource is None:
            return None
        grandparent = "" if cls.parent_resource == "bucket" else bucket_uri(matchdict["bucket_id"])
        return (cls.parent_resource, grandparent, matchdict[f"{cls.parent_resource}_id"])

    @classmethod
    def objects_to_prefetch(cls, request: Any, endpoint: str) -> list[ObjectKey] | None:
        """The parent; the object itself on object endpoints (a write leaves it out unless storage
        writes conditionally); the bucket on writes below a collection that schema validation may
        check against it (``bucket_object``)."""
        keys = super().objects_to_prefetch(request, endpoint)
        matchdict = dict(request.matchdict or {})
        if keys is None or cls._invalid_parent_ids(request.registry.settings, matchdict):
            return None
        parent = cls.parent_key(matchdict)
        keys = [parent] if parent is not None else []
        if endpoint == "object":
            keys.append((cls.name, cls.storage_parent_id(matchdict), matchdict["id"]))
        writing = request.method not in ("GET", "HEAD")
        if writing and cls.parent_resource == "collection" and schema_validation_enabled(request.registry.settings):
            keys.append(("bucket", "", matchdict["bucket_id"]))
        return keys

    @classmethod
    def timestamps_to_prefetch(cls, request: Any) -> list[tuple[str, str]]:
        """The listed collection's: on PostgreSQL the ETag of a list then costs no statement of its own."""
        matchdict = dict(request.matchdict or {})
        if cls._invalid_parent_ids(request.registry.settings, matchdict):
            return []
        return [(cls.name, cls.storage_parent_id(matchdict))]

    def get_parent_id(self, request: Any) -> str:
        matchdict = dict(request.matchdict or {})
        self.parent_object = self.load_parent(matchdict)
        return self.storage_parent_id(matchdict)

    def load_parent(self, matchdict: dict[str, Any]) -> dict[str, Any] | None:
        """Read the parent object, or raise 404 when it (or one of its ids) does not exist."""
        key = self.parent_key(matchdict)
        if key is None:
            return None
        found = self._stored(key)
        if found is None:
            raise missing_object(self.parent_resource, key[2])
        return found

    def _stored(self, key: ObjectKey) -> dict[str, Any] | None:
        """The object stored at ``key`` (None when missing): as read ahead, else read now."""
        prefetched = self.route_context.objects if self.route_context is not None else {}
        if key in prefetched:
            found = prefetched[key]
            return None if found is None else dict(found)
        try:
            return self.request.registry.storage.get(*key)
        except ObjectNotFoundError:
            return None

    @functools.cached_property
    def bucket_object(self) -> dict[str, Any] | None:
        """The bucket of the request's objects, read once per request (None for buckets, or when missing)."""
        if self.parent_resource == "bucket":
            return self.parent_object
        if self.parent_resource is None:
            return None
        return self._stored(("bucket", "", self.request.matchdict["bucket_id"]))

    # --- permissions -------------------------------------------------------------------------

    @classmethod
    def check_permission(cls, context: Any, principals: list[str], permission: str) -> bool:
        request = context.request
        matchdict = dict(request.matchdict or {})
        invalid = cls._invalid_parent_ids(request.registry.settings, matchdict)
        if not invalid:
            return super().check_permission(context, principals, permission)  # an invalid object id too
        missing = missing_object(invalid[0][: -len("_id")], matchdict[invalid[0]])
        if request.method not in ("GET", "HEAD"):
            raise missing  # as Kinto, which reads the parent of a write before it checks the permission
        # Nothing is stored under an invalid id: only the settings and the valid ancestors can
        # grant the read. Who has it learns that the parent is missing; others get a 401/403.
        parents = {
            name: uri
            for name, uri in cls.permission_parents(matchdict).items()
            if not any(key in invalid for key in _ANCESTOR_IDS[name])
        }
        if not cls.allowed_without_object(context, principals, permission, parents):
            return False
        raise missing

    @classmethod
    def _invalid_parent_ids(cls, settings: dict[str, Any], matchdict: dict[str, Any]) -> list[str]:
        """The parent ids of the path that no object can have: never sent to a backend."""
        max_length = settings["id_max_length"]
        return [
            key
            for key in ("bucket_id", "collection_id")
            if key in matchdict and not (len(matchdict[key]) <= max_length and _NAME.fullmatch(matchdict[key]))
        ]
