"""The permission contract: the object and the principals of users."""

from __future__ import annotations

import pytest

from kinto.core.permission import PermissionBase
from kinto.core.testing.permission.base import (
    BUCKET,
    PermissionSuite,
)


class PrincipalsContract(PermissionSuite):
    """``PermissionContract``'s tests of the object and the principals of users."""

    # -- the object -----------------------------------------------------------

    def test_backend_implements_the_permission_contract(self, permission):
        assert isinstance(permission, PermissionBase)

    def test_initialize_schema_is_idempotent(self, permission):
        permission.add_user_principal("alice", "group")
        permission.initialize_schema()
        permission.initialize_schema()
        assert permission.get_user_principals("alice") == {"group"}

    def test_initialize_schema_dry_run_keeps_data(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.initialize_schema(dry_run=True)
        assert permission.get_object_permission_principals(BUCKET, "read") == {"alice"}

    def test_heartbeat_is_true_and_leaves_no_trace(self, permission):
        assert permission.heartbeat() is True
        assert permission.get_accessible_objects(["alive"]) == {}

    def test_flush_removes_principals_and_entries(self, permission):
        permission.add_user_principal("alice", "group")
        permission.add_user_principal("system.Authenticated", "everyone-group")
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.flush()
        assert permission.get_user_principals("alice") == set()
        assert permission.get_object_permissions(BUCKET) == {}
        assert permission.get_accessible_objects(["alice"]) == {}

    # -- user principals --------------------------------------------------------

    def test_a_principal_given_to_a_user_is_returned(self, permission):
        permission.add_user_principal("alice", "group:readers")
        assert permission.get_user_principals("alice") == {"group:readers"}

    def test_an_unknown_user_has_no_principal(self, permission):
        assert permission.get_user_principals("nobody") == set()

    def test_a_principal_given_twice_is_held_once(self, permission):
        permission.add_user_principal("alice", "group")
        permission.add_user_principal("alice", "group")
        assert permission.get_user_principals("alice") == {"group"}

    def test_a_user_holds_several_principals(self, permission):
        for group in ("a", "b", "c"):
            permission.add_user_principal("alice", group)
        permission.add_user_principal("bob", "d")
        assert permission.get_user_principals("alice") == {"a", "b", "c"}
        assert permission.get_user_principals("bob") == {"d"}

    @pytest.mark.parametrize(
        ("held", "user", "taken", "left"),
        [
            ({"alice": ["a", "b"]}, "alice", "a", {"b"}),
            ({"alice": ["a"]}, "alice", "a", set()),
            ({}, "nobody", "a", set()),
            ({"alice": ["a"]}, "alice", "b", {"a"}),
        ],
        ids=["one-of-several", "the-last-leaves-an-empty-set", "from-an-unknown-user-no-op", "one-it-lacks-no-op"],
    )
    def test_taking_a_principal_from_a_user(self, permission, held, user, taken, left):
        for holder, principals in held.items():
            for principal in principals:
                permission.add_user_principal(holder, principal)
        permission.remove_user_principal(user, taken)
        assert permission.get_user_principals(user) == left

    def test_remove_principal_takes_it_from_every_user(self, permission):
        permission.add_user_principal("alice", "group")
        permission.add_user_principal("bob", "group")
        permission.add_user_principal("bob", "other")
        permission.remove_principal("group")
        permission.remove_principal("unknown")
        assert permission.get_user_principals("alice") == set()
        assert permission.get_user_principals("bob") == {"other"}

    def test_remove_principal_leaves_access_control_entries(self, permission):
        permission.add_user_principal("alice", "group")
        permission.add_principal_to_ace(BUCKET, "read", "group")
        permission.remove_principal("group")
        assert permission.get_object_permissions(BUCKET) == {"read": {"group"}}

    def test_principals_of_system_authenticated_are_held_by_every_user(self, permission):
        permission.add_user_principal("system.Authenticated", "everyone-group")
        permission.add_user_principal("alice", "group")
        assert permission.get_user_principals("alice") == {"group", "everyone-group"}
        assert permission.get_user_principals("nobody") == {"everyone-group"}
        assert permission.get_user_principals("system.Authenticated") == {"everyone-group"}

    def test_returned_principal_sets_are_copies(self, permission):
        permission.add_user_principal("alice", "group")
        permission.get_user_principals("alice").add("intruder")
        assert permission.get_user_principals("alice") == {"group"}

    def test_user_ids_and_principals_are_case_sensitive(self, permission):
        permission.add_user_principal("Alice", "Group")
        assert permission.get_user_principals("alice") == set()
        permission.remove_user_principal("Alice", "group")
        assert permission.get_user_principals("Alice") == {"Group"}

    def test_bounded_user_principals_are_all_of_them_under_the_limit(self, permission):
        permission.add_user_principal("system.Authenticated", "everyone-group")
        permission.add_user_principal("alice", "group")
        permission.add_user_principal("alice", "everyone-group")
        bounded = permission.get_user_principals_bounded("alice", 10)
        assert sorted(bounded) == ["everyone-group", "group"]
        assert permission.get_user_principals_bounded("system.Authenticated", 10) == ["everyone-group"]

    def test_bounded_user_principals_keep_the_users_own_first(self, permission):
        for index in range(5):
            permission.add_user_principal("system.Authenticated", f"a-shared-{index}")
        permission.add_user_principal("alice", "z-own-1")
        permission.add_user_principal("alice", "z-own-2")
        bounded = permission.get_user_principals_bounded("alice", 4)
        assert len(bounded) == 4
        assert {"z-own-1", "z-own-2"} <= set(bounded)
        assert set(bounded) <= permission.get_user_principals("alice")
        assert len(permission.get_user_principals_bounded("nobody", 3)) == 3

    def test_bounded_user_principals_count_a_principal_held_twice_once(self, permission):
        for name in ("a", "b", "c"):
            permission.add_user_principal("system.Authenticated", name)
            permission.add_user_principal("alice", name)
        assert sorted(permission.get_user_principals_bounded("alice", 3)) == ["a", "b", "c"]

    def test_bounded_user_principals_under_a_limit_of_zero_are_none(self, permission):
        permission.add_user_principal("alice", "group")
        assert permission.get_user_principals_bounded("alice", 0) == []
