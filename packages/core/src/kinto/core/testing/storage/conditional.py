"""The storage contract: conditional writes (``writes_conditionally``, ``if_last_modified``).

A backend declaring the flag writes an ``update`` or a ``delete`` given ``if_last_modified`` only
over the live object at exactly that timestamp; the resources then skip the collection's lock, so
these tests are what stands between concurrent writers and a lost update.
"""

from __future__ import annotations

import threading

import pytest

from kinto.core.storage import StorageBase
from kinto.core.storage.exceptions import InvalidValueError, ObjectChangedError, ObjectNotFoundError
from kinto.core.testing.plugin import run_in_threads
from kinto.core.testing.storage.base import OTHER_PARENT, PARENT, RESOURCE, StorageSuite


class ConditionalWritesContract(StorageSuite):
    @pytest.fixture
    def conditional(self, storage: StorageBase) -> StorageBase:
        self.require(storage, "writes_conditionally")
        return storage

    def test_update_at_the_expected_version_writes(self, conditional):
        created = conditional.create(RESOURCE, PARENT, {"id": "doc", "v": 1})
        updated = conditional.update(RESOURCE, PARENT, "doc", {"v": 2}, if_last_modified=created["last_modified"])
        assert updated["v"] == 2
        assert updated["last_modified"] > created["last_modified"]
        assert conditional.get(RESOURCE, PARENT, "doc") == updated

    def test_update_at_another_version_writes_nothing(self, conditional):
        created = conditional.create(RESOURCE, PARENT, {"id": "doc", "v": 1})
        current = conditional.update(RESOURCE, PARENT, "doc", {"v": 2})
        with pytest.raises(ObjectChangedError) as raised:
            conditional.update(RESOURCE, PARENT, "doc", {"v": 3}, if_last_modified=created["last_modified"])
        assert raised.value.object_id == "doc"
        assert conditional.get(RESOURCE, PARENT, "doc") == current

    @pytest.mark.parametrize("with_tombstone", [True, False])
    def test_update_of_a_missing_object_creates_nothing(self, conditional, with_tombstone):
        created = conditional.create(RESOURCE, PARENT, {"id": "doc", "v": 1})
        conditional.delete(RESOURCE, PARENT, "doc", with_deleted=with_tombstone)
        for object_id in ("doc", "never-stored"):
            with pytest.raises(ObjectChangedError):
                conditional.update(RESOURCE, PARENT, object_id, {"v": 2}, if_last_modified=created["last_modified"])
            with pytest.raises(ObjectNotFoundError):
                conditional.get(RESOURCE, PARENT, object_id)
        deleted = conditional.list_all(RESOURCE, PARENT, include_deleted=True)
        assert [obj["id"] for obj in deleted] == (["doc"] if with_tombstone else [])

    def test_the_version_is_the_one_of_this_collection(self, conditional):
        here = conditional.create(RESOURCE, PARENT, {"id": "doc", "v": 1})
        there = conditional.create(RESOURCE, OTHER_PARENT, {"id": "doc", "v": 1})
        conditional.update(RESOURCE, OTHER_PARENT, "doc", {"v": 2})
        with pytest.raises(ObjectChangedError):
            conditional.update(RESOURCE, OTHER_PARENT, "doc", {"v": 3}, if_last_modified=there["last_modified"])
        conditional.update(RESOURCE, PARENT, "doc", {"v": 3}, if_last_modified=here["last_modified"])
        assert conditional.get(RESOURCE, PARENT, "doc")["v"] == 3
        assert conditional.get(RESOURCE, OTHER_PARENT, "doc")["v"] == 2

    @pytest.mark.parametrize("with_deleted", [True, False])
    def test_delete_at_the_expected_version_deletes(self, conditional, with_deleted):
        created = conditional.create(RESOURCE, PARENT, {"id": "doc", "v": 1})
        tombstone = conditional.delete(
            RESOURCE, PARENT, "doc", with_deleted=with_deleted, if_last_modified=created["last_modified"]
        )
        assert tombstone["deleted"] is True
        assert tombstone["last_modified"] > created["last_modified"]
        with pytest.raises(ObjectNotFoundError):
            conditional.get(RESOURCE, PARENT, "doc")

    @pytest.mark.parametrize("with_deleted", [True, False])
    def test_delete_at_another_version_deletes_nothing(self, conditional, with_deleted):
        created = conditional.create(RESOURCE, PARENT, {"id": "doc", "v": 1})
        current = conditional.update(RESOURCE, PARENT, "doc", {"v": 2})
        with pytest.raises(ObjectChangedError):
            conditional.delete(
                RESOURCE, PARENT, "doc", with_deleted=with_deleted, if_last_modified=created["last_modified"]
            )
        assert conditional.get(RESOURCE, PARENT, "doc") == current
        conditional.delete(RESOURCE, PARENT, "doc")
        with pytest.raises(ObjectChangedError):
            conditional.delete(RESOURCE, PARENT, "doc", if_last_modified=current["last_modified"])

    @pytest.mark.parametrize("version", ["123", 1.5, True, [1]])
    def test_a_version_that_is_not_an_integer_is_refused(self, conditional, version):
        created = conditional.create(RESOURCE, PARENT, {"id": "doc", "v": 1})
        with pytest.raises(InvalidValueError):
            conditional.update(RESOURCE, PARENT, "doc", {"v": 2}, if_last_modified=version)
        with pytest.raises(InvalidValueError):
            conditional.delete(RESOURCE, PARENT, "doc", if_last_modified=version)
        assert conditional.get(RESOURCE, PARENT, "doc") == created

    def test_a_refused_write_leaves_the_transaction_usable(self, conditional):
        self.require(conditional, "supports_transactions")
        created = conditional.create(RESOURCE, PARENT, {"id": "doc", "v": 1})
        conditional.update(RESOURCE, PARENT, "doc", {"v": 2})
        with conditional.transaction():
            with pytest.raises(ObjectChangedError):
                conditional.update(RESOURCE, PARENT, "doc", {"v": 3}, if_last_modified=created["last_modified"])
            current = conditional.get(RESOURCE, PARENT, "doc")
            conditional.update(RESOURCE, PARENT, "doc", {"v": 4}, if_last_modified=current["last_modified"])
        assert conditional.get(RESOURCE, PARENT, "doc")["v"] == 4

    def test_of_writers_expecting_one_version_one_wins(self, conditional):
        self.require(conditional, "supports_transactions")
        created = conditional.create(RESOURCE, PARENT, {"id": "doc", "by": None})
        barrier = threading.Barrier(4)
        winners: list[int] = []

        def writer(thread: int) -> None:
            barrier.wait()
            try:
                with conditional.transaction():
                    conditional.update(
                        RESOURCE, PARENT, "doc", {"by": thread}, if_last_modified=created["last_modified"]
                    )
            except ObjectChangedError:
                return
            winners.append(thread)

        run_in_threads(writer, count=4)
        assert len(winners) == 1
        assert conditional.get(RESOURCE, PARENT, "doc")["by"] == winners[0]

    def test_read_then_conditional_write_loses_no_update(self, conditional):
        # What the resources do without the collection's lock: read, write if unchanged, else again.
        self.require(conditional, "supports_transactions")
        conditional.create(RESOURCE, PARENT, {"id": "counter", "value": 0})

        def incrementer(thread: int) -> None:
            for _ in range(10):
                while True:
                    with conditional.transaction():
                        counter = conditional.get(RESOURCE, PARENT, "counter")
                        try:
                            conditional.update(
                                RESOURCE,
                                PARENT,
                                "counter",
                                {"value": counter["value"] + 1},
                                if_last_modified=counter["last_modified"],
                            )
                            break
                        except ObjectChangedError:
                            continue  # changed since read: read again

        run_in_threads(incrementer, count=4)
        assert conditional.get(RESOURCE, PARENT, "counter")["value"] == 40
