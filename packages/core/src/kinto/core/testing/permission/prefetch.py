"""The permission contract: reading ahead (``prefetch``) answers what the reads would."""

from __future__ import annotations

from kinto.core.testing.permission.base import (
    BUCKET,
    COLLECTION,
    RECORD,
    PermissionSuite,
)


class PrefetchContract(PermissionSuite):
    """``PermissionContract``'s tests of the reads made ahead of a permission check."""

    def test_prefetch_answers_the_bounded_principals_and_the_objects_permissions(self, permission):
        permission.add_user_principal("alice", "group:b")
        permission.add_user_principal("alice", "group:a")
        permission.add_user_principal("system.Authenticated", "group:all")
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        permission.add_principal_to_ace(RECORD, "write", "group:a")
        ids = [RECORD, COLLECTION, BUCKET, RECORD]
        principals, acls = permission.prefetch("alice", 2, ids)()
        assert principals == permission.get_user_principals_bounded("alice", 2)
        assert acls == permission.get_objects_permissions(ids)
        assert acls[0] == {"write": {"group:a"}} and acls[1] == {}

    def test_prefetch_for_nobody_and_no_object_reads_nothing(self, permission):
        permission.add_user_principal("system.Authenticated", "group:all")
        assert permission.prefetch(None, 10, [])() == ([], [])
        assert permission.prefetch("alice", 10, [])() == (["group:all"], [])
        assert permission.prefetch("alice", 0, [BUCKET])() == ([], [{}])

    def test_prefetch_in_a_read_transaction_reads_in_it(self, permission):
        permission.add_principal_to_ace(BUCKET, "read", "alice")
        with permission.transaction(write=False):
            assert permission.prefetch(None, 10, [BUCKET])() == ([], [{"read": {"alice"}}])
