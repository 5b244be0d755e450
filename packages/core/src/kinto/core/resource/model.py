"""``Model``: the storage access for one resource, scoped to one parent.

The resource framework calls the documented seed names (``create_record``,
``get_record``, ``update_record``, ``delete_record``, ``get_records``,
``delete_records``); the ``*_object(s)`` names are the same operations. A
subclass may override either spelling: the framework calls whichever the
subclass overrode (see ``call_model``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kinto.core.storage import (
    DEFAULT_DELETED_FIELD,
    DEFAULT_ID_FIELD,
    DEFAULT_MODIFIED_FIELD,
    Filter,
    KintoObject,
    ObjectKey,
    ObjectNotFoundError,
    PageKey,
    Sort,
)

__all__ = ["Model", "ShareableModel", "call_model", "writes_conditionally"]

# framework operation -> (seed name, newer name)
_OPERATIONS = {
    "create": ("create_record", "create_object"),
    "get": ("get_record", "get_object"),
    "update": ("update_record", "update_object"),
    "delete": ("delete_record", "delete_object"),
    "list": ("get_records", "get_objects"),
    "delete_many": ("delete_records", "delete_objects"),
}


def call_model(model: Model, operation: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``operation`` through whichever name the most derived class defines (seed name on a tie)."""
    seed, newer = _OPERATIONS[operation]
    for cls in type(model).__mro__:
        if seed in cls.__dict__:
            return getattr(model, seed)(*args, **kwargs)
        if newer in cls.__dict__:
            return getattr(model, newer)(*args, **kwargs)
    return getattr(model, seed)(*args, **kwargs)


def _overrides_create(model_class: type) -> bool:
    """Whether a class below the core's models defines how one object is created."""
    for cls in model_class.__mro__:
        if "create_record" in cls.__dict__ or "create_object" in cls.__dict__:
            return cls not in (Model, ShareableModel)
    return False


#: The names through which a model writes one object or several.
_WRITES = tuple(name for operation in ("create", "update", "delete", "delete_many") for name in _OPERATIONS[operation])


def writes_conditionally(model: Model) -> bool:
    """Whether ``model`` writes over an object only at the version in ``expected_versions``.

    True when its storage declares ``writes_conditionally`` and each class of the model below the
    core's that overrides a write either calls ``super()`` for it and says so
    (``passes_expected_versions = True``), or does not exist: an override writing to storage on its
    own would drop the condition, and the resource then locks the collection instead.
    """
    if not getattr(model.storage, "writes_conditionally", False):
        return False
    for cls in type(model).__mro__:
        if cls in (Model, ShareableModel):
            return True
        if any(name in cls.__dict__ for name in _WRITES) and not cls.__dict__.get("passes_expected_versions", False):
            return False
    return True


def _same_id(object_id: str) -> str:
    return object_id


