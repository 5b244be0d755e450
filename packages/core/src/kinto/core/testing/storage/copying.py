"""The storage contract: copying a whole store (``supports_copy``)."""

from __future__ import annotations

import pytest

from kinto.core.storage import Filter, Sort
from kinto.core.storage.exceptions import (
    InvalidValueError,
    ObjectNotFoundError,
)
from kinto.core.testing.storage.base import (
    OTHER_PARENT,
    PARENT,
    RESOURCE,
    C,
    StorageSuite,
    _ids,
)


class CopyContract(StorageSuite):
    """``StorageContract``'s tests of copying a whole store."""

    # --- copying a whole store (supports_copy) ---------------------------------------------------------------

    def test_all_timestamps_maps_every_collection(self, storage):
        self.require(storage, "supports_copy")
        a = storage.create(RESOURCE, PARENT, {})["last_modified"]
        b = storage.create("other", "", {})["last_modified"]
        empty = storage.resource_timestamp(RESOURCE, OTHER_PARENT)
        assert storage.all_timestamps() == {(RESOURCE, PARENT): a, ("other", ""): b, (RESOURCE, OTHER_PARENT): empty}

    def test_imported_objects_keep_their_ids_timestamps_and_fields(self, storage):
        self.require(storage, "supports_copy")
        objects = [
            {"id": "b", "last_modified": 30, "deleted": False, "n": [1, {"x": None}]},
            {"id": "a", "last_modified": 10},
        ]
        storage.import_objects(
            RESOURCE, PARENT, objects, tombstones=[{"id": "c", "last_modified": 20, "deleted": True}]
        )
        listed = storage.list_all(RESOURCE, PARENT, include_deleted=True, sorting=[Sort("last_modified", 1)])
        assert listed == [
            {"id": "a", "last_modified": 10},
            {"id": "c", "last_modified": 20, "deleted": True},
            {"id": "b", "last_modified": 30, "deleted": False, "n": [1, {"x": None}]},
        ]
        assert storage.get(RESOURCE, PARENT, "b")["deleted"] is False
        assert set(_ids(storage.list_all(RESOURCE, PARENT))) == {"a", "b"}
        assert storage.resource_timestamp(RESOURCE, PARENT) == 30

    def test_imported_tombstones_are_tombstones_whatever_they_hold(self, storage):
        self.require(storage, "supports_copy")
        storage.import_objects(RESOURCE, PARENT, [], tombstones=[{"id": "t", "last_modified": 5, "title": "x"}])
        with pytest.raises(ObjectNotFoundError):
            storage.get(RESOURCE, PARENT, "t")
        assert storage.list_all(RESOURCE, PARENT, include_deleted=True) == [
            {"id": "t", "last_modified": 5, "deleted": True}
        ]
        assert storage.count_all(RESOURCE, PARENT) == 0

    def test_imported_collections_answer_since_filters_and_pages(self, storage):
        self.require(storage, "supports_copy")
        objects = [{"id": f"o{i:02}", "last_modified": 1000 + i} for i in range(0, 40, 2)]
        tombstones = [{"id": f"o{i:02}", "last_modified": 1000 + i} for i in range(1, 40, 2)]
        storage.import_objects(RESOURCE, PARENT, objects[::-1], tombstones=tombstones, timestamp=2000)
        since = storage.list_all(
            RESOURCE,
            PARENT,
            filters=[Filter("last_modified", 1030, C.GT)],
            include_deleted=True,
            sorting=[Sort("last_modified", -1)],
        )
        assert [obj["last_modified"] for obj in since] == list(range(1039, 1030, -1))
        assert [obj.get("deleted", False) for obj in since[:2]] == [True, False]
        first = storage.list_all(RESOURCE, PARENT, sorting=[Sort("last_modified", -1)], limit=3)
        assert _ids(first) == ["o38", "o36", "o34"]
        assert storage.count_all(RESOURCE, PARENT, include_deleted=True) == 40
        assert storage.resource_timestamp(RESOURCE, PARENT) == 2000

    def test_import_replaces_live_objects_and_tombstones_of_the_same_id(self, storage):
        self.require(storage, "supports_copy")
        storage.create(RESOURCE, PARENT, {"id": "live", "old": True})
        storage.create(RESOURCE, PARENT, {"id": "dead"})
        storage.delete(RESOURCE, PARENT, "dead")
        storage.import_objects(
            RESOURCE,
            PARENT,
            [{"id": "dead", "last_modified": 7, "new": True}],
            tombstones=[{"id": "live", "last_modified": 8}],
        )
        assert storage.get(RESOURCE, PARENT, "dead") == {"id": "dead", "last_modified": 7, "new": True}
        with pytest.raises(ObjectNotFoundError):
            storage.get(RESOURCE, PARENT, "live")
        assert storage.count_all(RESOURCE, PARENT, include_deleted=True) == 2

    def test_import_sets_a_given_collection_timestamp_even_a_lower_one(self, storage):
        self.require(storage, "supports_copy")
        current = storage.resource_timestamp(RESOURCE, PARENT)
        storage.import_objects(RESOURCE, PARENT, [], timestamp=current - 1000)
        assert storage.resource_timestamp(RESOURCE, PARENT) == current - 1000
        storage.import_objects(RESOURCE, OTHER_PARENT, [], timestamp=42)
        assert storage.all_timestamps()[(RESOURCE, OTHER_PARENT)] == 42
        assert storage.list_all(RESOURCE, OTHER_PARENT, include_deleted=True) == []

    def test_import_raises_a_given_timestamp_to_the_highest_imported_stamp(self, storage):
        self.require(storage, "supports_copy")
        storage.import_objects(RESOURCE, PARENT, [{"id": "a", "last_modified": 50}], timestamp=40)
        assert storage.resource_timestamp(RESOURCE, PARENT) == 50

    def test_import_without_timestamp_never_lowers_the_collection_timestamp(self, storage):
        self.require(storage, "supports_copy")
        current = storage.create(RESOURCE, PARENT, {"id": "a"})["last_modified"]
        storage.import_objects(RESOURCE, PARENT, [{"id": "old", "last_modified": 10}])
        assert storage.resource_timestamp(RESOURCE, PARENT) == current
        storage.import_objects(RESOURCE, PARENT, [], tombstones=[{"id": "new", "last_modified": current + 5}])
        assert storage.resource_timestamp(RESOURCE, PARENT) == current + 5
        assert storage.create(RESOURCE, PARENT, {"id": "next"})["last_modified"] > current + 5

    @pytest.mark.parametrize(
        "obj",
        [
            {"last_modified": 1},
            {"id": "x"},
            {"id": "x", "last_modified": "1"},
            {"id": "x", "last_modified": True},
            {"id": 3, "last_modified": 1},
            {"id": "x", "last_modified": 1, "v": "\x00"},
        ],
        ids=["no-id", "no-timestamp", "string-timestamp", "boolean-timestamp", "number-id", "nul"],
    )
    def test_import_refuses_objects_without_id_or_integer_timestamp_and_stores_nothing(self, storage, obj):
        self.require(storage, "supports_copy")
        with pytest.raises(InvalidValueError):
            storage.import_objects(RESOURCE, PARENT, [{"id": "fine", "last_modified": 1}, obj])
        assert storage.list_all(RESOURCE, PARENT, include_deleted=True) == []
        assert (RESOURCE, PARENT) not in storage.all_timestamps()

    def test_import_inside_a_failed_transaction_is_rolled_back(self, storage):
        self.require(storage, "supports_copy")
        self.require(storage, "supports_transactions")
        with pytest.raises(RuntimeError), storage.transaction():
            storage.import_objects(RESOURCE, PARENT, [{"id": "a", "last_modified": 1}], timestamp=5)
            raise RuntimeError("abort")
        assert storage.list_all(RESOURCE, PARENT, include_deleted=True) == []
        assert storage.all_timestamps() == {}
