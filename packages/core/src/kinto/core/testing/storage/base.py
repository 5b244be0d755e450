"""The storage suite's data sets, shared steps and base class (its fixtures and ``require``).

The topic modules of :mod:`kinto.core.testing.storage` build on it; the stable names are
the package's (``TYPED_OBJECTS``, ``FILTER_CASES``...), re-exported there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from hypothesis import strategies as st

from kinto.core.storage import COMPARISON, Filter, Sort, StorageBase
from kinto.core.storage import query as reference
from kinto.core.testing.plugin import (
    CONTRACT_HEALTH_CHECKS,
    require_flag,
)
from kinto.core.testing.postgresql import DEFAULT_SERVER_URL

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


class StorageSuite:
    """What every part of the suite uses: the backend fixtures and ``require``."""

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
