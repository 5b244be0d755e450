"""The storage contract: transactions and savepoints (``supports_transactions``, ``supports_savepoints``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from kinto.core.storage import Sort, StorageBase
from kinto.core.storage.exceptions import UnicityError
from kinto.core.testing.plugin import run_in_threads
from kinto.core.testing.storage.base import (
    OTHER_PARENT,
    PARENT,
    RESOURCE,
    StorageSuite,
    _ids,
)


def _create_objects_to_change(storage: StorageBase) -> None:
    """Under PARENT: ``kept`` and ``doomed`` (``v`` 1) and the tombstone of ``tomb``."""
    storage.create(RESOURCE, PARENT, {"id": "kept", "v": 1})
    storage.create(RESOURCE, PARENT, {"id": "doomed", "v": 1})
    storage.create(RESOURCE, PARENT, {"id": "tomb"})
    storage.delete(RESOURCE, PARENT, "tomb")


def _make_every_kind_of_write(storage: StorageBase) -> None:
    """After ``_create_objects_to_change``: create, update, delete, revive a tombstone, purge, and write elsewhere."""
    storage.create(RESOURCE, PARENT, {"id": "new"})
    storage.update(RESOURCE, PARENT, "kept", {"v": 2})
    storage.delete(RESOURCE, PARENT, "doomed")
    storage.create(RESOURCE, PARENT, {"id": "tomb"})
    storage.purge_deleted(RESOURCE, PARENT)
    storage.create(RESOURCE, OTHER_PARENT, {"id": "elsewhere"})


def _parent_state(storage: StorageBase) -> tuple[list[dict[str, Any]], int]:
    """Every object under PARENT, tombstones included, sorted by id; and PARENT's timestamp."""
    listed = storage.list_all(RESOURCE, PARENT, include_deleted=True, sorting=[Sort("id", 1)])
    return listed, storage.resource_timestamp(RESOURCE, PARENT)


def _assert_the_failed_transaction_undoes_an_inner_block(
    storage: StorageBase, inner: Callable[[], AbstractContextManager[Any]]
) -> None:
    """An object created in a block of ``inner()`` left normally is gone when the transaction around it fails."""
    with pytest.raises(RuntimeError), storage.transaction():
        with inner():
            storage.create(RESOURCE, PARENT, {"id": "inside"})
        raise RuntimeError("the request failed after the inner block")
    assert storage.list_all(RESOURCE, PARENT) == []


