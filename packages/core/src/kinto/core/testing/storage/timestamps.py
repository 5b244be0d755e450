"""The storage contract: timestamps, strictly increasing per collection, across threads and processes."""

from __future__ import annotations

import time

import pytest

from kinto.core.storage import Sort, StorageBase
from kinto.core.testing.plugin import (
    build_unflushed,
    run_in_processes,
    run_in_threads,
)
from kinto.core.testing.storage.base import (
    OTHER_PARENT,
    PARENT,
    RESOURCE,
    StorageSuite,
)


class TimestampsContract(StorageSuite):
    """``StorageContract``'s tests of timestamps."""

    # --- timestamps -----------------------------------------------------------------------------------

    def test_every_write_gets_a_strictly_greater_timestamp(self, storage):
        stamps = [storage.create(RESOURCE, PARENT, {"id": f"o{i}"})["last_modified"] for i in range(20)]
        stamps += [storage.update(RESOURCE, PARENT, f"o{i}", {})["last_modified"] for i in range(10)]
        stamps += [storage.delete(RESOURCE, PARENT, f"o{i}")["last_modified"] for i in range(10, 20)]
        assert stamps == sorted(stamps)
        assert len(set(stamps)) == len(stamps)

    def test_resource_timestamp_is_the_last_write(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "a"})
        last = storage.update(RESOURCE, PARENT, "a", {"b": 1})
        assert storage.resource_timestamp(RESOURCE, PARENT) == last["last_modified"]
        tombstone = storage.delete(RESOURCE, PARENT, "a")
        assert storage.resource_timestamp(RESOURCE, PARENT) == tombstone["last_modified"]

    def test_timestamps_are_milliseconds_near_now(self, storage):
        before = int(time.time() * 1000) - 5_000
        stamp = storage.create(RESOURCE, PARENT, {})["last_modified"]
        assert before < stamp < before + 60_000

    def test_empty_collection_timestamp_is_stable_and_precedes_the_next_write(self, storage):
        first = storage.resource_timestamp(RESOURCE, PARENT)
        assert storage.resource_timestamp(RESOURCE, PARENT) == first
        assert storage.create(RESOURCE, PARENT, {})["last_modified"] > first

    def test_collections_have_independent_timestamps(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "a"})
        other = storage.create(RESOURCE, OTHER_PARENT, {"id": "a"})["last_modified"]
        storage.create(RESOURCE, PARENT, {"id": "b", "last_modified": other + 100_000})
        assert storage.resource_timestamp(RESOURCE, OTHER_PARENT) == other

    def test_collection_timestamp_is_kintos_alias(self, storage):
        storage.create(RESOURCE, PARENT, {})
        assert storage.collection_timestamp(RESOURCE, PARENT) == storage.resource_timestamp(RESOURCE, PARENT)

    def test_a_later_explicit_last_modified_is_honoured(self, storage):
        current = storage.create(RESOURCE, PARENT, {"id": "a"})["last_modified"]
        wanted = current + 123_456
        assert storage.create(RESOURCE, PARENT, {"id": "b", "last_modified": wanted})["last_modified"] == wanted
        assert storage.update(RESOURCE, PARENT, "a", {"last_modified": wanted + 1})["last_modified"] == wanted + 1
        assert storage.resource_timestamp(RESOURCE, PARENT) == wanted + 1

    @pytest.mark.parametrize("offset", [0, -1, -100_000])
    def test_an_explicit_last_modified_not_beyond_the_collection_is_replaced(self, storage, offset):
        current = storage.create(RESOURCE, PARENT, {"id": "a"})["last_modified"]
        created = storage.create(RESOURCE, PARENT, {"id": "b", "last_modified": current + offset})
        assert created["last_modified"] > current
        updated = storage.update(RESOURCE, PARENT, "a", {"last_modified": current + offset})
        assert updated["last_modified"] > created["last_modified"]

    def test_all_resources_timestamps_maps_parents(self, storage):
        a = storage.create(RESOURCE, PARENT, {})["last_modified"]
        b = storage.create(RESOURCE, OTHER_PARENT, {})["last_modified"]
        storage.create("other", "/elsewhere", {})
        assert storage.all_resources_timestamps(RESOURCE) == {PARENT: a, OTHER_PARENT: b}

    def test_concurrent_threads_get_unique_increasing_timestamps(self, storage):
        per_thread: dict[int, list[int]] = {}

        def writer(number: int) -> None:
            stamps = []
            for i in range(15):
                with storage.transaction():
                    stamps.append(storage.create(RESOURCE, PARENT, {"id": f"t{number}-{i}"})["last_modified"])
            per_thread[number] = stamps

        run_in_threads(writer, count=4)
        every = [stamp for stamps in per_thread.values() for stamp in stamps]
        assert len(every) == len(set(every)) == 60
        assert all(stamps == sorted(stamps) for stamps in per_thread.values())
        assert storage.resource_timestamp(RESOURCE, PARENT) == max(every)
        assert storage.count_all(RESOURCE, PARENT) == 60

    def test_concurrent_processes_lose_no_write_and_share_increasing_timestamps(self, storage, backend_factory):
        self.require(storage, "supports_concurrent_processes")
        storage.create(RESOURCE, PARENT, {"id": "counter", "value": 0})
        rounds = 25

        def work(index: int, backend: StorageBase) -> None:
            for i in range(rounds):
                with backend.transaction():
                    backend.lock_for_write(RESOURCE, PARENT)
                    counter = backend.get(RESOURCE, PARENT, "counter")
                    backend.update(RESOURCE, PARENT, "counter", {"value": counter["value"] + 1})
                backend.create(RESOURCE, PARENT, {"id": f"p{index}-{i:02d}"})

        run_in_processes(work, count=2, prepare=lambda index: build_unflushed(backend_factory))
        assert storage.get(RESOURCE, PARENT, "counter")["value"] == 2 * rounds
        assert storage.count_all(RESOURCE, PARENT) == 2 * rounds + 1
        listed = storage.list_all(RESOURCE, PARENT, sorting=[Sort("id", 1)])
        stamps = [o["last_modified"] for o in listed]
        assert len(set(stamps)) == len(stamps)
        for index in range(2):
            own = [o["last_modified"] for o in listed if o["id"].startswith(f"p{index}-")]
            assert own == sorted(own) and len(own) == rounds
        assert storage.resource_timestamp(RESOURCE, PARENT) == max(stamps)
