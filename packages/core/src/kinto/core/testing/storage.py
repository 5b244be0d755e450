"""The storage contract suite: one test class every storage backend must pass.

Use it by subclassing :class:`StorageContract` in a test module and providing
a ``backend_factory`` fixture: a callable returning a fresh, flushed backend::

    import functools
    import pytest
    from kinto.core.testing.storage import StorageContract

    def build(url):
        backend = MyStorage(url)
        backend.initialize_schema()
        backend.flush()
        return backend

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def backend_factory(self):
            return functools.partial(build, "my://throwaway")

The suite flushes the backend: point it at a throwaway database, e.g. one of
:mod:`kinto.core.testing.postgresql` (private to the test run; re-exported here). Optional
features follow the backend's capability flags: without
``supports_transactions`` or ``supports_concurrent_processes`` the matching
tests are skipped with the reason. The concurrent-process tests need a
picklable factory (a ``functools.partial`` of a module-level function), since
each process builds its own backend.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinto.core.storage import COMPARISON, Filter, Sort, StorageBase, generators
from kinto.core.storage import query as reference
from kinto.core.storage.exceptions import (
    InvalidValueError,
    ObjectNotFoundError,
    RecordNotFoundError,
    UnicityError,
)
from kinto.core.testing.plugin import (
    CONTRACT_HEALTH_CHECKS,
    build_unflushed,
    require_flag,
    run_in_processes,
    run_in_threads,
)
from kinto.core.testing.postgresql import (
    DEFAULT_SERVER_URL,
    postgresql_test_database,
    postgresql_test_url,
)

__all__ = [
    "DEFAULT_POSTGRESQL_TEST_URL",
    "FILTER_CASES",
    "TYPED_ASCENDING",
    "TYPED_OBJECTS",
    "StorageContract",
    "backend_selected",
    "postgresql_test_database",
    "postgresql_test_url",
]

#: Tried when ``KINTO_TEST_POSTGRESQL_URL`` is unset (see :mod:`kinto.core.testing.postgresql`).
DEFAULT_POSTGRESQL_TEST_URL = DEFAULT_SERVER_URL

RESOURCE = "record"
PARENT = "/buckets/a/collections/b"
OTHER_PARENT = "/buckets/a/collections/c"

C = COMPARISON


def backend_selected(name: str) -> bool:
    """Whether ``KINTO_CONTRACT_BACKENDS`` (comma-separated; unset means all) selects backend ``name``."""
    wanted = os.environ.get("KINTO_CONTRACT_BACKENDS", "").strip()
    return not wanted or name in {part.strip() for part in wanted.split(",")}


# --- data sets ------------------------------------------------------------------------------------

#: One object per kind of value of field ``v``; the ids name them.
TYPED_OBJECTS: dict[str, dict[str, Any]] = {
    "nneg": {"v": -3},
    "n1": {"v": 1},
    "n2": {"v": 2.5},
    "n10": {"v": 10},
    "s1": {"v": "1"},
    "sabc": {"v": "abc"},
    "sBcd": {"v": "Bcd"},
    "szz": {"v": "zz"},
    "spct": {"v": "50% off_now"},
    "t": {"v": True},
    "f": {"v": False},
    "null": {"v": None},
    "arr": {"v": [1, "a", True]},
    "arr2": {"v": ["b", 2]},
    "arr0": {"v": []},
    "obj": {"v": {"w": 1}},
    "missing": {"other": 1},
    "nested": {"a": {"b": {"c": 1}}, "v": {"b": 2}},
}
ALL_TYPED = set(TYPED_OBJECTS)

#: Ascending order of TYPED_OBJECTS by ``v``: null < strings < numbers < booleans < arrays < objects < missing.
TYPED_ASCENDING = [
    "null",
    "s1",
    "spct",
    "sBcd",
    "sabc",
    "szz",
    "nneg",
    "n1",
    "n2",
    "n10",
    "f",
    "t",
    "arr",
    "arr0",
    "arr2",
    "nested",
    "obj",
    "missing",
]

FILTER_CASES: list[tuple[str, Filter, set[str]]] = [
    ("eq number", Filter("v", 1, C.EQ), {"n1"}),
    ("eq float", Filter("v", 2.5, C.EQ), {"n2"}),
    ("eq string that looks like a number", Filter("v", "1", C.EQ), {"s1"}),
    ("eq true is not 1", Filter("v", True, C.EQ), {"t"}),
    ("eq false is not 0", Filter("v", False, C.EQ), {"f"}),
    ("eq zero matches nothing", Filter("v", 0, C.EQ), set()),
    ("eq null", Filter("v", None, C.EQ), {"null"}),
    ("eq array is exact", Filter("v", [1, "a", True], C.EQ), {"arr"}),
    ("eq array element is not the array", Filter("v", "a", C.EQ), set()),
    ("eq object is exact", Filter("v", {"w": 1}, C.EQ), {"obj"}),
    ("eq string is case sensitive", Filter("v", "ABC", C.EQ), set()),
    ("not number keeps other types and missing", Filter("v", 1, C.NOT), ALL_TYPED - {"n1"}),
    ("not null", Filter("v", None, C.NOT), ALL_TYPED - {"null"}),
    ("not true", Filter("v", True, C.NOT), ALL_TYPED - {"t"}),
    ("in mixed types", Filter("v", [1, "abc", None], C.IN), {"n1", "sabc", "null"}),
    ("in is type aware", Filter("v", ["10", 1.0], C.IN), {"n1"}),
    ("in empty list", Filter("v", [], C.IN), set()),
    ("exclude mixed types", Filter("v", [1, "abc", None], C.EXCLUDE), ALL_TYPED - {"n1", "sabc", "null"}),
    ("exclude empty list", Filter("v", [], C.EXCLUDE), ALL_TYPED),
    ("lt number only numbers", Filter("v", 2.5, C.LT), {"nneg", "n1"}),
    ("max number", Filter("v", 2.5, C.MAX), {"nneg", "n1", "n2"}),
    ("min number", Filter("v", 2.5, C.MIN), {"n2", "n10"}),
    ("gt number", Filter("v", 2.5, C.GT), {"n10"}),
    ("gt is numeric, not lexical", Filter("v", 9, C.GT), {"n10"}),
    ("gt string by code point", Filter("v", "abc", C.GT), {"szz"}),
    ("lt string by code point", Filter("v", "abc", C.LT), {"s1", "sBcd", "spct"}),
    ("min string", Filter("v", "abc", C.MIN), {"sabc", "szz"}),
    ("gt false", Filter("v", False, C.GT), {"t"}),
    ("lt true", Filter("v", True, C.LT), {"f"}),
    ("max true", Filter("v", True, C.MAX), {"f", "t"}),
    ("min null only null", Filter("v", None, C.MIN), {"null"}),
    ("gt null nothing", Filter("v", None, C.GT), set()),
    ("lt array nothing", Filter("v", [5], C.LT), set()),
    ("has", Filter("v", True, C.HAS), ALL_TYPED - {"missing"}),
    ("has not", Filter("v", False, C.HAS), {"missing"}),
    ("has on a nested field", Filter("a.b", True, C.HAS), {"nested"}),
    ("like substring case insensitive", Filter("v", "B", C.LIKE), {"sabc", "sBcd"}),
    ("like prefix", Filter("v", "a*", C.LIKE), {"sabc"}),
    ("like suffix", Filter("v", "*CD", C.LIKE), {"sBcd"}),
    ("like inner wildcard", Filter("v", "b*d", C.LIKE), {"sBcd"}),
    ("like percent is literal", Filter("v", "%", C.LIKE), {"spct"}),
    ("like underscore is literal", Filter("v", "f_n", C.LIKE), {"spct"}),
    ("like underscore alone", Filter("v", "a_c", C.LIKE), set()),
    ("like strings only", Filter("v", "1", C.LIKE), {"s1"}),
    ("like star alone matches every string", Filter("v", "*", C.LIKE), {"s1", "sabc", "sBcd", "szz", "spct"}),
    ("contains one", Filter("v", [1], C.CONTAINS), {"arr"}),
    ("contains all of several", Filter("v", ["a", True], C.CONTAINS), {"arr"}),
    ("contains is type aware", Filter("v", ["1"], C.CONTAINS), set()),
    ("contains needs every value", Filter("v", [2, "a"], C.CONTAINS), set()),
    ("contains nothing matches every array", Filter("v", [], C.CONTAINS), {"arr", "arr2", "arr0"}),
    ("contains_any", Filter("v", [2, "a"], C.CONTAINS_ANY), {"arr", "arr2"}),
    ("contains_any none", Filter("v", ["zzz"], C.CONTAINS_ANY), set()),
    ("contains_any of nothing", Filter("v", [], C.CONTAINS_ANY), set()),
    ("nested eq", Filter("a.b.c", 1, C.EQ), {"nested"}),
    ("nested gt", Filter("a.b.c", 0, C.GT), {"nested"}),
    ("nested through an object value", Filter("v.b", 2, C.EQ), {"nested"}),
    ("nested through a non object is missing", Filter("v.w.x", 1, C.NOT), ALL_TYPED),
    ("nested missing path", Filter("a.x", None, C.EQ), set()),
    ("id eq", Filter("id", "n1", C.EQ), {"n1"}),
    ("id in", Filter("id", ["n1", "t", "nope"], C.IN), {"n1", "t"}),
    ("id exclude", Filter("id", ["n1"], C.EXCLUDE), ALL_TYPED - {"n1"}),
    ("id like", Filter("id", "arr*", C.LIKE), {"arr", "arr2", "arr0"}),
    ("id gt", Filter("id", "s", C.GT), {"s1", "sabc", "sBcd", "szz", "spct", "t"}),
]


#: Fields of TYPED_OBJECTS the declared-index tests declare.
DECLARED_FIELDS = ["v", "-v", "a.b.c", "other"]
_ORDERINGS = (C.EQ, C.LT, C.MAX, C.MIN, C.GT)


def _ids(objects: list[dict[str, Any]]) -> list[str]:
    return [obj["id"] for obj in objects]


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


def _pagination_rules(sorting: list[Sort], last: dict[str, Any]) -> list[list[Filter]]:
    """Rules as Kinto's resource builds them: EQ on leading fields, then GT/LT on the next."""
    rules = []
    for position in range(len(sorting), 0, -1):
        *leading, (field, direction) = sorting[:position]
        rule = [Filter(f, reference.field_value(last, f), C.EQ) for f, _ in leading]
        operator = C.LT if direction < 0 else C.GT
        rule.append(Filter(field, reference.field_value(last, field), operator))
        rules.append(rule)
    return rules


