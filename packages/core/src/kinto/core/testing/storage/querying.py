"""The storage contract: filters, sorting and pagination, checked by hand and against the reference
semantics; declared indexes, which never change an answer (``supports_indexes``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinto.core.storage import COMPARISON, Filter, Sort, StorageBase
from kinto.core.storage import query as reference
from kinto.core.storage.exceptions import InvalidValueError
from kinto.core.testing.storage.base import (
    _ORDERINGS,
    _PAGED_VALUES,
    _SUITE_HEALTH_CHECKS,
    ALL_TYPED,
    DECLARED_FIELDS,
    FILTER_CASES,
    OTHER_PARENT,
    PARENT,
    RESOURCE,
    TYPED_ASCENDING,
    C,
    StorageSuite,
    _create_drawn_documents,
    _ids,
    _ids_across,
    _pages,
    _reference_order,
)


class QueryingContract(StorageSuite):
    """``StorageContract``'s tests of listing with filters, sorting, pages and declared indexes."""

    # --- filters ----------------------------------------------------------------------------------------

    @pytest.mark.parametrize("name, filter_, expected", FILTER_CASES, ids=[case[0] for case in FILTER_CASES])
    def test_filters(self, typed, name, filter_, expected):
        assert set(_ids(typed.list_all(RESOURCE, PARENT, filters=[filter_]))) == expected
        assert typed.count_all(RESOURCE, PARENT, filters=[filter_]) == len(expected)

    def test_filters_combine_with_and(self, typed):
        filters = [Filter("v", 0, C.GT), Filter("v", 5, C.LT)]
        assert set(_ids(typed.list_all(RESOURCE, PARENT, filters=filters))) == {"n1", "n2"}

    def test_numeric_ids_in_filters_match_string_ids(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "42"})
        assert _ids(storage.list_all(RESOURCE, PARENT, filters=[Filter("id", 42, C.EQ)])) == ["42"]
        assert _ids(storage.list_all(RESOURCE, PARENT, filters=[Filter("id", [42], C.IN)])) == ["42"]

    def test_filters_on_last_modified(self, storage):
        stamps = [storage.create(RESOURCE, PARENT, {"id": f"o{i}"})["last_modified"] for i in range(5)]
        since = [Filter("last_modified", stamps[1], C.GT)]
        assert set(_ids(storage.list_all(RESOURCE, PARENT, filters=since))) == {"o2", "o3", "o4"}
        before = [Filter("last_modified", stamps[3], C.LT)]
        assert set(_ids(storage.list_all(RESOURCE, PARENT, filters=before))) == {"o0", "o1", "o2"}
        exact = [Filter("last_modified", stamps[2], C.EQ)]
        assert _ids(storage.list_all(RESOURCE, PARENT, filters=exact)) == ["o2"]
        as_text = [Filter("last_modified", str(stamps[3]), C.MIN)]
        assert set(_ids(storage.list_all(RESOURCE, PARENT, filters=as_text))) == {"o3", "o4"}

    def test_in_and_exclude_on_ids_take_a_hundred_thousand_values(self, storage):
        # The ids shared one by one with a user become one ``in`` filter: as many values as
        # the user has shared objects, far beyond any limit on expression depth or parameters.
        for index in range(20):
            storage.create(RESOURCE, PARENT, {"id": f"o{index:02d}"})
        wanted = [f"o{index:02d}" for index in range(0, 20, 2)]
        ids = [f"missing{index}" for index in range(100_000)] + wanted
        listed = storage.list_all(RESOURCE, PARENT, filters=[Filter("id", ids, C.IN)], sorting=[Sort("id", 1)])
        assert _ids(listed) == wanted
        assert storage.count_all(RESOURCE, PARENT, filters=[Filter("id", ids, C.IN)]) == len(wanted)
        paged = storage.list_all(
            RESOURCE,
            PARENT,
            filters=[Filter("id", ids, C.IN)],
            sorting=[Sort("id", -1)],
            pagination_rules=[[Filter("id", "o10", C.LT)]],
            limit=3,
        )
        assert _ids(paged) == ["o08", "o06", "o04"]
        kept = storage.list_all(RESOURCE, PARENT, filters=[Filter("id", ids, C.EXCLUDE)], sorting=[Sort("id", 1)])
        assert _ids(kept) == [f"o{index:02d}" for index in range(1, 20, 2)]
        tombstones = storage.delete_all(RESOURCE, PARENT, filters=[Filter("id", ids, C.IN)])
        assert sorted(_ids(tombstones)) == wanted
        assert storage.count_all(RESOURCE, PARENT) == 10

    def test_in_on_ids_takes_any_character(self, storage):
        odd = ['a"b', "c\\d", "{e},f", "NULL", "", " g ", "h'i", "\u00e9\U0001f600"]
        for object_id in odd:
            storage.create(RESOURCE, PARENT, {"id": object_id})
        storage.create(RESOURCE, PARENT, {"id": "other"})
        listed = storage.list_all(RESOURCE, PARENT, filters=[Filter("id", odd, C.IN)])
        assert sorted(_ids(listed)) == sorted(odd)
        assert _ids(storage.list_all(RESOURCE, PARENT, filters=[Filter("id", odd, C.EXCLUDE)])) == ["other"]

    def test_in_on_last_modified_compares_numbers(self, storage):
        stamps = [storage.create(RESOURCE, PARENT, {"id": f"o{i}"})["last_modified"] for i in range(3)]
        values = [float(stamps[0]), stamps[2], str(stamps[1] + 0.5), True, None, stamps[1] + 0.5]
        listed = storage.list_all(RESOURCE, PARENT, filters=[Filter("last_modified", values, C.IN)])
        assert set(_ids(listed)) == {"o0", "o2"}
        excluded = storage.list_all(RESOURCE, PARENT, filters=[Filter("last_modified", values, C.EXCLUDE)])
        assert _ids(excluded) == ["o1"]

    def test_since_with_tombstones_lists_deletions(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "a"})
        stamp = storage.create(RESOURCE, PARENT, {"id": "b"})["last_modified"]
        storage.delete(RESOURCE, PARENT, "a")
        storage.update(RESOURCE, PARENT, "c", {})
        since = [Filter("last_modified", stamp, C.GT)]
        changes = storage.list_all(RESOURCE, PARENT, filters=since, include_deleted=True, sorting=[Sort("id", 1)])
        assert [(o["id"], o.get("deleted", False)) for o in changes] == [("a", True), ("c", False)]
        assert storage.count_all(RESOURCE, PARENT, filters=since, include_deleted=True) == 2
        assert storage.count_all(RESOURCE, PARENT, filters=since) == 1

    def test_filters_apply_to_tombstones_fields_only(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "a", "v": 1})
        storage.delete(RESOURCE, PARENT, "a")
        on_data = [Filter("v", 1, C.EQ)]
        assert storage.list_all(RESOURCE, PARENT, filters=on_data, include_deleted=True) == []
        deleted = [Filter("deleted", True, C.EQ)]
        assert _ids(storage.list_all(RESOURCE, PARENT, filters=deleted, include_deleted=True)) == ["a"]

    def test_listing_is_scoped_to_the_collection(self, typed):
        assert set(_ids(typed.list_all(RESOURCE, PARENT))) == ALL_TYPED
        assert _ids(typed.list_all(RESOURCE, OTHER_PARENT)) == ["elsewhere"]
        assert _ids(typed.list_all("other", PARENT)) == ["other-resource"]
        assert typed.list_all("nothing", PARENT) == []
        assert typed.count_all(RESOURCE, PARENT) == len(ALL_TYPED)

    # --- sorting ----------------------------------------------------------------------------------------

    def test_ascending_sort_follows_the_documented_type_order(self, typed):
        assert _ids(typed.list_all(RESOURCE, PARENT, sorting=[Sort("v", 1)])) == TYPED_ASCENDING

    def test_descending_sort_reverses_it_keeping_the_id_tie_breaker(self, typed):
        listed = _ids(typed.list_all(RESOURCE, PARENT, sorting=[Sort("v", -1)]))
        expected = list(reversed(TYPED_ASCENDING))
        tied_arrays = sorted(["arr", "arr0", "arr2"])
        tied_objects = sorted(["nested", "obj"])
        assert listed[:1] == ["missing"]
        assert listed[1:3] == tied_objects
        assert listed[3:6] == tied_arrays
        assert listed[6:] == expected[6:]

    def test_sorting_matches_the_reference_order(self, typed):
        objects = typed.list_all(RESOURCE, PARENT)
        for sorting in ([Sort("v", 1)], [Sort("v", -1)], [Sort("a.b.c", -1)], [Sort("other", 1), Sort("v", -1)]):
            assert _ids(typed.list_all(RESOURCE, PARENT, sorting=sorting)) == _reference_order(objects, sorting)

    def test_multi_key_sort(self, storage):
        rows = [("a", 1, "x"), ("b", 1, "y"), ("c", 2, "x"), ("d", 2, "y"), ("e", 1, "y")]
        for object_id, group, name in rows:
            storage.create(RESOURCE, PARENT, {"id": object_id, "group": group, "name": name})
        by_group_then_name = [Sort("group", -1), Sort("name", 1)]
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=by_group_then_name)) == ["c", "d", "a", "b", "e"]
        by_name_then_group = [Sort("name", -1), Sort("group", 1)]
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=by_name_then_group)) == ["b", "e", "d", "a", "c"]

    def test_equal_values_are_ordered_by_id(self, storage):
        for object_id in ["c", "a", "b"]:
            storage.create(RESOURCE, PARENT, {"id": object_id, "same": 1})
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("same", -1)])) == ["a", "b", "c"]

    def test_sort_by_id_descending(self, storage):
        for object_id in ["b", "c", "a"]:
            storage.create(RESOURCE, PARENT, {"id": object_id})
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("id", -1)])) == ["c", "b", "a"]

    def test_sort_by_last_modified(self, storage):
        for object_id in ["b", "c", "a"]:
            storage.create(RESOURCE, PARENT, {"id": object_id})
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("last_modified", -1)])) == ["a", "c", "b"]
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("last_modified", 1)])) == ["b", "c", "a"]

    def test_limit_takes_the_first_sorted_objects(self, storage):
        for i in range(10):
            storage.create(RESOURCE, PARENT, {"id": f"o{i}", "rank": 10 - i})
        assert _ids(storage.list_all(RESOURCE, PARENT, sorting=[Sort("rank", 1)], limit=3)) == ["o9", "o8", "o7"]

    # --- pagination ---------------------------------------------------------------------------------------

    def test_pagination_rules_with_missing_values(self, typed):
        assert _ids_across(_pages(typed, [Sort("v", 1), Sort("id", 1)], limit=4)) == TYPED_ASCENDING

    def test_pagination_rules_are_ored(self, storage):
        for i in range(6):
            storage.create(RESOURCE, PARENT, {"id": f"o{i}", "n": i})
        rules = [[Filter("n", 1, C.LT)], [Filter("n", 4, C.GT)]]
        assert _ids(storage.list_all(RESOURCE, PARENT, pagination_rules=rules, sorting=[Sort("n", 1)])) == [
            "o0",
            "o5",
        ]

    @settings(max_examples=40, deadline=None, suppress_health_check=_SUITE_HEALTH_CHECKS)
    @given(data=st.data())
    def test_keyset_pagination_visits_every_object_once(self, backend_factory, data):
        storage = backend_factory()
        documents = _create_drawn_documents(storage, data)
        field = st.sampled_from(["a", "b", "last_modified", "id"])
        sort_fields = data.draw(st.lists(field, min_size=1, max_size=3, unique=True))
        sorting = [Sort(f, data.draw(st.sampled_from([1, -1]))) for f in sort_fields]
        if "id" not in sort_fields:
            sorting.append(Sort("id", 1))
        limit = data.draw(st.integers(1, 5))

        everything = storage.list_all(RESOURCE, PARENT, sorting=sorting)
        assert _ids(everything) == _reference_order(everything, sorting)
        assert _ids_across(_pages(storage, sorting, limit, most=len(documents) + 2)) == _ids(everything)

    @settings(max_examples=25, deadline=None, suppress_health_check=_SUITE_HEALTH_CHECKS)
    @given(data=st.data())
    def test_pagination_survives_writes_between_pages(self, backend_factory, data):
        storage = backend_factory()
        count = data.draw(st.integers(1, 12))
        for position in range(count):
            storage.create(RESOURCE, PARENT, {"id": f"o{position:02d}", "a": data.draw(st.integers(0, 2))})
        sorting = [Sort("a", data.draw(st.sampled_from([1, -1]))), Sort("last_modified", -1)]
        limit = data.draw(st.integers(1, 4))
        deleted: set[str] = set()
        seen: list[str] = []
        # Inserts happen during the first pages only, so the walk ends.
        for step, page in enumerate(_pages(storage, sorting, limit, most=3 * count + 10)):
            seen.extend(_ids(page))
            live = [o["id"] for o in storage.list_all(RESOURCE, PARENT) if o["id"] not in deleted]
            if data.draw(st.booleans()) and live:
                victim = data.draw(st.sampled_from(sorted(live)))
                storage.delete(RESOURCE, PARENT, victim)
                deleted.add(victim)
            if step < count:
                storage.create(RESOURCE, PARENT, {"id": f"new{step:02d}", "a": data.draw(st.integers(0, 2))})
        assert len(seen) == len(set(seen)), "an object was repeated across pages"
        survivors = {f"o{p:02d}" for p in range(count)} - deleted
        assert survivors <= set(seen), "an object present all along was skipped"

    # --- filters against the reference semantics ---------------------------------------------------------

    @settings(max_examples=60, deadline=None, suppress_health_check=_SUITE_HEALTH_CHECKS)
    @given(data=st.data())
    def test_filters_agree_with_the_reference_semantics(self, backend_factory, data):
        storage = backend_factory()
        scalar = st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-2, 2),
            st.sampled_from([0.5, -1.5]),
            st.text(alphabet="aAbé%_*\\", max_size=3),
        )
        value = st.one_of(scalar, st.lists(scalar, max_size=3))
        documents = data.draw(st.lists(st.one_of(st.just({}), st.fixed_dictionaries({"v": value})), max_size=8))
        for position, document in enumerate(documents):
            storage.create(RESOURCE, PARENT, {"id": f"o{position}", **document})
        operator = data.draw(st.sampled_from(list(COMPARISON)))
        if operator in (C.IN, C.EXCLUDE, C.CONTAINS, C.CONTAINS_ANY):
            operand = data.draw(st.lists(scalar, max_size=3))
        elif operator == C.LIKE:
            operand = data.draw(st.text(alphabet="aAbé%_*\\", min_size=1, max_size=3))
        elif operator == C.HAS:
            operand = data.draw(st.booleans())
        else:
            operand = data.draw(value)
        filter_ = Filter("v", operand, operator)
        listed = storage.list_all(RESOURCE, PARENT, filters=[filter_])
        normalized = reference.normalize_filter(filter_, "id", "last_modified")
        everything = storage.list_all(RESOURCE, PARENT)
        expected = {o["id"] for o in everything if reference.matches(o, normalized)}
        assert set(_ids(listed)) == expected
        assert storage.count_all(RESOURCE, PARENT, filters=[filter_]) == len(expected)

    # --- declared indexes: answers never change ----------------------------------------------------------

    @pytest.fixture
    def declared(self, typed: StorageBase) -> StorageBase:
        typed.index_fields(RESOURCE, PARENT, DECLARED_FIELDS)
        return typed

    @pytest.mark.parametrize("name, filter_, expected", FILTER_CASES, ids=[case[0] for case in FILTER_CASES])
    def test_filters_on_declared_fields(self, declared, name, filter_, expected):
        assert set(_ids(declared.list_all(RESOURCE, PARENT, filters=[filter_]))) == expected
        assert declared.count_all(RESOURCE, PARENT, filters=[filter_]) == len(expected)

    def test_sorts_on_declared_fields(self, declared):
        objects = declared.list_all(RESOURCE, PARENT)
        assert _ids(declared.list_all(RESOURCE, PARENT, sorting=[Sort("v", 1)])) == TYPED_ASCENDING
        for sorting in ([Sort("v", -1)], [Sort("a.b.c", -1)], [Sort("other", 1), Sort("v", -1)]):
            assert _ids(declared.list_all(RESOURCE, PARENT, sorting=sorting)) == _reference_order(objects, sorting)

    def test_pagination_on_declared_fields(self, declared):
        for direction in (1, -1):
            sorting = [Sort("v", direction), Sort("id", 1)]
            expected = _reference_order(declared.list_all(RESOURCE, PARENT), sorting)
            assert _ids_across(_pages(declared, sorting, limit=4)) == expected

    def test_long_strings_and_huge_numbers_sort_exactly_on_declared_fields(self, storage):
        values = ["y" * 600 + "b", "y" * 600 + "a", "y" * 600, "y" * 599 + "z", 10**302, 10**301, -(10**302), 5]
        for position, value in enumerate(values):
            storage.create(RESOURCE, PARENT, {"id": f"o{position}", "v": value})
        storage.index_fields(RESOURCE, PARENT, ["v"])
        objects = storage.list_all(RESOURCE, PARENT)
        for direction in (1, -1):
            sorting = [Sort("v", direction)]
            expected = _reference_order(objects, sorting)
            assert _ids(storage.list_all(RESOURCE, PARENT, sorting=sorting)) == expected
            assert _ids(storage.list_all(RESOURCE, PARENT, sorting=sorting, limit=2)) == expected[:2]
        greater = storage.list_all(RESOURCE, PARENT, filters=[Filter("v", "y" * 600 + "a", C.GT)])
        assert set(_ids(greater)) == {"o0", "o3"}
        assert set(_ids(storage.list_all(RESOURCE, PARENT, filters=[Filter("v", "y" * 600, C.MAX)]))) == {"o2"}
        assert set(_ids(storage.list_all(RESOURCE, PARENT, filters=[Filter("v", 10**301, C.GT)]))) == {"o4"}

    @settings(max_examples=30, deadline=None, suppress_health_check=_SUITE_HEALTH_CHECKS)
    @given(data=st.data())
    def test_keyset_pagination_on_declared_fields(self, backend_factory, data):
        storage = backend_factory()
        documents = _create_drawn_documents(storage, data)
        storage.index_fields(RESOURCE, PARENT, data.draw(st.lists(st.sampled_from(["a", "-a", "b", "-b"]))))
        sort_fields = data.draw(st.lists(st.sampled_from(["a", "b", "id"]), min_size=1, max_size=3, unique=True))
        sorting = [Sort(f, data.draw(st.sampled_from([1, -1]))) for f in sort_fields]
        if "id" not in sort_fields:
            sorting.append(Sort("id", 1))
        limit = data.draw(st.integers(1, 5))
        filters = data.draw(
            st.lists(st.builds(Filter, st.just("a"), _PAGED_VALUES, st.sampled_from(list(_ORDERINGS))), max_size=1)
        )

        everything = storage.list_all(RESOURCE, PARENT, filters=filters, sorting=sorting)
        expected = [o for o in storage.list_all(RESOURCE, PARENT) if all(reference.matches(o, f) for f in filters)]
        assert _ids(everything) == _reference_order(expected, sorting)
        assert _ids_across(_pages(storage, sorting, limit, filters=filters, most=len(documents) + 2)) == _ids(
            everything
        )

    # --- declared indexes: the declaration (``supports_indexes``) -----------------------------------------

    def test_declared_fields_are_reported_and_replaced(self, storage):
        self.require(storage, "supports_indexes")
        storage.create(RESOURCE, PARENT, {"id": "a", "v": 1})
        assert storage.indexed_fields(RESOURCE, PARENT) == []
        storage.index_fields(RESOURCE, PARENT, ["v", "-v", "a.b", "v", "id", "last_modified"])
        assert storage.indexed_fields(RESOURCE, PARENT) == ["-v", "a.b", "v"]
        assert storage.indexed_fields(RESOURCE, OTHER_PARENT) == []
        assert storage.indexed_fields("other", PARENT) == []
        storage.index_fields(RESOURCE, PARENT, ["w", "v"])
        assert storage.indexed_fields(RESOURCE, PARENT) == ["v", "w"]
        storage.index_fields(RESOURCE, PARENT, [])
        assert storage.indexed_fields(RESOURCE, PARENT) == []

    def test_any_field_name_can_be_declared(self, storage):
        self.require(storage, "supports_indexes")
        odd = ["it's", 'quo"te', "back\\slash", "é.ü", "-x'); DROP TABLE objects; --", "{a,b}"]
        for position, field in enumerate(odd):
            storage.create(RESOURCE, PARENT, {"id": f"o{position}", field.removeprefix("-").split(".")[0]: position})
        storage.index_fields(RESOURCE, PARENT, odd)
        assert storage.indexed_fields(RESOURCE, PARENT) == sorted(odd)
        assert _ids(storage.list_all(RESOURCE, PARENT, filters=[Filter("it's", 0, C.MIN)])) == ["o0"]
        assert storage.count_all(RESOURCE, PARENT) == len(odd)

    @pytest.mark.parametrize("field", ["", "a..b", ".a", "-", "nul\x00", 5, None, "x" * 257])
    def test_invalid_declarations_raise(self, storage, field):
        self.require(storage, "supports_indexes")
        with pytest.raises(InvalidValueError):
            storage.index_fields(RESOURCE, PARENT, ["v", field])
        assert storage.indexed_fields(RESOURCE, PARENT) == []

    def test_flush_forgets_declarations(self, storage):
        self.require(storage, "supports_indexes")
        storage.index_fields(RESOURCE, PARENT, ["v"])
        storage.flush()
        assert storage.indexed_fields(RESOURCE, PARENT) == []
        assert storage.count_indexed_fields() == 0

    def test_indexes_of_other_collections_than_those_kept_are_dropped(self, storage):
        self.require(storage, "supports_indexes")
        storage.index_fields(RESOURCE, PARENT, ["v", "-w"])
        storage.index_fields(RESOURCE, OTHER_PARENT, ["v"])
        storage.index_fields("other", PARENT, ["w"])
        dropped = storage.drop_indexes_except([(RESOURCE, PARENT), ("other", "/gone")])
        assert len(dropped) == 2
        assert storage.indexed_fields(RESOURCE, PARENT) == ["-w", "v"]
        assert storage.indexed_fields(RESOURCE, OTHER_PARENT) == storage.indexed_fields("other", PARENT) == []
        assert storage.drop_indexes_except([]) and storage.count_indexed_fields() == 0

    def test_declared_indexes_are_counted_across_collections(self, storage):
        self.require(storage, "supports_indexes")
        assert storage.count_indexed_fields() == 0
        storage.index_fields(RESOURCE, PARENT, ["v", "-v", "id"])
        storage.index_fields(RESOURCE, OTHER_PARENT, ["v"])
        storage.index_fields("other", PARENT, ["w"])
        assert storage.count_indexed_fields() == 4
        storage.index_fields(RESOURCE, PARENT, ["v"])
        assert storage.count_indexed_fields() == 3
