"""The storage contract: ``create_many``, ``delete_all``, ``purge_deleted``, parents, ``flush`` and ``trim_objects``."""

from __future__ import annotations

import pytest

from kinto.core.storage import Filter, InvalidValueError, Sort, StorageBase, UnicityError
from kinto.core.testing.storage.base import (
    ALL_TYPED,
    OTHER_PARENT,
    PARENT,
    RESOURCE,
    C,
    StorageSuite,
    _ids,
)


class BulkContract(StorageSuite):
    """``StorageContract``'s tests of create_many, delete_all, purge_deleted, parents, flush and trim_objects."""

    # --- create_many --------------------------------------------------------------------------------------

    def test_create_many_stores_objects_as_creates_in_a_row_would(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "before"})
        before = storage.resource_timestamp(RESOURCE, PARENT)
        created = storage.create_many(RESOURCE, PARENT, [{"n": 1}, {"id": "given", "n": 2}, {"n": 3}])
        stamps = [obj["last_modified"] for obj in created]
        assert [obj["n"] for obj in created] == [1, 2, 3]
        assert created[1]["id"] == "given" and len({obj["id"] for obj in created}) == 3
        assert before < stamps[0] < stamps[1] < stamps[2]
        assert storage.resource_timestamp(RESOURCE, PARENT) == stamps[2]
        assert [storage.get(RESOURCE, PARENT, obj["id"]) for obj in created] == created

    def test_create_many_keeps_a_requested_timestamp_only_when_greater(self, storage):
        current = storage.resource_timestamp(RESOURCE, PARENT)
        created = storage.create_many(
            RESOURCE, PARENT, [{"last_modified": current + 1000}, {"last_modified": current + 10}, {}]
        )
        stamps = [obj["last_modified"] for obj in created]
        assert stamps[0] == current + 1000
        assert stamps[0] < stamps[1] < stamps[2]

    def test_create_many_refuses_an_id_that_is_alive(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "taken", "v": 1})
        with pytest.raises(UnicityError) as raised:
            storage.create_many(RESOURCE, PARENT, [{"id": "new"}, {"id": "taken", "v": 2}])
        assert raised.value.existing["v"] == 1
        with pytest.raises(UnicityError):
            storage.create_many(RESOURCE, PARENT, [{"id": "twice"}, {"id": "twice"}])

    def test_create_many_replaces_tombstones(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "gone", "v": 1})
        storage.delete(RESOURCE, PARENT, "gone")
        created = storage.create_many(RESOURCE, PARENT, [{"id": "gone", "v": 2}])
        assert storage.get(RESOURCE, PARENT, "gone") == created[0]
        assert storage.count_all(RESOURCE, PARENT, include_deleted=True) == 1

    def test_create_many_of_nothing_stores_nothing(self, storage):
        before = storage.resource_timestamp(RESOURCE, PARENT)
        assert storage.create_many(RESOURCE, PARENT, []) == []
        assert storage.resource_timestamp(RESOURCE, PARENT) == before

    def test_create_many_refuses_what_create_refuses(self, storage):
        with pytest.raises(InvalidValueError):
            storage.create_many(RESOURCE, PARENT, [{"ok": 1}, {"bad": "nul\x00"}])

    # --- delete_all ---------------------------------------------------------------------------------------

    def test_delete_all_deletes_the_collection_and_returns_tombstones(self, typed):
        tombstones = typed.delete_all(RESOURCE, PARENT)
        assert {t["id"] for t in tombstones} == ALL_TYPED
        assert all(set(t) == {"id", "last_modified", "deleted"} for t in tombstones)
        assert typed.list_all(RESOURCE, PARENT) == []
        assert typed.count_all(RESOURCE, PARENT, include_deleted=True) == len(ALL_TYPED)
        assert _ids(typed.list_all(RESOURCE, OTHER_PARENT)) == ["elsewhere"]

    def test_delete_all_bumps_the_collection_timestamp(self, typed):
        before = typed.resource_timestamp(RESOURCE, PARENT)
        tombstones = typed.delete_all(RESOURCE, PARENT)
        stamps = [t["last_modified"] for t in tombstones]
        assert min(stamps) > before
        assert len(set(stamps)) == len(stamps)
        assert typed.resource_timestamp(RESOURCE, PARENT) == max(stamps)

    def test_delete_all_with_filters(self, typed):
        tombstones = typed.delete_all(RESOURCE, PARENT, filters=[Filter("v", 0, C.GT)])
        assert {t["id"] for t in tombstones} == {"n1", "n2", "n10"}
        assert typed.count_all(RESOURCE, PARENT) == len(ALL_TYPED) - 3

    def test_contains_compares_whole_elements(self, storage):
        # One semantics on every backend: an element equals a listed value as
        # ``eq`` does; an object element holding more keys is another value.
        storage.create(RESOURCE, PARENT, {"id": "exact", "tags": [{"k": "v"}, [1, 2]]})
        storage.create(RESOURCE, PARENT, {"id": "larger", "tags": [{"k": "v", "owner": "x"}, [1, 2, 3]]})
        storage.create(RESOURCE, PARENT, {"id": "nested", "tags": [[{"k": "v"}]]})
        cases = [
            (Filter("tags", [{"k": "v"}], C.CONTAINS), {"exact"}),
            (Filter("tags", [[1, 2]], C.CONTAINS), {"exact"}),
            (Filter("tags", [{"k": "v"}, [1, 2]], C.CONTAINS), {"exact"}),
            (Filter("tags", [{"k": "v", "owner": "x"}], C.CONTAINS), {"larger"}),
            (Filter("tags", [{}], C.CONTAINS), set()),
            (Filter("tags", [[]], C.CONTAINS), set()),
            (Filter("tags", [{"k": "v"}], C.CONTAINS_ANY), {"exact"}),
            (Filter("tags", [[1, 2], "other"], C.CONTAINS_ANY), {"exact"}),
            (Filter("tags", [[{"k": "v"}]], C.CONTAINS_ANY), {"nested"}),
        ]
        for filter_, expected in cases:
            assert set(_ids(storage.list_all(RESOURCE, PARENT, filters=[filter_]))) == expected, filter_
            assert storage.count_all(RESOURCE, PARENT, filters=[filter_]) == len(expected), filter_

    def test_delete_all_with_contains_deletes_only_exact_elements(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "exact", "tags": [{"k": "v"}]})
        storage.create(RESOURCE, PARENT, {"id": "larger", "tags": [{"k": "v", "owner": "x"}]})
        tombstones = storage.delete_all(RESOURCE, PARENT, filters=[Filter("tags", [{"k": "v"}], C.CONTAINS)])
        assert [t["id"] for t in tombstones] == ["exact"]
        assert _ids(storage.list_all(RESOURCE, PARENT)) == ["larger"]

    def test_delete_all_with_sorting_and_limit(self, storage):
        for i in range(6):
            storage.create(RESOURCE, PARENT, {"id": f"o{i}", "rank": i % 3})
        tombstones = storage.delete_all(RESOURCE, PARENT, sorting=[Sort("rank", -1), Sort("id", 1)], limit=3)
        assert [t["id"] for t in tombstones] == ["o2", "o5", "o1"]
        assert set(_ids(storage.list_all(RESOURCE, PARENT))) == {"o0", "o3", "o4"}

    def test_delete_all_with_pagination_rules(self, storage):
        for i in range(4):
            storage.create(RESOURCE, PARENT, {"id": f"o{i}"})
        tombstones = storage.delete_all(RESOURCE, PARENT, pagination_rules=[[Filter("id", "o1", C.GT)]])
        assert sorted(t["id"] for t in tombstones) == ["o2", "o3"]

    def test_delete_all_without_tombstones(self, typed):
        typed.delete_all(RESOURCE, PARENT, with_deleted=False)
        assert typed.list_all(RESOURCE, PARENT, include_deleted=True) == []

    def test_delete_all_with_a_parent_wildcard(self, typed):
        tombstones = typed.delete_all(RESOURCE, "/buckets/a/*")
        assert len(tombstones) == len(ALL_TYPED) + 1
        assert typed.list_all(RESOURCE, OTHER_PARENT) == []
        assert _ids(typed.list_all("other", PARENT)) == ["other-resource"]

    def test_delete_all_of_every_resource_under_a_parent(self, typed):
        typed.delete_all(None, PARENT)
        assert typed.list_all(RESOURCE, PARENT) == []
        assert typed.list_all("other", PARENT) == []
        assert _ids(typed.list_all(RESOURCE, OTHER_PARENT)) == ["elsewhere"]

    # --- purge_deleted --------------------------------------------------------------------------------------

    def _tombstones(self, storage: StorageBase, parent: str, count: int) -> list[int]:
        stamps = []
        for i in range(count):
            storage.create(RESOURCE, parent, {"id": f"dead{i}"})
            stamps.append(storage.delete(RESOURCE, parent, f"dead{i}")["last_modified"])
        storage.create(RESOURCE, parent, {"id": "alive", "v": 1})
        return stamps

    def _remaining(self, storage: StorageBase, parent: str) -> tuple[set[str], set[str]]:
        listed = storage.list_all(RESOURCE, parent, include_deleted=True)
        return {o["id"] for o in listed if o.get("deleted")}, {o["id"] for o in listed if not o.get("deleted")}

    def test_purge_removes_every_tombstone_and_no_live_object(self, storage):
        self._tombstones(storage, PARENT, 4)
        assert storage.purge_deleted(RESOURCE, PARENT) == 4
        assert self._remaining(storage, PARENT) == (set(), {"alive"})
        assert storage.get(RESOURCE, PARENT, "alive")["v"] == 1

    def test_purge_before_keeps_recent_tombstones(self, storage):
        stamps = self._tombstones(storage, PARENT, 4)
        assert storage.purge_deleted(RESOURCE, PARENT, before=stamps[2]) == 2
        assert self._remaining(storage, PARENT) == ({"dead2", "dead3"}, {"alive"})

    def test_purge_max_retained_keeps_the_newest_per_collection(self, storage):
        self._tombstones(storage, PARENT, 4)
        self._tombstones(storage, OTHER_PARENT, 3)
        assert storage.purge_deleted(RESOURCE, "/buckets/a/*", max_retained=2) == 3
        assert self._remaining(storage, PARENT) == ({"dead2", "dead3"}, {"alive"})
        assert self._remaining(storage, OTHER_PARENT) == ({"dead1", "dead2"}, {"alive"})

    def test_purge_with_both_limits_removes_what_either_condemns(self, storage):
        stamps = self._tombstones(storage, PARENT, 5)
        assert storage.purge_deleted(RESOURCE, PARENT, before=stamps[1], max_retained=3) == 2
        assert self._remaining(storage, PARENT) == ({"dead2", "dead3", "dead4"}, {"alive"})

    def test_purge_with_max_retained_zero_removes_all_tombstones(self, storage):
        self._tombstones(storage, PARENT, 3)
        assert storage.purge_deleted(RESOURCE, PARENT, max_retained=0) == 3
        assert self._remaining(storage, PARENT) == (set(), {"alive"})

    def test_purge_is_scoped_to_the_collection(self, storage):
        self._tombstones(storage, PARENT, 2)
        self._tombstones(storage, OTHER_PARENT, 2)
        assert storage.purge_deleted(RESOURCE, PARENT) == 2
        assert self._remaining(storage, OTHER_PARENT) == ({"dead0", "dead1"}, {"alive"})

    def test_purge_does_not_lower_the_collection_timestamp(self, storage):
        self._tombstones(storage, PARENT, 2)
        stamp = storage.resource_timestamp(RESOURCE, PARENT)
        storage.purge_deleted(RESOURCE, PARENT)
        assert storage.resource_timestamp(RESOURCE, PARENT) >= stamp
        assert storage.create(RESOURCE, PARENT, {})["last_modified"] > stamp

    # --- parents and flush ----------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "pattern, expected",
        [
            ("/buckets/a/collections/*", {"in-b", "in-c"}),
            ("/buckets/*/collections/b", {"in-b", "in-other-bucket"}),
            ("*", {"in-b", "in-c", "in-other-bucket", "top"}),
            ("/buckets/a/collections/b", {"in-b"}),
            ("/buckets/a/*", {"in-b", "in-c"}),
            ("/buckets/_/*", set()),
            ("/buckets/%/*", set()),
        ],
    )
    def test_parent_wildcards(self, storage, pattern, expected):
        storage.create(RESOURCE, "/buckets/a/collections/b", {"id": "in-b"})
        storage.create(RESOURCE, "/buckets/a/collections/c", {"id": "in-c"})
        storage.create(RESOURCE, "/buckets/z/collections/b", {"id": "in-other-bucket"})
        storage.create(RESOURCE, "top", {"id": "top"})
        storage.create("other", "/buckets/a/collections/b", {"id": "other-resource"})
        assert set(_ids(storage.list_all(RESOURCE, pattern))) == expected
        assert storage.count_all(RESOURCE, pattern) == len(expected)

    def test_flush_removes_everything(self, typed):
        typed.delete(RESOURCE, PARENT, "n1")
        typed.flush()
        assert typed.list_all(RESOURCE, PARENT, include_deleted=True) == []
        assert typed.list_all(RESOURCE, OTHER_PARENT, include_deleted=True) == []
        assert typed.all_resources_timestamps(RESOURCE) == {}
        typed.create(RESOURCE, PARENT, {"id": "n1"})
        assert typed.count_all(RESOURCE, PARENT) == 1

    # --- conveniences --------------------------------------------------------------------------------------

    def test_trim_objects_keeps_the_newest(self, storage):
        for i in range(5):
            storage.create(RESOURCE, PARENT, {"id": f"o{i}", "kind": "log"})
        storage.create(RESOURCE, PARENT, {"id": "other", "kind": "note"})
        assert storage.trim_objects(RESOURCE, PARENT, [Filter("kind", "log", C.EQ)], 2) == 3
        assert set(_ids(storage.list_all(RESOURCE, PARENT))) == {"o3", "o4", "other"}