_PAGED_VALUES = st.one_of(st.none(), st.booleans(), st.integers(0, 2), st.sampled_from(["x", "Y", "é"]))


def _create_drawn_documents(storage: StorageBase, data: Any) -> list[dict[str, Any]]:
    """Objects ``o00``, ``o01``... with fields ``a`` and ``b`` (or not) of few values: many ties."""
    documents = data.draw(
        st.lists(st.dictionaries(st.sampled_from(["a", "b"]), _PAGED_VALUES, max_size=2), min_size=0, max_size=14)
    )
    for position, document in enumerate(documents):
        storage.create(RESOURCE, PARENT, {"id": f"o{position:02d}", **document})
    return documents


def _pages(
    storage: StorageBase,
    sorting: list[Sort],
    limit: int,
    *,
    filters: list[Filter] | None = None,
    most: int = 1000,
) -> Iterator[list[dict[str, Any]]]:
    """Each page of the collection in turn, each after the previous one's keyset rules, up to the first
    empty one; the test fails when ``most`` pages are not enough to get there."""
    last = None
    for _ in range(most):
        rules = _pagination_rules(sorting, last) if last else None
        page = storage.list_all(RESOURCE, PARENT, filters=filters, sorting=sorting, pagination_rules=rules, limit=limit)
        if not page:
            return
        yield page
        last = page[-1]
    pytest.fail(f"pagination never ended: {most} pages were not empty")


