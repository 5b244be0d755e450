"""``/buckets/{bucket_id}/groups``: named sets of principals, usable in any permission of the bucket.

A group's URI (``/buckets/b1/groups/g1``) is a principal: its members hold it
(kept in the permission backend as user principals, updated on every write),
so granting ``read`` to ``/buckets/b1/groups/g1`` grants it to every member.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kinto.core import resource
from kinto.core.errors import raise_invalid
from kinto.core.resource import ShareableModel
from kinto.core.storage import ObjectNotFoundError

from kinto.server.views.hierarchy import HierarchicalResource
from kinto.server.views.validation import validate_from_bucket

KintoObject = dict[str, Any]


class GroupModel(ShareableModel):
    """Keeps the members' user principals in step with the stored groups."""

    passes_expected_versions = True  # its writes go through the core's (super())

    def _members(self, obj: KintoObject | None) -> set[str]:
        return set((obj or {}).get("members") or [])

    def create_record(self, record: KintoObject, parent_id: str | None = None) -> KintoObject:
        created = super().create_record(record, parent_id=parent_id)
        self._sync(created[self.id_field], set(), self._members(created))
        return created

    def update_record(self, record: KintoObject, parent_id: str | None = None) -> KintoObject:
        try:
            before = self.storage.get(self.resource_name, parent_id or self.parent_id, record[self.id_field])
        except ObjectNotFoundError:  # an upsert of a group never stored: no member to remove
            before = None
        updated = super().update_record(record, parent_id=parent_id)
        self._sync(updated[self.id_field], self._members(before), self._members(updated))
        return updated

    def delete_record(
        self, record: KintoObject, parent_id: str | None = None, last_modified: int | None = None
    ) -> KintoObject:
        tombstone = super().delete_record(record, parent_id=parent_id, last_modified=last_modified)
        self.permission.remove_principal(self.get_permission_object_id(record[self.id_field]))
        return tombstone

    def delete_records(self, *args: Any, **kwargs: Any) -> list[KintoObject]:
        tombstones = super().delete_records(*args, **kwargs)
        for tombstone in tombstones:
            self.permission.remove_principal(self.get_permission_object_id(tombstone[self.id_field]))
        return tombstones

    def _sync(self, group_id: str, before: set[str], after: set[str]) -> None:
        principal = self.get_permission_object_id(group_id)
        for member in sorted(after - before):
            self.permission.add_user_principal(member, principal)
        for member in sorted(before - after):
            self.permission.remove_user_principal(member, principal)


@resource.register(
    name="group",
    plural_path="/buckets/{{bucket_id}}/groups",
    object_path="/buckets/{{bucket_id}}/groups/{{id}}",
)
class Group(HierarchicalResource):
    """Groups: ``members`` lists user ids (``basicauth:...``, ``fxa:...``, ``system.Authenticated``)."""

    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"members": {"type": "array", "items": {"type": "string", "minLength": 1}}},
    }
    default_model = GroupModel
    parent_resource = "bucket"
    permission_inheritance: ClassVar[dict[str, dict[str, list[str]]]] = {
        "read": {"bucket": ["write", "read"], "group": ["write", "read"]},
        "write": {"bucket": ["write"], "group": ["write"]},
        "create": {"bucket": ["write", "group:create"]},
    }

    def process_object(self, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
        new = {**new, "members": new.get("members", [])}
        members = new["members"]
        if isinstance(members, list):
            for index, member in enumerate(members):
                if isinstance(member, str) and (member.startswith("/buckets/") or member == "system.Everyone"):
                    raise_invalid(
                        self.request,
                        name=f"data.members.{index}",
                        description=f"{member!r} is not a user id (groups cannot contain groups nor system.Everyone)",
                    )
        validate_from_bucket(self, new, "group")
        return new
