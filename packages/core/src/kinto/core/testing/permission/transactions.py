"""The permission contract: transactions, savepoints and concurrent writers."""

from __future__ import annotations

import pytest

from kinto.core.permission import PermissionBase
from kinto.core.testing.permission.base import (
    BUCKET,
    COLLECTION,
    RECORD,
    Boom,
    PermissionSuite,
)
from kinto.core.testing.plugin import (
    build_unflushed,
    require_flag,
    run_in_processes,
    run_in_threads,
)


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


class TransactionsContract(PermissionSuite):
    """``PermissionContract``'s tests of transactions, savepoints and concurrent writers."""

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