def _ids_across(pages: Iterable[list[dict[str, Any]]]) -> list[str]:
    """The ids of the objects of every page, in order."""
    return [object_id for page in pages for object_id in _ids(page)]


def _reference_order(objects: list[dict[str, Any]], sorting: list[Sort]) -> list[str]:
    ordered = list(objects)
    for field, direction in reversed(reference.sorting_with_tie_breaker(sorting, "id")):
        ordered.sort(key=lambda o, f=field: reference.sort_key(reference.field_value(o, f)), reverse=direction < 0)
    return _ids(ordered)


_SUITE_HEALTH_CHECKS = list(CONTRACT_HEALTH_CHECKS)


# --- the suite -------------------------------------------------------------------------------------


class StorageContract:
    """Tests every storage backend passes. Provide a ``backend_factory`` fixture."""

    pytestmark: ClassVar[list[Any]] = [pytest.mark.contract]

    @pytest.fixture
    def storage(self, backend_factory: Callable[[], StorageBase]) -> StorageBase:
        return backend_factory()

    @pytest.fixture
    def typed(self, storage: StorageBase) -> StorageBase:
        for object_id, obj in TYPED_OBJECTS.items():
            storage.create(RESOURCE, PARENT, {"id": object_id, **obj})
        storage.create(RESOURCE, OTHER_PARENT, {"id": "elsewhere", "v": 1})
        storage.create("other", PARENT, {"id": "other-resource", "v": 1})
        return storage

    @staticmethod
    def require(storage: StorageBase, flag: str) -> None:
        require_flag(storage, flag)

    # --- contract shape -------------------------------------------------------------------------------

    def test_backend_implements_the_contract(self, storage):
        assert isinstance(storage, StorageBase)
        assert isinstance(type(storage).supports_transactions, bool)
        assert isinstance(type(storage).supports_concurrent_processes, bool)

    def test_heartbeat_answers_true(self, storage):
        assert storage.heartbeat() is True

    def test_initialize_schema_is_idempotent(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "kept"})
        storage.initialize_schema()
        storage.initialize_schema(dry_run=True)
        assert storage.get(RESOURCE, PARENT, "kept")["id"] == "kept"

    # --- create / get ---------------------------------------------------------------------------------

    def test_create_assigns_an_id_and_a_timestamp(self, storage):
        created = storage.create(RESOURCE, PARENT, {"title": "hello"})
        assert generators.UUID4().match(created["id"])
        assert isinstance(created["last_modified"], int)
        assert created["title"] == "hello"

    def test_create_uses_the_given_id_generator(self, storage):
        class Fixed(generators.Generator):
            def __call__(self):
                return "fixed-id"

        assert storage.create(RESOURCE, PARENT, {}, id_generator=Fixed())["id"] == "fixed-id"

    def test_create_keeps_a_given_id(self, storage):
        assert storage.create(RESOURCE, PARENT, {"id": "mine"})["id"] == "mine"
        assert storage.get(RESOURCE, PARENT, "mine")["id"] == "mine"

    def test_create_does_not_modify_the_given_object(self, storage):
        obj = {"title": "x", "nested": {"a": 1}}
        storage.create(RESOURCE, PARENT, obj)
        assert obj == {"title": "x", "nested": {"a": 1}}

    def test_get_returns_what_create_returned(self, storage):
        created = storage.create(RESOURCE, PARENT, {"title": "x", "tags": ["a", "b"]})
        assert storage.get(RESOURCE, PARENT, created["id"]) == created

    def test_returned_objects_are_copies(self, storage):
        created = storage.create(RESOURCE, PARENT, {"id": "a", "nested": {"n": 1}})
        created["nested"]["n"] = 2
        fetched = storage.get(RESOURCE, PARENT, "a")
        fetched["nested"]["n"] = 3
        assert storage.get(RESOURCE, PARENT, "a")["nested"] == {"n": 1}

    @pytest.mark.parametrize(
        "value",
        [
            None,
            True,
            False,
            0,
            -17,
            2**53,
            3.25,
            "",
            "ünïcødé ☃ 🎉",
            'quote " and \\ backslash',
            "\\u0000 as text",
            [1, "two", None, [3]],
            {"deep": {"deeper": {"deepest": [True]}}},
        ],
    )
    def test_json_values_round_trip_with_their_types(self, storage, value):
        created = storage.create(RESOURCE, PARENT, {"value": value})
        fetched = storage.get(RESOURCE, PARENT, created["id"])["value"]
        assert fetched == value
        assert type(fetched) is type(value)

    def test_create_with_an_existing_id_raises_unicity_error_carrying_it(self, storage):
        first = storage.create(RESOURCE, PARENT, {"id": "dup", "v": 1})
        with pytest.raises(UnicityError) as raised:
            storage.create(RESOURCE, PARENT, {"id": "dup", "v": 2})
        assert raised.value.existing == first
        assert storage.get(RESOURCE, PARENT, "dup")["v"] == 1

    def test_same_id_may_live_in_other_parents_and_resources(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "same", "where": 1})
        storage.create(RESOURCE, OTHER_PARENT, {"id": "same", "where": 2})
        storage.create("other", PARENT, {"id": "same", "where": 3})
        assert storage.get(RESOURCE, PARENT, "same")["where"] == 1
        assert storage.get(RESOURCE, OTHER_PARENT, "same")["where"] == 2
        assert storage.get("other", PARENT, "same")["where"] == 3

    def test_create_over_a_tombstone_revives_the_id(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "phoenix", "life": 1})
        storage.delete(RESOURCE, PARENT, "phoenix")
        storage.create(RESOURCE, PARENT, {"id": "phoenix", "life": 2})
        assert storage.get(RESOURCE, PARENT, "phoenix")["life"] == 2
        listed = storage.list_all(RESOURCE, PARENT, include_deleted=True)
        assert [o.get("deleted") for o in listed] == [None]

    @pytest.mark.parametrize("operation", ["get", "delete"])
    def test_get_or_delete_of_a_missing_object_raises_object_not_found(self, storage, operation):
        with pytest.raises(ObjectNotFoundError):
            getattr(storage, operation)(RESOURCE, PARENT, "nope")

    def test_object_not_found_is_also_kintos_record_not_found(self, storage):
        with pytest.raises(RecordNotFoundError):
            storage.get(RESOURCE, PARENT, "nope")

    @pytest.mark.parametrize("operation", ["get", "delete"])
    def test_get_or_delete_of_a_deleted_object_raises_object_not_found(self, storage, operation):
        storage.create(RESOURCE, PARENT, {"id": "gone"})
        storage.delete(RESOURCE, PARENT, "gone")
        with pytest.raises(ObjectNotFoundError):
            getattr(storage, operation)(RESOURCE, PARENT, "gone")

    # --- values that cannot be stored ---------------------------------------------------------------

    @pytest.mark.parametrize(
        "obj",
        [{"title": "a\x00b"}, {"a\x00": 1}, {"nested": {"list": ["ok", "\x00"]}}, {"id": "bad\x00id"}],
        ids=["value", "key", "nested", "id"],
    )
    def test_nul_characters_are_rejected_and_nothing_is_stored(self, storage, obj):
        with pytest.raises(InvalidValueError):
            storage.create(RESOURCE, PARENT, obj)
        with pytest.raises(InvalidValueError):
            storage.update(RESOURCE, PARENT, obj.get("id", "some-id"), obj)
        assert storage.count_all(RESOURCE, PARENT) == 0

    def test_ids_holding_nul_are_never_found(self, storage):
        with pytest.raises(ObjectNotFoundError):
            storage.get(RESOURCE, PARENT, "bad\x00id")
        with pytest.raises(ObjectNotFoundError):
            storage.delete(RESOURCE, PARENT, "bad\x00id")

    def test_nul_in_parent_ids_is_never_a_backend_error(self, storage):
        parent = "/buckets/a\x00b"
        with pytest.raises(InvalidValueError):
            storage.create(RESOURCE, parent, {})
        with pytest.raises(InvalidValueError):
            storage.update(RESOURCE, parent, "a", {})
        with pytest.raises(InvalidValueError):
            storage.resource_timestamp(RESOURCE, parent)
        with pytest.raises(ObjectNotFoundError):
            storage.get(RESOURCE, parent, "a")
        assert storage.list_all(RESOURCE, parent) == []
        assert storage.count_all(RESOURCE, parent + "*") == 0
        assert storage.delete_all(RESOURCE, parent) == []
        assert storage.purge_deleted(RESOURCE, parent) == 0

    def test_invalid_value_error_is_a_value_error(self):
        assert issubclass(InvalidValueError, ValueError)

    def test_nul_characters_in_filters_are_rejected(self, storage):
        with pytest.raises(InvalidValueError):
            storage.list_all(RESOURCE, PARENT, filters=[Filter("title", "a\x00", C.EQ)])

    # --- update ---------------------------------------------------------------------------------------

    def test_update_replaces_the_whole_object(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "u", "a": 1, "b": 2})
        updated = storage.update(RESOURCE, PARENT, "u", {"a": 10})
        assert {k: v for k, v in updated.items() if k != "last_modified"} == {"id": "u", "a": 10}
        assert storage.get(RESOURCE, PARENT, "u") == updated

    def test_update_of_a_missing_object_creates_it(self, storage):
        created = storage.update(RESOURCE, PARENT, "new", {"a": 1})
        assert storage.get(RESOURCE, PARENT, "new") == created

    def test_update_forces_the_id_from_the_argument(self, storage):
        updated = storage.update(RESOURCE, PARENT, "right", {"id": "wrong", "a": 1})
        assert updated["id"] == "right"
        with pytest.raises(ObjectNotFoundError):
            storage.get(RESOURCE, PARENT, "wrong")

    def test_update_over_a_tombstone_removes_it(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "x"})
        storage.delete(RESOURCE, PARENT, "x")
        storage.update(RESOURCE, PARENT, "x", {"back": True})
        listed = storage.list_all(RESOURCE, PARENT, include_deleted=True)
        assert listed == [storage.get(RESOURCE, PARENT, "x")]

    # --- delete ---------------------------------------------------------------------------------------

    def test_delete_returns_a_tombstone(self, storage):
        created = storage.create(RESOURCE, PARENT, {"id": "d", "secret": "s"})
        tombstone = storage.delete(RESOURCE, PARENT, "d")
        assert set(tombstone) == {"id", "last_modified", "deleted"}
        assert tombstone["id"] == "d" and tombstone["deleted"] is True
        assert tombstone["last_modified"] > created["last_modified"]

    def test_delete_keeps_the_tombstone_for_synchronisation(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "d", "secret": "s"})
        tombstone = storage.delete(RESOURCE, PARENT, "d")
        assert storage.list_all(RESOURCE, PARENT) == []
        assert storage.list_all(RESOURCE, PARENT, include_deleted=True) == [tombstone]

    def test_delete_without_tombstone_leaves_no_trace(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "d"})
        storage.delete(RESOURCE, PARENT, "d", with_deleted=False)
        assert storage.list_all(RESOURCE, PARENT, include_deleted=True) == []

    def test_delete_honours_a_later_last_modified(self, storage):
        created = storage.create(RESOURCE, PARENT, {"id": "d"})
        wanted = created["last_modified"] + 10_000
        assert storage.delete(RESOURCE, PARENT, "d", last_modified=wanted)["last_modified"] == wanted
        assert storage.resource_timestamp(RESOURCE, PARENT) == wanted

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

    def test_declared_indexes_are_counted_across_collections(self, storage):
        self.require(storage, "supports_indexes")
        assert storage.count_indexed_fields() == 0
        storage.index_fields(RESOURCE, PARENT, ["v", "-v", "id"])
        storage.index_fields(RESOURCE, OTHER_PARENT, ["v"])
        storage.index_fields("other", PARENT, ["w"])
        assert storage.count_indexed_fields() == 4
        storage.index_fields(RESOURCE, PARENT, ["v"])
        assert storage.count_indexed_fields() == 3

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

    # --- conveniences --------------------------------------------------------------------------------------

    def test_trim_objects_keeps_the_newest(self, storage):
        for i in range(5):
            storage.create(RESOURCE, PARENT, {"id": f"o{i}", "kind": "log"})
        storage.create(RESOURCE, PARENT, {"id": "other", "kind": "note"})
        assert storage.trim_objects(RESOURCE, PARENT, [Filter("kind", "log", C.EQ)], 2) == 3
        assert set(_ids(storage.list_all(RESOURCE, PARENT))) == {"o3", "o4", "other"}
