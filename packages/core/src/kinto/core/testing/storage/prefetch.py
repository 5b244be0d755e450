"""The storage contract: reading ahead (``prefetch_objects``, ``prefetch_page``, ``prefetch_timestamps``) answers what the reads would."""

from __future__ import annotations

import pytest

from kinto.core.storage import Filter, Sort
from kinto.core.testing.storage.base import (
    OTHER_PARENT,
    PARENT,
    RESOURCE,
    C,
    StorageSuite,
)


class PrefetchContract(StorageSuite):
    """``StorageContract``'s tests of the reads made ahead of a permission check."""

    def test_prefetched_objects_are_what_get_answers_in_the_order_asked(self, storage):
        first = storage.create(RESOURCE, PARENT, {"id": "a", "n": 1})
        other = storage.create(RESOURCE, OTHER_PARENT, {"id": "a", "n": 2})
        keys = [(RESOURCE, OTHER_PARENT, "a"), (RESOURCE, PARENT, "a"), (RESOURCE, OTHER_PARENT, "a")]
        assert storage.prefetch_objects(keys)() == [other, first, other]

    def test_missing_deleted_and_unstorable_objects_are_prefetched_as_none(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "gone"})
        storage.delete(RESOURCE, PARENT, "gone")
        kept = storage.create(RESOURCE, PARENT, {"id": "kept"})
        keys = [
            (RESOURCE, PARENT, "gone"),
            (RESOURCE, PARENT, "never"),
            (RESOURCE, PARENT, "nul\x00"),
            ("other-resource", PARENT, "kept"),
            (RESOURCE, PARENT, "kept"),
        ]
        assert storage.prefetch_objects(keys)() == [None, None, None, None, kept]

    def test_no_keys_prefetch_nothing(self, storage):
        assert storage.prefetch_objects([])() == []

    def test_objects_prefetched_in_a_read_transaction_are_read_in_it(self, storage):
        kept = storage.create(RESOURCE, PARENT, {"id": "kept"})
        with storage.transaction(write=False):
            read = storage.prefetch_objects([(RESOURCE, PARENT, "kept")])
            assert read() == [kept]

    @pytest.mark.parametrize("include_deleted", [False, True])
    def test_a_prefetched_page_is_what_the_timestamp_and_list_all_answer(self, storage, include_deleted):
        for n in range(5):
            storage.create(RESOURCE, PARENT, {"id": f"o{n}", "n": n})
        storage.delete(RESOURCE, PARENT, "o2")
        since = storage.get(RESOURCE, PARENT, "o0")["last_modified"]
        page = (
            RESOURCE,
            PARENT,
            [Filter("last_modified", since, C.GT)],
            [Sort("last_modified", -1), Sort("id", -1)],
            None,
            3,
            include_deleted,
        )
        timestamp, objects = storage.prefetch_page(page)()
        assert timestamp == storage.resource_timestamp(RESOURCE, PARENT)
        assert objects == storage.list_all(*page)

    def test_a_page_is_prefetched_with_its_pagination_rules(self, storage):
        for n in range(4):
            storage.create(RESOURCE, PARENT, {"id": f"o{n}"})
        rules = [[Filter("id", "o2", C.LT)]]
        page = (RESOURCE, PARENT, None, [Sort("id", -1)], rules, None, False)
        assert storage.prefetch_page(page)()[1] == storage.list_all(*page)
        assert [obj["id"] for obj in storage.list_all(*page)] == ["o1", "o0"]

    def test_the_page_of_a_collection_never_written_has_no_timestamp_yet_or_its_own(self, storage):
        timestamp, objects = storage.prefetch_page(
            (RESOURCE, "/buckets/new/collections/new", None, None, None, None, False)
        )()
        assert objects == []
        assert timestamp is None or timestamp == storage.resource_timestamp(RESOURCE, "/buckets/new/collections/new")

    def test_prefetched_timestamps_are_what_resource_timestamp_answers(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "a"})
        storage.create(RESOURCE, OTHER_PARENT, {"id": "b"})
        storage.create(RESOURCE, OTHER_PARENT, {"id": "c"})
        locations = [(RESOURCE, OTHER_PARENT), (RESOURCE, PARENT), (RESOURCE, OTHER_PARENT)]
        timestamps = storage.prefetch_timestamps(locations)()
        assert timestamps == [storage.resource_timestamp(*location) for location in locations]
        assert timestamps[0] > timestamps[1]
        assert storage.prefetch_timestamps([])() == []

    def test_a_collection_never_written_has_no_prefetched_timestamp_yet_or_its_own(self, storage):
        never = (RESOURCE, "/buckets/new/collections/new")
        odd = (RESOURCE, '/buckets/"{a,b}"\\')
        timestamps = storage.prefetch_timestamps([never, odd])()
        assert timestamps[0] is None or timestamps[0] == storage.resource_timestamp(*never)
        assert timestamps[1] is None or timestamps[1] == storage.resource_timestamp(*odd)
        storage.create(*odd, {"id": "x"})
        assert storage.prefetch_timestamps([odd])() == [storage.resource_timestamp(*odd)]
