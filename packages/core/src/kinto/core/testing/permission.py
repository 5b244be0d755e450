"""The permission contract suite.

Subclass ``PermissionContract`` in a test module and provide a
``backend_factory`` fixture: a callable returning a fresh, flushed
``PermissionBase`` (the plugin's default, or
``kinto.core.testing.plugin.BackendFactory``). Optional features follow the
backend's flags ``supports_transactions``, ``supports_savepoints`` and
``supports_concurrent_processes``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinto.core.permission import PermissionBase
from kinto.core.testing.plugin import (
    CONTRACT_HEALTH_CHECKS,
    build_unflushed,
    require_flag,
    run_in_processes,
    run_in_threads,
)

__all__ = ["PermissionContract"]

BUCKET = "/buckets/b1"
COLLECTION = "/buckets/b1/collections/c1"
RECORD = "/buckets/b1/collections/c1/records/r1"


class Boom(Exception):
    """Raised inside transactions to make them roll back."""


def _grant(permission: PermissionBase, object_id: str, permissions: dict[str, list[str]]) -> None:
    """Add each principal of ``permissions`` (permission -> principals) to the object's entries."""
    for name, principals in permissions.items():
        for principal in principals:
            permission.add_principal_to_ace(object_id, name, principal)


def _make_every_kind_of_change(permission: PermissionBase) -> None:
    """Grant, revoke and replace object permissions, add and remove user principals, remove the
    principal ``group`` everywhere and delete by pattern: every write a rollback must undo."""
    permission.add_principal_to_ace(COLLECTION, "read", "inside")
    permission.add_principal_to_ace(RECORD, "write", "carol")
    permission.remove_principal_from_ace(BUCKET, "read", "alice")
    permission.replace_object_permissions(COLLECTION, {"write": ["dave"], "read": ["erin"]})
    permission.add_user_principal("alice", "other")
    permission.remove_user_principal("alice", "group")
    permission.remove_principal("group")
    permission.delete_object_permissions("/buckets/*")


#: The blocks that join the transaction around them: what they wrote shares its fate.
_INNER_BLOCKS = pytest.mark.parametrize(
    ("inner", "flag"),
    [("transaction", "supports_transactions"), ("savepoint", "supports_savepoints")],
    ids=["nested-transaction", "savepoint"],
)


def _reference_match(pattern: str, object_id: str, with_children: bool) -> bool:
    # Written independently of the backends' matcher: a plain regex, built from the documented rule.
    wildcard = ".*" if with_children else "[^/]+"
    regex = wildcard.join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, object_id, flags=re.DOTALL) is not None


