"""The permission contract: ``get_accessible_objects``: the objects principals may reach, by id or pattern."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kinto.core.testing.permission.base import (
    BUCKET,
    COLLECTION,
    RECORD,
    PermissionSuite,
    _reference_match,
)
from kinto.core.testing.plugin import CONTRACT_HEALTH_CHECKS


class AccessibleObjectsContract(PermissionSuite):
    """``PermissionContract``'s tests of ``get_accessible_objects``."""

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