class TransactionsContract(StorageSuite):
    """``StorageContract``'s tests of transactions and savepoints."""

    # --- transactions -----------------------------------------------------------------------------------

    def test_a_committed_transaction_keeps_every_write(self, storage):
        self.require(storage, "supports_transactions")
        with storage.transaction():
            storage.create(RESOURCE, PARENT, {"id": "a"})
            storage.update(RESOURCE, PARENT, "b", {})
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("id", 1)])) == ["a", "b"]

    def test_a_failed_transaction_leaves_storage_as_before(self, storage):
        self.require(storage, "supports_transactions")
        _create_objects_to_change(storage)
        before = _parent_state(storage)
        with pytest.raises(RuntimeError), storage.transaction():
            _make_every_kind_of_write(storage)
            raise RuntimeError("the request failed")
        assert _parent_state(storage) == before
        assert storage.list_all(RESOURCE, OTHER_PARENT, include_deleted=True) == []

    def test_nested_transactions_join_the_outer_one(self, storage):
        self.require(storage, "supports_transactions")
        _assert_the_failed_transaction_undoes_an_inner_block(storage, storage.transaction)

    def test_writes_are_visible_inside_their_transaction(self, storage):
        self.require(storage, "supports_transactions")
        with storage.transaction():
            storage.create(RESOURCE, PARENT, {"id": "a", "v": 1})
            assert storage.get(RESOURCE, PARENT, "a")["v"] == 1
            assert storage.count_all(RESOURCE, PARENT) == 1

    def test_read_transactions_commit_their_reads(self, storage):
        self.require(storage, "supports_transactions")
        storage.create(RESOURCE, PARENT, {"id": "a"})
        with storage.transaction(write=False):
            assert storage.get(RESOURCE, PARENT, "a")["id"] == "a"
            stamp = storage.resource_timestamp(RESOURCE, OTHER_PARENT)
        assert storage.resource_timestamp(RESOURCE, OTHER_PARENT) == stamp

    def test_uncommitted_writes_are_invisible_to_other_threads(self, storage):
        self.require(storage, "supports_transactions")
        seen: list[int] = []
        with storage.transaction():
            storage.create(RESOURCE, PARENT, {"id": "pending"})
            reader = threading.Thread(target=lambda: seen.append(storage.count_all(RESOURCE, PARENT)))
            reader.start()
            reader.join(timeout=0.5)
            finished_inside = not reader.is_alive()
        reader.join()
        # A reader that answered during the transaction saw the state before it;
        # one that was made to wait (memory) answers with the committed state.
        assert seen == ([0] if finished_inside else [1])
        assert storage.count_all(RESOURCE, PARENT) == 1

    def test_lock_for_write_prevents_lost_updates(self, storage):
        self.require(storage, "supports_transactions")
        storage.create(RESOURCE, PARENT, {"id": "counter", "value": 0})

        def incrementer(thread: int) -> None:
            for _ in range(10):
                with storage.transaction():
                    storage.lock_for_write(RESOURCE, PARENT)
                    counter = storage.get(RESOURCE, PARENT, "counter")
                    storage.update(RESOURCE, PARENT, "counter", {"value": counter["value"] + 1})

        run_in_threads(incrementer, count=4)
        assert storage.get(RESOURCE, PARENT, "counter")["value"] == 40

    def test_concurrent_creates_of_one_id_store_one_and_refuse_the_others(self, storage):
        # Without lock_for_write: the create itself must see the object a racer stored meanwhile.
        self.require(storage, "supports_transactions")
        barrier = threading.Barrier(4)
        winners: list[int] = []

        def creator(thread: int) -> None:
            barrier.wait()
            try:
                with storage.transaction():
                    storage.create(RESOURCE, PARENT, {"id": "raced", "by": thread})
                    time.sleep(0.05)  # the others check the id meanwhile
            except UnicityError:
                return
            winners.append(thread)

        run_in_threads(creator, count=4)
        assert len(winners) == 1
        assert storage.get(RESOURCE, PARENT, "raced")["by"] == winners[0]

    # --- savepoints ---------------------------------------------------------------------------------

    def test_savepoint_is_a_context_manager_even_without_support(self, storage):
        assert isinstance(type(storage).supports_savepoints, bool)
        with storage.savepoint():
            storage.create(RESOURCE, PARENT, {"id": "outside"})
        with storage.transaction(), storage.savepoint():
            storage.create(RESOURCE, PARENT, {"id": "inside"})
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("id", 1)])) == ["inside", "outside"]

    def test_a_failed_savepoint_undoes_its_block_only(self, storage):
        self.require(storage, "supports_savepoints")
        _create_objects_to_change(storage)
        with storage.transaction():
            storage.create(RESOURCE, PARENT, {"id": "before"})
            before = _parent_state(storage)
            _, stamp = before
            with pytest.raises(RuntimeError), storage.savepoint():
                _make_every_kind_of_write(storage)
                raise RuntimeError("the sub-request failed")
            assert _parent_state(storage) == before
            after = storage.create(RESOURCE, PARENT, {"id": "after"})
        assert after["last_modified"] > stamp
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("id", 1)])) == [
            "after",
            "before",
            "doomed",
            "kept",
        ]
        assert storage.get(RESOURCE, PARENT, "kept")["v"] == 1
        assert storage.list_all(RESOURCE, OTHER_PARENT, include_deleted=True) == []
        listed = storage.list_all(RESOURCE, PARENT, sorting=[Sort("last_modified", -1)], include_deleted=True)
        assert [o["last_modified"] for o in listed] == sorted((o["last_modified"] for o in listed), reverse=True)

    def test_a_savepoint_left_normally_commits_with_the_transaction(self, storage):
        self.require(storage, "supports_savepoints")
        with storage.transaction():
            with storage.savepoint():
                storage.create(RESOURCE, PARENT, {"id": "inside"})
            storage.create(RESOURCE, PARENT, {"id": "outside"})
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("id", 1)])) == ["inside", "outside"]

    def test_savepoints_nest(self, storage):
        self.require(storage, "supports_savepoints")
        with storage.transaction():
            with storage.savepoint():
                storage.create(RESOURCE, PARENT, {"id": "outer"})
                with pytest.raises(RuntimeError), storage.savepoint():
                    storage.create(RESOURCE, PARENT, {"id": "inner"})
                    storage.delete(RESOURCE, PARENT, "outer")
                    raise RuntimeError("inner fails")
                assert _ids(storage.list_all(RESOURCE, PARENT)) == ["outer"]
            with pytest.raises(RuntimeError), storage.savepoint():
                storage.create(RESOURCE, PARENT, {"id": "second"})
                with storage.savepoint():
                    storage.create(RESOURCE, PARENT, {"id": "released-inside-a-failed-one"})
                raise RuntimeError("outer fails after its inner one was released")
        assert _ids(storage.list_all(RESOURCE, PARENT)) == ["outer"]

    def test_a_savepoint_left_normally_rolls_back_with_the_transaction(self, storage):
        self.require(storage, "supports_savepoints")
        _assert_the_failed_transaction_undoes_an_inner_block(storage, storage.savepoint)

    def test_lock_for_write_outside_a_transaction_is_harmless(self, storage):
        storage.lock_for_write(RESOURCE, PARENT)
        storage.create(RESOURCE, PARENT, {"id": "a"})
        assert storage.count_all(RESOURCE, PARENT) == 1