class Model:
    """Storage access for one resource; ``parent_id`` scopes every call."""

    id_field = DEFAULT_ID_FIELD
    modified_field = DEFAULT_MODIFIED_FIELD
    deleted_field = DEFAULT_DELETED_FIELD
    #: A subclass overriding a write, and calling ``super()`` for it, sets this to True so that its
    #: writes may stay conditional (see :func:`writes_conditionally`).
    passes_expected_versions = False

    def __init__(
        self,
        storage: Any,
        permission: Any = None,
        id_generator: Callable[[], str] | None = None,
        resource_name: str = "",
        parent_id: str = "",
        current_principal: str | None = None,
        prefixed_principals: list[str] | None = None,
        explicit_permissions: bool = True,
        permission_object_id: Callable[[str], str] | None = None,
        permissions_cache: dict[str, dict[str, set[str]]] | None = None,
        prefetched_objects: dict[ObjectKey, KintoObject | None] | None = None,
        prefetched_pages: list[tuple[PageKey, int | None, list[KintoObject]]] | None = None,
        prefetched_timestamps: dict[tuple[str, str], int] | None = None,
        **kwargs: Any,
    ) -> None:
        """``permission_object_id`` maps an object id to its permission URI (Kinto's attribute
        ``get_permission_object_id``; the id itself by default); ``permissions_cache`` holds the
        object permissions already read in this request, by URI (None: none kept);
        ``prefetched_objects`` the objects read ahead of a read's permission check, by storage key
        (None: missing), which ``get_record`` answers from; ``prefetched_pages`` the pages read
        ahead, with their collection's timestamp, which ``get_records`` and ``timestamp`` answer from;
        ``prefetched_timestamps`` collection timestamps read ahead, by ``(resource_name, parent_id)``,
        which ``timestamp`` answers from."""
        self.storage = storage
        self.permission = permission
        self.id_generator = id_generator
        self.resource_name = resource_name
        self.parent_id = parent_id
        self.current_principal = current_principal
        self.prefixed_principals = prefixed_principals or []
        # ``explicit_perm`` is Kinto's name of the same option.
        self.explicit_permissions = bool(kwargs.get("explicit_perm", explicit_permissions))
        self.get_permission_object_id: Callable[[str], str] = permission_object_id or _same_id
        self.permissions_cache = permissions_cache
        self.prefetched_objects = prefetched_objects or {}
        self.prefetched_pages = prefetched_pages or []
        self.prefetched_timestamps = prefetched_timestamps or {}
        #: The version (``last_modified``) an update or a delete of an object must find, by object
        #: id: the resources set it when they write without the collection's lock; the next write
        #: of that object takes it (``if_last_modified``) and storage refuses it with
        #: ``ObjectChangedError`` if the object changed meanwhile.
        self.expected_versions: dict[str, int] = {}

    def _where(self, parent_id: str | None) -> tuple[str, str]:
        """The ``(resource_name, parent_id)`` every storage call starts with (this model's parent by default)."""
        return self.resource_name, parent_id or self.parent_id

    def _field_names(self, deleted: bool = False) -> dict[str, str]:
        """The field names storage calls take: id and timestamp (and the tombstone flag when ``deleted``)."""
        names = {"id_field": self.id_field, "modified_field": self.modified_field}
        if deleted:
            names["deleted_field"] = self.deleted_field
        return names

    # --- reads --------------------------------------------------------------------------------

    def timestamp(self, parent_id: str | None = None) -> int:
        location = (self.resource_name, parent_id or self.parent_id)
        if location in self.prefetched_timestamps:
            return self.prefetched_timestamps[location]
        for page, timestamp, _ in self.prefetched_pages:
            if page[:2] == location and timestamp is not None:
                return timestamp
        return self.storage.resource_timestamp(*location)

    def get_records(
        self,
        filters: list[Filter] | None = None,
        sorting: list[Sort] | None = None,
        pagination_rules: list[list[Filter]] | None = None,
        limit: int | None = None,
        include_deleted: bool = False,
        parent_id: str | None = None,
    ) -> list[KintoObject]:
        wanted = (
            *self._where(parent_id),
            filters,
            sorting,
            pagination_rules,
            limit,
            include_deleted,
        )
        for page, _, objects in self.prefetched_pages:
            if page == wanted and self._default_fields():
                return [dict(obj) for obj in objects]
        return self.storage.list_all(
            *self._where(parent_id),
            filters=filters,
            sorting=sorting,
            pagination_rules=pagination_rules,
            limit=limit,
            include_deleted=include_deleted,
            **self._field_names(deleted=True),
        )

    def get_objects(self, *args: Any, **kwargs: Any) -> list[KintoObject]:
        return self.get_records(*args, **kwargs)

    def count_objects(self, filters: list[Filter] | None = None, parent_id: str | None = None) -> int:
        return self.storage.count_all(
            *self._where(parent_id),
            filters=filters,
            **self._field_names(deleted=True),
        )

    def get_record(self, record_id: str, parent_id: str | None = None) -> KintoObject:
        key = (self.resource_name, parent_id or self.parent_id, record_id)
        if self._default_fields() and key in self.prefetched_objects:
            found = self.prefetched_objects[key]
            if found is None:
                raise ObjectNotFoundError(record_id)
            return dict(found)
        return self.storage.get(
            *self._where(parent_id),
            record_id,
            **self._field_names(),
        )

    def _default_fields(self) -> bool:
        """Whether objects read ahead (with the default fields) are this model's objects."""
        defaults = (DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD, DEFAULT_DELETED_FIELD)
        return (self.id_field, self.modified_field, self.deleted_field) == defaults

    def get_object(self, object_id: str, parent_id: str | None = None) -> KintoObject:
        return self.get_record(object_id, parent_id=parent_id)

    # --- writes -------------------------------------------------------------------------------

    def create_record(self, record: KintoObject, parent_id: str | None = None) -> KintoObject:
        return self.storage.create(
            *self._where(parent_id),
            record,
            id_generator=self.id_generator,
            **self._field_names(),
        )

    def create_object(self, obj: KintoObject, parent_id: str | None = None) -> KintoObject:
        return self.create_record(obj, parent_id=parent_id)

    def create_objects(self, objects: list[KintoObject], parent_id: str | None = None) -> list[KintoObject]:
        """Create ``objects`` in this order, as that many ``create_record`` calls would, and return them.

        Written together (``StorageBase.create_many``), unless a subclass overrides
        ``create_record`` or ``create_object``: its override then gets each object in turn.
        """
        if _overrides_create(type(self)):
            return [call_model(self, "create", obj, parent_id=parent_id) for obj in objects]
        return self._create_many(objects, parent_id or self.parent_id)

    def _create_many(self, objects: list[KintoObject], parent_id: str) -> list[KintoObject]:
        return self.storage.create_many(
            self.resource_name,
            parent_id,
            objects,
            id_generator=self.id_generator,
            **self._field_names(),
        )

    def _condition(self, object_id: str) -> dict[str, int]:
        """The ``if_last_modified`` of the next write of ``object_id``, if one is expected."""
        version = self.expected_versions.pop(object_id, None)
        return {} if version is None else {"if_last_modified": version}

    def update_record(self, record: KintoObject, parent_id: str | None = None) -> KintoObject:
        return self.storage.update(
            *self._where(parent_id),
            record[self.id_field],
            record,
            **self._field_names(),
            **self._condition(record[self.id_field]),
        )

    def update_object(self, obj: KintoObject, parent_id: str | None = None) -> KintoObject:
        return self.update_record(obj, parent_id=parent_id)

    def delete_record(
        self, record: KintoObject, parent_id: str | None = None, last_modified: int | None = None
    ) -> KintoObject:
        return self.storage.delete(
            *self._where(parent_id),
            record[self.id_field],
            **self._field_names(deleted=True),
            last_modified=last_modified,
            **self._condition(record[self.id_field]),
        )

    def delete_object(
        self, obj: KintoObject, parent_id: str | None = None, last_modified: int | None = None
    ) -> KintoObject:
        return self.delete_record(obj, parent_id=parent_id, last_modified=last_modified)

    def delete_records(
        self,
        filters: list[Filter] | None = None,
        sorting: list[Sort] | None = None,
        pagination_rules: list[list[Filter]] | None = None,
        limit: int | None = None,
        parent_id: str | None = None,
    ) -> list[KintoObject]:
        return self.storage.delete_all(
            *self._where(parent_id),
            filters=filters,
            sorting=sorting,
            pagination_rules=pagination_rules,
            limit=limit,
            **self._field_names(deleted=True),
        )

    def delete_objects(self, *args: Any, **kwargs: Any) -> list[KintoObject]:
        return self.delete_records(*args, **kwargs)


