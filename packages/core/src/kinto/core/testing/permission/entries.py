"""The permission contract: access control entries: granting, checking, reading, replacing and deleting them."""

from __future__ import annotations

from kinto.core.testing.permission.base import (
    BUCKET,
    COLLECTION,
    RECORD,
    PermissionSuite,
    _grant,
)


class EntriesContract(PermissionSuite):
    """``PermissionContract``'s tests of access control entries."""

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

    def test_ids_and_principals_with_array_syntax_are_taken_literally(self, permission):
        # Characters an SQL array literal gives meaning to, and the word NULL: a backend passing
        # lists as arrays must quote them, in every method taking several at once.
        awkward = ["a,b", 'q"uote', "back\\slash", "{brace}", "NULL", " spaced ", ""]
        objects = [f"/buckets/{name}" for name in awkward]
        for object_id, principal in zip(objects, awkward, strict=True):
            permission.replace_object_permissions(object_id, {"read": [principal], "write": [principal]})
        assert permission.get_objects_permissions(objects) == [{"read": {p}, "write": {p}} for p in awkward]
        assert permission.get_objects_permissions(objects, ["read"]) == [{"read": {p}} for p in awkward]
        assert permission.prefetch(None, 10, objects)()[1] == permission.get_objects_permissions(objects)
        for object_id, principal in zip(objects, awkward, strict=True):
            assert permission.check_permission({principal}, [(object_id, "read")]) is True
            assert permission.check_permission({principal + "x"}, [(object_id, "read")]) is False
            assert permission.get_accessible_objects([principal], [(object_id, "write")]) == {object_id: {"write"}}
        assert permission.get_authorized_principals([(uri, "read") for uri in objects]) == set(awkward)
        permission.delete_object_permissions(*objects[:3])
        assert permission.get_objects_permissions(objects[:4]) == [
            {},
            {},
            {},
            {"read": {"{brace}"}, "write": {"{brace}"}},
        ]

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
