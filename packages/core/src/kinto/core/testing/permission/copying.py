"""The permission contract: copying a whole store (``supports_copy``)."""

from __future__ import annotations

import pytest

from kinto.core.testing.permission.base import (
    BUCKET,
    COLLECTION,
    RECORD,
    Boom,
    PermissionSuite,
)
from kinto.core.testing.plugin import require_flag


class CopyContract(PermissionSuite):
    """``PermissionContract``'s tests of copying a whole store (``supports_copy``)."""

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