class ShareableModel(Model):
    """A model whose objects carry permissions, kept in the permission backend.

    Objects given to ``create``/``update`` may hold their permissions under
    ``permissions_field``: they replace the object's whole ACL (a permission
    not named is revoked from everyone); without that field an update keeps
    the ACL. The writer (``current_principal``) always gets ``write``, unless
    the ``explicit_permissions`` setting is false (then only inheritance
    grants it). The objects returned hold the ACL stored, under the same field.
    """

    permissions_field = "__permissions__"

    def _object_permissions(self, uri: str) -> dict[str, set[str]]:
        cache = self.permissions_cache
        if cache is None:
            return self.permission.get_object_permissions(uri)
        acl = cache.get(uri)
        if acl is None:
            acl = cache[uri] = self.permission.get_object_permissions(uri)
        return acl

    def _forget_permissions(self, *uris: str) -> None:
        if self.permissions_cache is not None:
            for uri in uris:
                self.permissions_cache.pop(uri, None)

    def _split(self, obj: KintoObject) -> tuple[KintoObject, dict[str, list[str]] | None]:
        obj = dict(obj)
        permissions = obj.pop(self.permissions_field, None)
        return obj, permissions

    def _save_permissions(
        self, object_id: str, permissions: dict[str, list[str]] | None, created: bool
    ) -> dict[str, list[str]]:
        """Store the object's ACL (see the class docstring) and return it, empty permissions left out."""
        uri = self.get_permission_object_id(object_id)
        # A new object has no ACL yet: its permissions were deleted with any former object of that id.
        current = (
            {} if created else {perm: set(principals) for perm, principals in self._object_permissions(uri).items()}
        )
        source = current if permissions is None else permissions
        wanted = {perm: set(principals) for perm, principals in source.items()}
        if self.current_principal and self.explicit_permissions:
            wanted.setdefault("write", set()).add(self.current_principal)
        # The backend replaces the permissions it is given: the ones dropped are given empty.
        changes = {perm: wanted.get(perm, set()) for perm in {*current, *wanted}}
        changes = {perm: principals for perm, principals in changes.items() if principals != current.get(perm, set())}
        if changes:
            self.permission.replace_object_permissions(uri, changes)
            self._forget_permissions(uri)
        return {perm: sorted(principals) for perm, principals in wanted.items() if principals}

    def _with_permissions(self, obj: KintoObject) -> KintoObject:
        uri = self.get_permission_object_id(obj[self.id_field])
        permissions = self._object_permissions(uri)
        return {**obj, self.permissions_field: {k: sorted(v) for k, v in permissions.items() if v}}

    def get_record(self, record_id: str, parent_id: str | None = None) -> KintoObject:
        return self._with_permissions(super().get_record(record_id, parent_id=parent_id))

    def create_record(self, record: KintoObject, parent_id: str | None = None) -> KintoObject:
        data, permissions = self._split(record)
        created = super().create_record(data, parent_id=parent_id)
        saved = self._save_permissions(created[self.id_field], permissions, created=True)
        return {**created, self.permissions_field: saved}

    def _create_many(self, objects: list[KintoObject], parent_id: str) -> list[KintoObject]:
        split = [self._split(obj) for obj in objects]
        created = super()._create_many([data for data, _ in split], parent_id)
        acls = [self._new_acl(permissions) for _, permissions in split]
        entries = [
            (self.get_permission_object_id(obj[self.id_field]), permission, principal)
            for obj, acl in zip(created, acls, strict=True)
            for permission, principals in acl.items()
            for principal in principals
        ]
        if entries and getattr(self.permission, "supports_copy", False):
            # New objects hold no ACL (it went with any former object of their id): adding is
            # replacing, in one multi-row statement.
            self.permission.import_permissions(access_control_entries=entries)
        elif entries:
            for obj, acl in zip(created, acls, strict=True):
                self.permission.replace_object_permissions(self.get_permission_object_id(obj[self.id_field]), acl)
        self._forget_permissions(*(self.get_permission_object_id(obj[self.id_field]) for obj in created))
        return [{**obj, self.permissions_field: acl} for obj, acl in zip(created, acls, strict=True)]

    def _new_acl(self, permissions: dict[str, list[str]] | None) -> dict[str, list[str]]:
        """The ACL of a new object given ``permissions`` (see the class docstring), empty ones left out."""
        wanted = {perm: set(principals) for perm, principals in (permissions or {}).items()}
        if self.current_principal and self.explicit_permissions:
            wanted.setdefault("write", set()).add(self.current_principal)
        return {perm: sorted(principals) for perm, principals in wanted.items() if principals}

    def update_record(self, record: KintoObject, parent_id: str | None = None) -> KintoObject:
        data, permissions = self._split(record)
        updated = super().update_record(data, parent_id=parent_id)
        saved = self._save_permissions(updated[self.id_field], permissions, created=False)
        return {**updated, self.permissions_field: saved}

    def delete_record(
        self, record: KintoObject, parent_id: str | None = None, last_modified: int | None = None
    ) -> KintoObject:
        tombstone = super().delete_record(record, parent_id=parent_id, last_modified=last_modified)
        uri = self.get_permission_object_id(record[self.id_field])
        self.permission.delete_object_permissions(uri)
        self._forget_permissions(uri)
        return tombstone

    def delete_records(self, *args: Any, **kwargs: Any) -> list[KintoObject]:
        tombstones = super().delete_records(*args, **kwargs)
        uris = [self.get_permission_object_id(obj[self.id_field]) for obj in tombstones]
        if uris:
            self.permission.delete_object_permissions(*uris)
            self._forget_permissions(*uris)
        return tombstones
