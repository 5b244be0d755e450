"""The route context of resource endpoints: which permission a request needs, and whether it has it.

Permissions are bound to object URIs (``/articles/a1``, ``/buckets/b1``) without
the ``/v1`` prefix. An application declares inheritance on its resource class:

* ``permission_parents(matchdict) -> {resource_name: uri}`` gives the URIs of the
  object's ancestors (a record's bucket and collection);
* ``permission_inheritance = {permission: {resource_name: [permissions]}}`` says
  which permissions on which ancestor (or on the object itself, under its own
  name) grant ``permission``.

Settings ``kinto.<resource_name>_<permission>_principals`` grant a permission on
every object of a resource (``kinto.bucket_create_principals =
system.Authenticated``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any

from kinto.core.settings import principals_of
from kinto.core.storage import InvalidValueError, KintoObject, ObjectKey, PageKey

__all__ = ["DYNAMIC", "SELF", "ResourceContext"]

#: In ``permission_inheritance``, the object itself (whatever the resource's name).
SELF = "self"

#: The permission name given to Pyramid for resource views; the context decides the real one.
DYNAMIC = "dynamic"

_METHOD_PERMISSIONS = {
    ("plural", "GET"): "read",
    ("plural", "HEAD"): "read",
    ("plural", "POST"): "create",
    ("plural", "DELETE"): "write",
    ("object", "GET"): "read",
    ("object", "HEAD"): "read",
    ("object", "PUT"): "write",
    ("object", "PATCH"): "write",
    ("object", "DELETE"): "write",
}


class ResourceContext:
    """Built per request for a resource route (Pyramid ``factory``)."""

    def __init__(self, request: Any, resource_class: Any, endpoint: str) -> None:
        self.request = request
        self.resource_class = resource_class
        self.endpoint = endpoint
        self.resource_name = resource_class.name
        self.required_permission = _METHOD_PERMISSIONS.get((endpoint, request.method), "read")
        # What the permission check finds, for the resource's handlers to act on:
        #: On plural reads by a caller without read on the whole list: the ids it may read.
        self.shared_ids: list[str] | None = None
        #: A ``PUT`` let in because the caller may create: it must not replace an existing object.
        self.allowed_by_create = False
        #: A ``POST`` let in because the caller may read the object it names: it must not create one.
        self.allowed_to_read_only = False
        #: Object permissions read during this request, by URI (shared with the model).
        self.acls: dict[str, dict[str, set[str]]] = {}
        #: Objects read ahead of a read's permission check (``prefetch``), by storage key; None: missing.
        self.objects: dict[ObjectKey, KintoObject | None] = {}
        #: Pages read ahead of a plural read's permission check, with their collection's timestamp.
        self.pages: list[tuple[PageKey, int | None, list[KintoObject]]] = []
        #: Collection timestamps read ahead of a plural read's permission check, by ``(resource_name, parent_id)``.
        self.timestamps: dict[tuple[str, str], int] = {}
        self._object_uri: str | None = None
        self._parent_uris: dict[str, str] | None = None
        self._prefetched = False

    # --- URIs ---------------------------------------------------------------------------------

    def object_uri(self, object_id: str | None = None) -> str:
        if object_id is None and self._object_uri is not None:
            return self._object_uri
        matchdict = dict(self.request.matchdict or {})
        if object_id is not None:
            matchdict["id"] = object_id
        uri = self.resource_class.object_uri(self.request, matchdict)
        if object_id is None:
            self._object_uri = uri
        return uri

    def parent_uris(self) -> dict[str, str]:
        if self._parent_uris is None:
            self._parent_uris = self.resource_class.permission_parents(dict(self.request.matchdict or {}))
        return dict(self._parent_uris)

    # --- permission -------------------------------------------------------------------------

    def bound_permissions(self, permission: str, object_uri: str | None) -> list[tuple[str, str]]:
        """The ``(uri, permission)`` pairs any of which grants ``permission`` on the object."""
        inheritance = self.resource_class.permission_inheritance.get(permission, {})
        parents = self.parent_uris()
        bound: list[tuple[str, str]] = []
        for resource_name, granting in inheritance.items():
            if resource_name in (self.resource_name, SELF):
                uri = object_uri
            else:
                uri = parents.get(resource_name)
            if uri is None:
                continue
            bound.extend((uri, granted) for granted in granting)
        return bound

    def global_principals(self, permission: str) -> set[str]:
        return set(principals_of(self.request.registry.settings.get(f"{self.resource_name}_{permission}_principals")))

    def check_permission(self, principals: list[str], permission: str) -> bool:
        """Pyramid asks here (through the security policy) whether the request may proceed."""
        if permission == DYNAMIC:
            permission = self.required_permission
        return self.resource_class.check_permission(self, principals, permission)

    def has_permission(self, principals: list[str], permission: str, object_uri: str | None) -> bool:
        if set(principals) & self.global_principals(permission):
            return True
        backend = self.request.registry.permission
        bound = self.bound_permissions(permission, object_uri)
        if not bound or backend is None:
            return False
        if any("*" in uri for uri, _ in bound):
            return backend.check_permission(principals, bound)
        # The ACLs of the object and of its ancestors are read together, once per request, and
        # every check of the request is answered from them (the model reuses the object's own).
        self._prefetch([uri for uri, _ in bound])
        held = set(principals)
        return any(held & set(self.acls[uri].get(granted, ())) for uri, granted in bound)

    def has_inherited_permission(self, principals: list[str], permission: str, parents: dict[str, str]) -> bool:
        """Whether ``permission`` comes from the settings or from the ACLs of ``parents`` alone
        (``{resource_name: uri}``): for a request whose object cannot exist, such as one with an
        id that no object can have, whose own URI must not reach a backend."""
        if set(principals) & self.global_principals(permission):
            return True
        backend = self.request.registry.permission
        inheritance = self.resource_class.permission_inheritance.get(permission, {})
        bound = [
            (parents[name], granted)
            for name, granting in inheritance.items()
            if name in parents
            for granted in granting
        ]
        return bool(bound) and backend is not None and backend.check_permission(principals, bound)

    def prefetch(self) -> None:
        """Read, before the permission check of a read, all it needs in one go: the caller's
        principals, the ACLs of the object and its parents, and the objects the resource will read
        (``objects_to_prefetch``). When storage and permission share one client, all of it travels
        in one round trip (see ``StorageBase.prefetch_objects`` and ``PermissionBase.prefetch``).
        A write reads ahead the same way: what its check and its parents need, and the object it
        changes only when storage writes conditionally (otherwise it is read after the lock).
        Nothing is read ahead when the route's ids are invalid (they never reach a backend)."""
        # kinto.core.authorization builds these contexts: imported here, once it is loaded.
        from kinto.core.authorization import keep_user_principals, knows_user_principals, principals_to_read

        if self._prefetched:
            return
        self._prefetched = True
        registry = self.request.registry
        storage, permission = getattr(registry, "storage", None), getattr(registry, "permission", None)
        if storage is None or permission is None:
            return
        if not (getattr(storage, "reads_ahead", False) or getattr(permission, "reads_ahead", False)):
            return  # reading ahead would save no round trip: the views read as they go
        keys = self.resource_class.objects_to_prefetch(self.request, self.endpoint)
        if keys is None:
            return
        reading = self.request.method in ("GET", "HEAD")
        if not reading and not getattr(storage, "writes_conditionally", False):
            # What a write changes is read after its lock: a precondition checks the version
            # overwritten. A storage writing conditionally checks it itself (see
            # ``Resource._write_object``): the object may be read ahead.
            keys = [key for key in keys if key[0] != self.resource_name]
        plural_read = reading and self.endpoint == "plural"
        page = self.resource_class.page_to_prefetch(self.request) if plural_read else None
        locations = self.resource_class.timestamps_to_prefetch(self.request) if plural_read and page is None else []
        userid = self.request.prefixed_userid
        if userid is not None and knows_user_principals(self.request, userid):
            userid = None
        uris = [uri for uri in self._family() if uri not in self.acls]
        with _one_round_trip(storage, permission):
            read_permissions = permission.prefetch(userid, principals_to_read(self.request), uris)
            read_objects = storage.prefetch_objects(keys) if keys else list
            read_page = _page_reader(storage, page)
            read_timestamps = storage.prefetch_timestamps(locations) if locations else list
        principals, acls = read_permissions()
        if userid is not None:
            keep_user_principals(self.request, userid, principals)
        self.acls.update(zip(uris, acls, strict=True))
        self.objects.update(zip(keys, read_objects(), strict=True))
        for location, timestamp in zip(locations, read_timestamps(), strict=True):
            if timestamp is not None:
                self.timestamps[location] = timestamp
        if page is not None and read_page is not None:
            with suppress(InvalidValueError):  # the view answers it, when the caller may read
                self.pages.append((page, *read_page()))

    def _family(self) -> list[str]:
        """The URIs of the object (object endpoints) and of its parents, whose ACLs a check may read."""
        family = [self.object_uri()] if self.endpoint == "object" else []
        return [uri for uri in dict.fromkeys([*family, *self.parent_uris().values()]) if "*" not in uri]

    def _prefetch(self, uris: list[str]) -> None:
        wanted = list(dict.fromkeys(uri for uri in uris if uri not in self.acls))
        if self.endpoint == "object" and wanted:
            # Whatever the first check, the others of this request need the rest of the family.
            wanted = list(dict.fromkeys(wanted + [uri for uri in self._family() if uri not in self.acls]))
        if not wanted:
            return
        found = self.request.registry.permission.get_objects_permissions(wanted)
        for uri, acl in zip(wanted, found, strict=True):
            self.acls[uri] = acl

    def object_permissions(self, uri: str) -> dict[str, set[str]]:
        """The object's permissions, read once per request."""
        if uri not in self.acls:
            self._prefetch([uri])
        return self.acls[uri]

    def accessible_ids(self, principals: list[str], permission: str = "read") -> list[str]:
        """Ids of the objects of this list the principals may ``permission`` one by one."""
        backend = self.request.registry.permission
        if backend is None:
            return []
        pattern = self.object_uri("*")
        inheritance = self.resource_class.permission_inheritance.get(permission, {})
        granting = inheritance.get(self.resource_name) or inheritance.get(SELF) or [permission]
        found = backend.get_accessible_objects(principals, [(pattern, perm) for perm in granting], with_children=False)
        prefix, suffix = pattern.split("*", 1)
        ids = []
        for uri in found:
            if uri.startswith(prefix) and uri.endswith(suffix):
                ids.append(uri[len(prefix) : len(uri) - len(suffix) if suffix else None])
        return sorted(ids)


def _one_round_trip(storage: Any, permission: Any) -> AbstractContextManager[Any]:
    """One statement (``combined()``), or else one pipeline, for the reads of both backends when
    they share a client that offers it (PostgreSQL's, for one database); otherwise each backend
    reads on its own."""
    client = getattr(storage, "client", None)
    if client is None or client is not getattr(permission, "client", None):
        return nullcontext()
    together = getattr(client, "combined", None) or getattr(client, "pipeline", None)
    return together() if together is not None else nullcontext()


def _page_reader(storage: Any, page: PageKey | None) -> Callable[[], tuple[int | None, list[KintoObject]]] | None:
    if page is None:
        return None
    try:
        return storage.prefetch_page(page)
    except InvalidValueError:
        return None