class PermissionContract:
    """The behaviour every ``PermissionBase`` implementation must show."""

    pytestmark: ClassVar[list[Any]] = [pytest.mark.contract]

    @pytest.fixture
    def permission(self, backend_factory: Any) -> PermissionBase:
        return backend_factory()

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

    # -- access control entries -------------------------------------------------

    def test_a_principal_added_to_an_ace_is_returned(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        assert permission.get_object_permission_principals(BUCKET, "write") == {"alice"}

    def test_an_ace_without_principal_is_empty(self, permission):
        assert permission.get_object_permission_principals(BUCKET, "write") == set()

    def test_a_principal_added_twice_to_an_ace_is_held_once(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        assert permission.get_object_permission_principals(BUCKET, "write") == {"alice"}

    def test_a_principal_can_be_removed_from_an_ace(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        permission.add_principal_to_ace(BUCKET, "write", "bob")
        permission.remove_principal_from_ace(BUCKET, "write", "alice")
        assert permission.get_object_permission_principals(BUCKET, "write") == {"bob"}

    def test_an_ace_left_without_principal_disappears(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        permission.remove_principal_from_ace(BUCKET, "write", "alice")
        assert permission.get_object_permission_principals(BUCKET, "write") == set()
        assert permission.get_object_permissions(BUCKET) == {}

    def test_removing_a_missing_principal_from_an_ace_is_a_no_op(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "bob")
        permission.remove_principal_from_ace(BUCKET, "write", "alice")
        permission.remove_principal_from_ace("/unknown", "write", "alice")
        assert permission.get_object_permission_principals(BUCKET, "write") == {"bob"}

    def test_permissions_of_one_object_are_independent(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        permission.add_principal_to_ace(BUCKET, "read", "bob")
        assert permission.get_object_permission_principals(BUCKET, "write") == {"alice"}
        assert permission.get_object_permission_principals(BUCKET, "read") == {"bob"}

    def test_permission_names_may_hold_colons(self, permission):
        permission.add_principal_to_ace(BUCKET, "collection:create", "alice")
        permission.add_principal_to_ace(BUCKET, "create", "bob")
        assert permission.get_object_permission_principals(BUCKET, "collection:create") == {"alice"}
        assert permission.get_object_permission_principals(BUCKET, "create") == {"bob"}

    def test_object_ids_are_literal_when_reading_an_ace(self, permission):
        permission.add_principal_to_ace("/buckets/*", "read", "star")
        permission.add_principal_to_ace("/buckets/b%", "read", "percent")
        assert permission.get_object_permission_principals("/buckets/b1", "read") == set()
        assert permission.get_object_permission_principals("/buckets/*", "read") == {"star"}
        assert permission.get_object_permission_principals("/buckets/b%", "read") == {"percent"}
        assert permission.get_object_permission_principals("/buckets/bb", "read") == set()

    def test_ids_with_unicode_and_quotes_work(self, permission):
        object_id = "/buckets/caf\u00e9/records/l'\u00e9t\u00e9 \"\\"
        permission.add_principal_to_ace(object_id, "read", "account:\u00e9mile")
        assert permission.get_object_permission_principals(object_id, "read") == {"account:\u00e9mile"}
        assert permission.get_object_permissions(object_id) == {"read": {"account:\u00e9mile"}}

    # -- check_permission and get_authorized_principals -------------------------

    def test_check_permission_is_true_for_a_granted_principal(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        assert permission.check_permission({"alice"}, [(BUCKET, "write")]) is True

    def test_check_permission_is_true_through_a_group(self, permission):
        permission.add_user_principal("alice", "group")
        permission.add_principal_to_ace(BUCKET, "write", "group")
        principals = {"alice"} | permission.get_user_principals("alice")
        assert permission.check_permission(principals, [(BUCKET, "write")]) is True

    def test_check_permission_is_true_when_any_bound_permission_is_granted(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        inherited = [(RECORD, "read"), (COLLECTION, "read"), (BUCKET, "read"), (BUCKET, "write")]
        assert permission.check_permission(["alice"], inherited) is True

    def test_check_permission_is_false_for_another_principal(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        assert permission.check_permission({"bob"}, [(BUCKET, "write")]) is False

    def test_check_permission_is_false_for_another_permission(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        assert permission.check_permission({"alice"}, [(BUCKET, "write")]) is False

    def test_check_permission_is_false_for_an_empty_list(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        assert permission.check_permission({"alice"}, []) is False

    def test_check_permission_is_false_without_principals(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        assert permission.check_permission(set(), [(BUCKET, "write")]) is False

    def test_check_permission_takes_object_ids_literally(self, permission):
        permission.add_principal_to_ace(RECORD, "read", "alice")
        assert permission.check_permission({"alice"}, [("/buckets/*", "read")]) is False
        assert permission.check_permission({"alice"}, [(COLLECTION, "read")]) is False

    def test_authorized_principals_are_the_union_over_bound_permissions(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        permission.add_principal_to_ace(COLLECTION, "read", "bob")
        permission.add_principal_to_ace(COLLECTION, "read", "alice")
        permission.add_principal_to_ace(RECORD, "write", "carol")
        bound = [(BUCKET, "write"), (BUCKET, "read"), (COLLECTION, "read")]
        assert permission.get_authorized_principals(bound) == {"alice", "bob"}

    def test_authorized_principals_of_an_empty_list_is_empty(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        assert permission.get_authorized_principals([]) == set()

    def test_authorized_principals_of_unknown_objects_is_empty(self, permission):
        assert permission.get_authorized_principals([("/unknown", "read")]) == set()

    def test_authorized_principals_take_object_ids_literally(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_principal_to_ace("/buckets/*", "read", "star")
        assert permission.get_authorized_principals([("/buckets/*", "read")]) == {"star"}

    # -- get_accessible_objects ---------------------------------------------------

    def test_accessible_objects_without_bound_permissions_lists_every_permission(self, permission):
        permission.add_principal_to_ace("id1", "write", "user1")
        permission.add_principal_to_ace("id1", "record:create", "group")
        permission.add_principal_to_ace("id2", "read", "user1")
        permission.add_principal_to_ace("id2", "read", "user2")
        permission.add_principal_to_ace("id3", "write", "user2")
        accessible = permission.get_accessible_objects(["user1", "group"])
        assert accessible == {"id1": {"write", "record:create"}, "id2": {"read"}}

    def test_accessible_objects_of_unknown_principals_is_empty(self, permission):
        permission.add_principal_to_ace("id1", "write", "user1")
        assert permission.get_accessible_objects(["nobody"]) == {}
        assert permission.get_accessible_objects([]) == {}

    def test_accessible_objects_with_an_empty_list_is_empty(self, permission):
        permission.add_principal_to_ace("id1", "write", "user1")
        assert permission.get_accessible_objects(["user1"], []) == {}

    def test_accessible_objects_accepts_any_iterable_of_principals(self, permission):
        permission.add_principal_to_ace("id1", "read", "user1")
        expected = {"id1": {"read"}}
        assert permission.get_accessible_objects(iter(["user1"])) == expected
        assert permission.get_accessible_objects(("user1", "user1")) == expected
        assert permission.get_accessible_objects({"user1"}, [("id1", "read")]) == expected

    def test_accessible_objects_with_a_star_matches_every_object(self, permission):
        permission.add_principal_to_ace("id1", "read", "user1")
        permission.add_principal_to_ace("id2", "read", "group")
        permission.add_principal_to_ace("id2", "write", "user1")
        permission.add_principal_to_ace("id3", "read", "user2")
        accessible = permission.get_accessible_objects(["user1", "group"], [("*", "read")])
        assert accessible == {"id1": {"read"}, "id2": {"read"}}

    def test_accessible_objects_map_to_the_matched_permissions_only(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        permission.add_principal_to_ace(BUCKET, "collection:create", "alice")
        accessible = permission.get_accessible_objects(["alice"], [(BUCKET, "write")])
        assert accessible == {BUCKET: {"write"}}

    def test_accessible_objects_match_permission_names_exactly(self, permission):
        permission.add_principal_to_ace(BUCKET, "collection:write", "alice")
        permission.add_principal_to_ace(COLLECTION, "rewrite", "alice")
        assert permission.get_accessible_objects(["alice"], [("*", "write")]) == {}

    def test_accessible_objects_with_a_pattern_inside_the_id(self, permission):
        permission.add_principal_to_ace("/url1/id", "write", "user1")
        permission.add_principal_to_ace("/url2/id", "write", "user1")
        accessible = permission.get_accessible_objects(["user1"], [("*url1*", "write")])
        assert accessible == {"/url1/id": {"write"}}

    def test_a_star_matches_children_by_default(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_principal_to_ace(COLLECTION, "read", "alice")
        permission.add_principal_to_ace(RECORD, "read", "alice")
        accessible = permission.get_accessible_objects(["alice"], [("/buckets/*", "read")])
        assert set(accessible) == {BUCKET, COLLECTION, RECORD}

    def test_without_children_a_star_matches_one_path_segment(self, permission):
        permission.add_principal_to_ace("/url1/id", "write", "user1")
        permission.add_principal_to_ace("/url1/id/sub", "write", "user1")
        permission.add_principal_to_ace("/a/url1/id", "write", "user1")
        accessible = permission.get_accessible_objects(["user1"], [("/url1/*", "write")], with_children=False)
        assert accessible == {"/url1/id": {"write"}}

    def test_without_children_every_star_matches_one_segment(self, permission):
        permission.add_principal_to_ace(COLLECTION, "read", "alice")
        permission.add_principal_to_ace("/buckets/b2/collections/c9", "read", "alice")
        permission.add_principal_to_ace(RECORD, "read", "alice")
        permission.add_principal_to_ace("/buckets/b1/groups/g1", "read", "alice")
        accessible = permission.get_accessible_objects(
            ["alice"], [("/buckets/*/collections/*", "read")], with_children=False
        )
        assert set(accessible) == {COLLECTION, "/buckets/b2/collections/c9"}

    def test_without_children_a_star_matches_at_least_one_character(self, permission):
        permission.add_principal_to_ace("/buckets/", "read", "alice")
        permission.add_principal_to_ace("/buckets/b", "read", "alice")
        accessible = permission.get_accessible_objects(["alice"], [("/buckets/*", "read")], with_children=False)
        assert set(accessible) == {"/buckets/b"}

    def test_accessible_objects_with_several_bound_permissions(self, permission):
        permission.add_principal_to_ace("/url/a/id/1", "write", "user1")
        permission.add_principal_to_ace("/url/a/id/2", "read", "user1")
        permission.add_principal_to_ace("/url/_/id/2", "read", "user1")
        accessible = permission.get_accessible_objects(["user1"], [("/url/a/id/*", "read"), ("/url/a/id/*", "write")])
        assert accessible == {"/url/a/id/1": {"write"}, "/url/a/id/2": {"read"}}

    def test_accessible_objects_mix_literal_ids_and_patterns(self, permission):
        for object_id in ("/url/a", "/url/a/id/1", "/url/b/id/1"):
            permission.add_principal_to_ace(object_id, "write", "user1")
        for object_id in ("/url/a/id/2", "/url/b/id/2"):
            permission.add_principal_to_ace(object_id, "read", "user1")
        bound = [("/url/a", "write"), ("/url/a", "read"), ("/url/a/id/*", "write"), ("/url/a/id/*", "read")]
        accessible = permission.get_accessible_objects(["user1"], bound)
        assert accessible == {"/url/a": {"write"}, "/url/a/id/1": {"write"}, "/url/a/id/2": {"read"}}

    def test_patterns_treat_sql_wildcards_literally(self, permission):
        permission.add_principal_to_ace("/buckets/a_c", "read", "alice")
        permission.add_principal_to_ace("/buckets/abc", "read", "alice")
        permission.add_principal_to_ace("/buckets/a%c", "read", "alice")
        permission.add_principal_to_ace("/buckets/a%cd", "read", "alice")
        assert set(permission.get_accessible_objects(["alice"], [("/buckets/a_*", "read")])) == {"/buckets/a_c"}
        assert set(permission.get_accessible_objects(["alice"], [("/buckets/a%c", "read")])) == {"/buckets/a%c"}
        assert set(permission.get_accessible_objects(["alice"], [("/buckets/a?c", "read")])) == set()

    def test_patterns_are_case_sensitive(self, permission):
        permission.add_principal_to_ace("/Buckets/b1", "read", "alice")
        permission.add_principal_to_ace("/buckets/b1", "read", "alice")
        assert set(permission.get_accessible_objects(["alice"], [("/buckets/*", "read")])) == {"/buckets/b1"}

    def test_accessible_objects_through_user_principals(self, permission):
        permission.add_user_principal("user1", "group")
        permission.add_principal_to_ace("id1", "write", "group")
        principals = {"user1"} | permission.get_user_principals("user1")
        assert permission.get_accessible_objects(principals) == {"id1": {"write"}}

    @settings(max_examples=60, deadline=None, suppress_health_check=CONTRACT_HEALTH_CHECKS)
    @given(
        object_ids=st.lists(st.text(alphabet="ab/_%", min_size=0, max_size=6), min_size=1, max_size=8, unique=True),
        pattern=st.text(alphabet="ab/*_%", max_size=5),
        with_children=st.booleans(),
    )
    def test_patterns_follow_the_documented_rule(self, permission, object_ids, pattern, with_children):
        permission.flush()
        for object_id in object_ids:
            permission.add_principal_to_ace(object_id, "read", "alice")
        accessible = permission.get_accessible_objects(["alice"], [(pattern, "read")], with_children=with_children)
        expected = {oid for oid in object_ids if _reference_match(pattern, oid, with_children)}
        assert set(accessible) == expected

    # -- get_object_permissions and get_objects_permissions --------------------------

    def test_object_permissions_return_every_permission_of_the_object(self, permission):
        _grant(permission, RECORD, {"write": ["user1", "user2"], "read": ["user3"], "obj:del": ["user1"]})
        permission.add_principal_to_ace(RECORD + "/sub", "create", "me")
        permission.add_principal_to_ace(COLLECTION, "read", "parent")
        assert permission.get_object_permissions(RECORD) == {
            "write": {"user1", "user2"},
            "read": {"user3"},
            "obj:del": {"user1"},
        }

    def test_object_permissions_can_be_restricted_to_some_permissions(self, permission):
        _grant(permission, RECORD, {"write": ["user1"], "read": ["user3"], "create": ["user1"]})
        assert permission.get_object_permissions(RECORD, ["write", "read", "missing"]) == {
            "write": {"user1"},
            "read": {"user3"},
        }

    def test_object_permissions_of_an_unknown_object_are_empty(self, permission):
        assert permission.get_object_permissions("/unknown") == {}

    def test_objects_permissions_keep_the_order_asked(self, permission):
        permission.add_principal_to_ace("/url/a/id/1", "write", "user1")
        permission.add_principal_to_ace("/url/a/id/3", "read", "user3")
        found = permission.get_objects_permissions(["/url/a/id/3", "/abc", "/url/a/id/1"])
        assert found == [{"read": {"user3"}}, {}, {"write": {"user1"}}]

    def test_objects_permissions_answer_repeated_ids_each_time(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        found = permission.get_objects_permissions([BUCKET, BUCKET])
        assert found == [{"read": {"alice"}}, {"read": {"alice"}}]
        found[0]["read"].add("intruder")
        assert found[1] == {"read": {"alice"}}

    def test_objects_permissions_of_an_empty_list_is_empty(self, permission):
        assert permission.get_objects_permissions([]) == []

    def test_objects_permissions_can_be_restricted(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_principal_to_ace(BUCKET, "write", "bob")
        permission.add_principal_to_ace(COLLECTION, "write", "carol")
        found = permission.get_objects_permissions([BUCKET, COLLECTION], ["write"])
        assert found == [{"write": {"bob"}}, {"write": {"carol"}}]
        assert permission.get_objects_permissions([BUCKET], []) == [{}]

    def test_objects_permissions_take_ids_literally(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        assert permission.get_objects_permissions(["/buckets/*"]) == [{}]

    def test_objects_permissions_scale_to_many_ids(self, permission):
        ids = [f"/buckets/b/collections/c/records/r{index}" for index in range(300)]
        for object_id in ids[::3]:
            permission.add_principal_to_ace(object_id, "write", "alice")
        found = permission.get_objects_permissions(ids)
        assert len(found) == 300
        assert all(found[index] == ({"write": {"alice"}} if index % 3 == 0 else {}) for index in range(300))

    # -- replace_object_permissions ---------------------------------------------------

    def test_replace_replaces_every_given_permission(self, permission):
        _grant(
            permission,
            RECORD,
            {"write": ["user1", "user2"], "read": ["user3"], "update": ["user1"], "obj:del": ["user1"]},
        )
        permission.replace_object_permissions(
            RECORD, {"write": ["user1"], "read": ["user2"], "update": [], "obj:del": ["user1"], "new": ["user3"]}
        )
        assert permission.get_object_permissions(RECORD) == {
            "write": {"user1"},
            "read": {"user2"},
            "obj:del": {"user1"},
            "new": {"user3"},
        }

    def test_replace_leaves_permissions_not_given(self, permission):
        _grant(permission, RECORD, {"write": ["user1", "user2"], "read": ["user3"]})
        permission.replace_object_permissions(RECORD, {"write": ["user1"], "new": {"user2"}})
        assert permission.get_object_permissions(RECORD) == {
            "write": {"user1"},
            "read": {"user3"},
            "new": {"user2"},
        }

    def test_replace_on_a_new_object_creates_its_entries(self, permission):
        permission.replace_object_permissions(RECORD, {"write": ["user1"]})
        assert permission.get_object_permissions(RECORD) == {"write": {"user1"}}
        assert permission.get_accessible_objects(["user1"]) == {RECORD: {"write"}}

    def test_replace_with_nothing_changes_nothing(self, permission):
        permission.add_principal_to_ace(RECORD, "write", "user1")
        permission.replace_object_permissions(RECORD, {})
        assert permission.get_object_permissions(RECORD) == {"write": {"user1"}}

    def test_replace_counts_duplicates_once(self, permission):
        permission.replace_object_permissions(RECORD, {"write": ["user1", "user1", "user2"]})
        assert permission.get_object_permissions(RECORD) == {"write": {"user1", "user2"}}

    def test_replace_with_an_empty_set_revokes_the_permission(self, permission):
        permission.add_principal_to_ace(RECORD, "write", "user1")
        permission.replace_object_permissions(RECORD, {"write": set()})
        assert permission.get_object_permissions(RECORD) == {}
        assert permission.get_accessible_objects(["user1"]) == {}

    def test_replace_with_an_empty_set_on_a_new_object_creates_nothing(self, permission):
        permission.replace_object_permissions(RECORD, {"write": set()})
        assert permission.get_object_permissions(RECORD) == {}

    def test_replace_leaves_other_objects(self, permission):
        permission.add_principal_to_ace(COLLECTION, "write", "user1")
        permission.add_principal_to_ace(RECORD, "write", "user1")
        permission.replace_object_permissions(RECORD, {"write": ["user2"]})
        assert permission.get_object_permissions(COLLECTION) == {"write": {"user1"}}

    def test_replace_accepts_generators_as_principals(self, permission):
        permission.replace_object_permissions(RECORD, {"read": (name for name in ["a", "b"])})
        assert permission.get_object_permissions(RECORD) == {"read": {"a", "b"}}

    # -- delete_object_permissions -------------------------------------------------

    def test_delete_removes_every_entry_of_the_listed_objects(self, permission):
        for perm, principal in [("write", "user1"), ("write", "user2"), ("read", "user3"), ("create", "user1")]:
            permission.add_principal_to_ace("/url/a/id/1", perm, principal)
        permission.add_principal_to_ace("/url/a/id/2", "create", "user3")
        permission.add_principal_to_ace("/url/a/id/3", "create", "user4")
        permission.delete_object_permissions("/url/a/id/1", "/url/a/id/2")
        assert permission.get_object_permissions("/url/a/id/1") == {}
        assert permission.get_object_permissions("/url/a/id/2") == {}
        assert permission.get_object_permissions("/url/a/id/3") == {"create": {"user4"}}

    def test_delete_without_argument_is_a_no_op(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.delete_object_permissions()
        assert permission.get_object_permissions(BUCKET) == {"read": {"alice"}}

    def test_delete_of_a_literal_id_leaves_its_children(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_principal_to_ace(COLLECTION, "read", "alice")
        permission.delete_object_permissions(BUCKET)
        assert permission.get_object_permissions(BUCKET) == {}
        assert permission.get_object_permissions(COLLECTION) == {"read": {"alice"}}

    def test_delete_supports_star_patterns_across_segments(self, permission):
        permission.add_principal_to_ace("/url/b/id/1", "write", "user1")
        permission.add_principal_to_ace("/url/a/id/1", "write", "user2")
        permission.add_principal_to_ace("/url/a/id/1", "read", "user3")
        permission.add_principal_to_ace("/url/a/id/3", "create", "user4")
        permission.delete_object_permissions("/url/a*")
        assert permission.get_object_permissions("/url/a/id/1") == {}
        assert permission.get_object_permissions("/url/a/id/3") == {}
        assert permission.get_object_permissions("/url/b/id/1") == {"write": {"user1"}}

    def test_delete_of_an_object_and_its_children(self, permission):
        permission.add_principal_to_ace(BUCKET, "write", "alice")
        permission.add_principal_to_ace(COLLECTION, "write", "alice")
        permission.add_principal_to_ace(RECORD, "read", "bob")
        permission.add_principal_to_ace("/buckets/b10", "write", "alice")
        permission.delete_object_permissions(BUCKET, BUCKET + "/*")
        assert permission.get_accessible_objects(["alice", "bob"]) == {"/buckets/b10": {"write"}}

    def test_delete_patterns_treat_sql_wildcards_literally(self, permission):
        permission.add_principal_to_ace("/a_c", "read", "alice")
        permission.add_principal_to_ace("/abc", "read", "alice")
        permission.add_principal_to_ace("/a%c/x", "read", "alice")
        permission.add_principal_to_ace("/aZc/x", "read", "alice")
        permission.delete_object_permissions("/a_c", "/a%c*")
        assert set(permission.get_accessible_objects(["alice"])) == {"/abc", "/aZc/x"}

    def test_delete_leaves_user_principals(self, permission):
        permission.add_user_principal("alice", "group")
        permission.add_principal_to_ace(BUCKET, "read", "group")
        permission.delete_object_permissions("*")
        assert permission.get_user_principals("alice") == {"group"}
        assert permission.get_accessible_objects(["group"]) == {}

    # -- transactions -------------------------------------------------------------

    def test_transaction_is_a_context_manager_even_without_support(self, permission):
        with permission.transaction():
            permission.add_user_principal("alice", "group")
        with permission.transaction(write=False):
            assert permission.get_user_principals("alice") == {"group"}

    def test_a_transaction_commits_on_normal_exit(self, permission):
        require_flag(permission, "supports_transactions")
        with permission.transaction():
            permission.add_principal_to_ace(BUCKET, "read", "alice")
            permission.add_user_principal("alice", "group")
        assert permission.get_object_permissions(BUCKET) == {"read": {"alice"}}
        assert permission.get_user_principals("alice") == {"group"}

    def test_a_transaction_sees_its_own_writes(self, permission):
        require_flag(permission, "supports_transactions")
        with permission.transaction():
            permission.add_principal_to_ace(BUCKET, "read", "alice")
            assert permission.check_permission({"alice"}, [(BUCKET, "read")])
            assert permission.get_accessible_objects(["alice"]) == {BUCKET: {"read"}}

    def test_a_failed_transaction_leaves_everything_as_before(self, permission):
        require_flag(permission, "supports_transactions")
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_principal_to_ace(COLLECTION, "write", "bob")
        permission.add_user_principal("alice", "group")
        before = (
            permission.get_objects_permissions([BUCKET, COLLECTION, RECORD]),
            permission.get_user_principals("alice"),
        )
        with pytest.raises(Boom), permission.transaction():
            _make_every_kind_of_change(permission)
            raise Boom()
        after = (
            permission.get_objects_permissions([BUCKET, COLLECTION, RECORD]),
            permission.get_user_principals("alice"),
        )
        assert after == before

    def test_a_failed_transaction_undoes_a_flush(self, permission):
        require_flag(permission, "supports_transactions")
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_user_principal("alice", "group")
        with pytest.raises(Boom), permission.transaction():
            permission.flush()
            raise Boom()
        assert permission.get_object_permissions(BUCKET) == {"read": {"alice"}}
        assert permission.get_user_principals("alice") == {"group"}

    def test_a_failed_transaction_undoes_remove_principal(self, permission):
        require_flag(permission, "supports_transactions")
        permission.add_user_principal("alice", "group")
        permission.add_user_principal("bob", "group")
        with pytest.raises(Boom), permission.transaction():
            permission.remove_principal("group")
            raise Boom()
        assert permission.get_user_principals("alice") == {"group"}
        assert permission.get_user_principals("bob") == {"group"}

    @_INNER_BLOCKS
    def test_an_inner_block_left_normally_rolls_back_with_the_transaction(self, permission, inner, flag):
        require_flag(permission, flag)
        permission.add_principal_to_ace(BUCKET, "read", "kept")
        with pytest.raises(Boom), permission.transaction():
            with getattr(permission, inner)():
                permission.add_principal_to_ace(BUCKET, "read", "inside")
                permission.remove_principal_from_ace(BUCKET, "read", "kept")
            assert permission.get_object_permission_principals(BUCKET, "read") == {"inside"}
            raise Boom()
        assert permission.get_object_permission_principals(BUCKET, "read") == {"kept"}

    @_INNER_BLOCKS
    def test_an_inner_block_left_normally_commits_with_the_transaction(self, permission, inner, flag):
        require_flag(permission, flag)
        with permission.transaction():
            with getattr(permission, inner)():
                permission.add_principal_to_ace(BUCKET, "read", "inside")
            permission.add_principal_to_ace(BUCKET, "read", "outside")
        assert permission.get_object_permission_principals(BUCKET, "read") == {"inside", "outside"}

    def test_a_read_transaction_reads(self, permission):
        require_flag(permission, "supports_transactions")
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        with permission.transaction(write=False):
            assert permission.get_object_permissions(BUCKET) == {"read": {"alice"}}
            assert permission.get_accessible_objects(["alice"]) == {BUCKET: {"read"}}

    def test_work_after_a_failed_transaction_succeeds(self, permission):
        require_flag(permission, "supports_transactions")
        with pytest.raises(Boom), permission.transaction():
            permission.add_user_principal("alice", "lost")
            raise Boom()
        with permission.transaction():
            permission.add_user_principal("alice", "kept")
        assert permission.get_user_principals("alice") == {"kept"}

    # -- savepoints ------------------------------------------------------------------

    def test_savepoint_is_a_context_manager_even_without_support(self, permission):
        assert isinstance(type(permission).supports_savepoints, bool)
        with permission.savepoint():
            permission.add_user_principal("alice", "outside")
        with permission.transaction(), permission.savepoint():
            permission.add_user_principal("alice", "inside")
        assert permission.get_user_principals("alice") == {"outside", "inside"}

    def test_a_failed_savepoint_undoes_its_block_only(self, permission):
        require_flag(permission, "supports_savepoints")
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_user_principal("alice", "group")
        with permission.transaction():
            permission.add_principal_to_ace(COLLECTION, "read", "before")
            with pytest.raises(Boom), permission.savepoint():
                _make_every_kind_of_change(permission)
                raise Boom()
            assert permission.get_object_permission_principals(COLLECTION, "read") == {"before"}
            permission.add_principal_to_ace(COLLECTION, "read", "after")
        assert permission.get_objects_permissions([BUCKET, COLLECTION, RECORD]) == [
            {"read": {"alice"}},
            {"read": {"before", "after"}},
            {},
        ]
        assert permission.get_user_principals("alice") == {"group"}

    def test_savepoints_nest(self, permission):
        require_flag(permission, "supports_savepoints")
        with permission.transaction():
            with permission.savepoint():
                permission.add_principal_to_ace(BUCKET, "read", "outer")
                with pytest.raises(Boom), permission.savepoint():
                    permission.add_principal_to_ace(BUCKET, "read", "inner")
                    permission.remove_principal_from_ace(BUCKET, "read", "outer")
                    raise Boom()
                assert permission.get_object_permission_principals(BUCKET, "read") == {"outer"}
            with pytest.raises(Boom), permission.savepoint():
                permission.add_principal_to_ace(BUCKET, "read", "second")
                with permission.savepoint():
                    permission.add_principal_to_ace(BUCKET, "read", "kept-by-inner-only")
                raise Boom()
        assert permission.get_object_permission_principals(BUCKET, "read") == {"outer"}

    # -- copying a whole store (supports_copy) ----------------------------------------------

    def test_export_lists_every_user_principal(self, permission):
        require_flag(permission, "supports_copy")
        permission.add_user_principal("alice", "g1")
        permission.add_user_principal("alice", "g2")
        permission.add_user_principal("system.Authenticated", "everyone")
        assert sorted(permission.export_user_principals()) == [
            ("alice", "g1"),
            ("alice", "g2"),
            ("system.Authenticated", "everyone"),
        ]

    def test_export_pages_through_every_entry_once(self, permission):
        require_flag(permission, "supports_copy")
        expected = set()
        for index in range(23):
            for name in ("read", "write"):
                permission.add_principal_to_ace(f"{COLLECTION}/records/r{index}", name, f"user{index % 3}")
                expected.add((f"{COLLECTION}/records/r{index}", name, f"user{index % 3}"))
        permission.add_principal_to_ace(BUCKET, "write", "éva")
        permission.add_principal_to_ace(BUCKET, "write", "Zed")
        expected |= {(BUCKET, "write", "éva"), (BUCKET, "write", "Zed")}
        pages, after = [], None
        while page := permission.export_access_control_entries(after=after, limit=5):
            assert len(page) <= 5
            pages.append(page)
            after = page[-1]
        seen = [entry for page in pages for entry in page]
        assert len(seen) == len(expected)
        assert set(seen) == expected
        assert permission.export_access_control_entries() == seen

    def test_import_adds_to_what_is_held(self, permission):
        require_flag(permission, "supports_copy")
        permission.add_user_principal("alice", "g1")
        permission.add_principal_to_ace(BUCKET, "read", "bob")
        permission.import_permissions(
            [("alice", "g2"), ("alice", "g1"), ("system.Authenticated", "everyone")],
            [
                (BUCKET, "read", "carol"),
                (BUCKET, "read", "bob"),
                (RECORD, "write", "alice"),
                (RECORD, "write", "alice"),
            ],
        )
        assert permission.get_user_principals("alice") == {"g1", "g2", "everyone"}
        assert permission.get_object_permission_principals(BUCKET, "read") == {"bob", "carol"}
        assert permission.get_object_permissions(RECORD) == {"write": {"alice"}}
        assert permission.get_accessible_objects(["alice"], [(f"{COLLECTION}/records/*", "write")]) == {
            RECORD: {"write"}
        }

    def test_import_takes_patterns_literally(self, permission):
        require_flag(permission, "supports_copy")
        permission.import_permissions([], [("/buckets/*", "read", "alice")])
        assert permission.get_object_permission_principals("/buckets/*", "read") == {"alice"}
        assert permission.get_object_permission_principals("/buckets/b1", "read") == set()

    def test_import_of_nothing_is_a_no_op(self, permission):
        require_flag(permission, "supports_copy")
        permission.import_permissions()
        permission.import_permissions([], [])
        assert permission.export_user_principals() == []
        assert permission.export_access_control_entries() == []

    def test_a_failed_transaction_undoes_an_import(self, permission):
        require_flag(permission, "supports_copy")
        require_flag(permission, "supports_transactions")
        with pytest.raises(Boom), permission.transaction():
            permission.import_permissions([("alice", "g")], [(BUCKET, "read", "alice")])
            raise Boom()
        assert permission.export_user_principals() == []
        assert permission.export_access_control_entries() == []

    # -- concurrency -----------------------------------------------------------------

    def test_threads_granting_at_once_lose_no_principal(self, permission):
        def grant(thread: int) -> None:
            for index in range(25):
                permission.add_principal_to_ace(BUCKET, "read", f"t{thread}-{index}")
                permission.add_user_principal(f"user{index}", f"group{thread}")

        run_in_threads(grant, count=6)
        expected = {f"t{thread}-{index}" for thread in range(6) for index in range(25)}
        assert permission.get_object_permission_principals(BUCKET, "read") == expected
        assert permission.get_user_principals("user3") == {f"group{thread}" for thread in range(6)}

    def test_processes_granting_at_once_lose_no_principal(self, permission, backend_factory):
        require_flag(permission, "supports_concurrent_processes")

        def grant(process: int, mine: PermissionBase) -> None:
            for index in range(40):
                with mine.transaction():
                    mine.add_principal_to_ace(BUCKET, "read", f"p{process}-{index}")
                    mine.replace_object_permissions(f"{COLLECTION}/records/p{process}-{index}", {"write": ["me"]})

        run_in_processes(grant, count=2, prepare=lambda process: build_unflushed(backend_factory))
        expected = {f"p{process}-{index}" for process in range(2) for index in range(40)}
        assert permission.get_object_permission_principals(BUCKET, "read") == expected
        written = permission.get_accessible_objects(["me"], [(f"{COLLECTION}/records/*", "write")])
        assert len(written) == 80
