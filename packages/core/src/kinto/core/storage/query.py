"""The query semantics of the storage contract, in plain Python, and the checks of what is stored.

This is the reference the SQL backends translate (the memory backend uses it
directly): field paths, type-aware filters, the total sort order and the
comparisons of pagination rules. See the docstring of :mod:`kinto.core.storage`.
The checks every backend makes of its input (JSON objects without NUL characters,
string ids, integer timestamps, writes refused by a read-only storage) live here too.
"""

from __future__ import annotations

import heapq
import json
import operator as op
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from kinto.core.patterns import glob_matcher
from kinto.core.storage import COMPARISON, MISSING, Filter, Sort
from kinto.core.storage.exceptions import InvalidValueError, ReadonlyError

__all__ = [
    "ORDERING_OPERATORS",
    "RANK_ARRAY",
    "RANK_BOOLEAN",
    "RANK_MISSING",
    "RANK_NULL",
    "RANK_NUMBER",
    "RANK_OBJECT",
    "RANK_STRING",
    "canonical_json",
    "check_id",
    "check_location",
    "check_storable",
    "check_writable",
    "compile_filters",
    "field_value",
    "like_matcher",
    "matches",
    "matches_pagination",
    "normalize_filter",
    "requested_timestamp",
    "sort_key",
    "sort_rows",
    "sorting_with_tie_breaker",
    "storable_json",
    "timestamp_bounds",
    "type_rank",
]

# The sort order of JSON types (PostgreSQL's jsonb order), MISSING last.
RANK_NULL, RANK_STRING, RANK_NUMBER, RANK_BOOLEAN, RANK_ARRAY, RANK_OBJECT, RANK_MISSING = range(7)

ORDERING_OPERATORS = (COMPARISON.LT, COMPARISON.MAX, COMPARISON.MIN, COMPARISON.GT)
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def type_rank(value: Any) -> int:
    """The rank of ``value``'s JSON type in the sort order."""
    if value is None:
        return RANK_NULL
    if isinstance(value, str):
        return RANK_STRING
    if isinstance(value, bool):
        return RANK_BOOLEAN
    if isinstance(value, (int, float)):
        return RANK_NUMBER
    if isinstance(value, (list, tuple)):
        return RANK_ARRAY
    if isinstance(value, dict):
        return RANK_OBJECT
    if value is MISSING:
        return RANK_MISSING
    raise InvalidValueError(f"Not a JSON value: {value!r}")


def sort_key(value: Any) -> tuple[int, Any]:
    """The key ordering values of any type: rank first, then the scalar value.

    Arrays, objects and MISSING carry no value: all of a rank compare equal.
    """
    rank = type_rank(value)
    if rank in (RANK_STRING, RANK_NUMBER, RANK_BOOLEAN):
        return (rank, value)
    return (rank, 0)


def field_value(obj: dict[str, Any], field: str) -> Any:
    """The value at the dotted path ``field`` of ``obj``, or MISSING."""
    value: Any = obj
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_storable(serialized: str, what: str = "value") -> None:
    """Raise ``InvalidValueError`` when JSON text holds a NUL character (PostgreSQL cannot store it)."""
    if "\\u0000" in serialized and _NUL_ESCAPE.search(serialized):
        raise InvalidValueError(f"The {what} holds a NUL character (\\u0000), which cannot be stored")


def storable_json(obj: Any, *, sort_keys: bool = True) -> str:
    """The JSON text of an object to store; ``InvalidValueError`` when it is no JSON or holds a NUL character."""
    try:
        text = json.dumps(obj, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise InvalidValueError(f"Objects must be JSON: {error}") from error
    check_storable(text, "object")
    return text


def check_id(object_id: Any, id_field: str) -> str:
    """``object_id``, when it is a string without NUL character; ``InvalidValueError`` otherwise."""
    if not isinstance(object_id, str):
        raise InvalidValueError(f"The {id_field!r} field must be a string")
    if "\x00" in object_id:
        raise InvalidValueError(f"The {id_field!r} field holds a NUL character")
    return object_id


def check_location(resource_name: str, parent_id: str) -> None:
    """``InvalidValueError`` when a parent id or resource name to write under holds a NUL character."""
    if "\x00" in parent_id or "\x00" in resource_name:
        raise InvalidValueError("Parent ids and resource names cannot hold NUL characters")


def check_writable(readonly: bool) -> None:
    """``ReadonlyError`` for a write to a storage built with ``readonly=True``."""
    if readonly:
        raise ReadonlyError(message="The storage is read-only")


def requested_timestamp(obj: dict[str, Any], modified_field: str) -> int | None:
    """The timestamp a write asks for (an integer ``modified_field``), or None."""
    value = obj.get(modified_field)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def expected_version(value: Any) -> int:
    """The ``if_last_modified`` of a conditional write: an integer, as the timestamps it meets."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(f"if_last_modified must be an integer, not {value!r}")
    return value


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def normalize_filter(filter_: Filter, id_field: str, modified_field: str) -> Filter:
    """Bring an operand to the form every backend expects, as Kinto does.

    Ids are strings (``in_id=[1, 2]`` means ``"1"``, ``"2"``); timestamps are
    integers; ``in``/``exclude``/``contains*`` take lists; ``has`` a boolean;
    ``like`` a string. NUL characters raise ``InvalidValueError``.
    """
    field, value, operator = filter_
    if value is MISSING:
        return filter_
    if operator in (COMPARISON.IN, COMPARISON.EXCLUDE, COMPARISON.CONTAINS, COMPARISON.CONTAINS_ANY):
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        values = [_normalize_scalar(field, v, id_field, modified_field) for v in values]
        check_storable(json.dumps(values), "filter value")
        return Filter(field, values, operator)
    if operator == COMPARISON.HAS:
        return Filter(field, _truthy(value), operator)
    if operator == COMPARISON.LIKE:
        value = value if isinstance(value, str) else json.dumps(value)
    else:
        value = _normalize_scalar(field, value, id_field, modified_field)
    check_storable(json.dumps(value), "filter value")
    return Filter(field, value, operator)


def _normalize_scalar(field: str, value: Any, id_field: str, modified_field: str) -> Any:
    if field == id_field and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if field == modified_field and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


@lru_cache(maxsize=256)
def like_matcher(pattern: str) -> Callable[[str], bool]:
    """Whether a lowercased string matches a ``like`` operand: ``*`` is any sequence, implicit at
    both ends without one. Linear in the string (clients write the operand: no regexp)."""
    if "*" not in pattern:
        pattern = f"*{pattern}*"
    return glob_matcher(pattern.lower())


def json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values where types never mix (``1 != True``, ``1 == 1.0``)."""
    if type_rank(left) != type_rank(right):
        return False
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    return bool(left == right)


_ORDERING = {COMPARISON.LT: op.lt, COMPARISON.MAX: op.le, COMPARISON.MIN: op.ge, COMPARISON.GT: op.gt}


def _compare(operator: COMPARISON, left: Any, right: Any) -> bool:
    return bool(_ORDERING[operator](left, right))


def _array_holds(array: list[Any], wanted: Any) -> bool:
    return any(json_equal(item, wanted) for item in array)


def matches(obj: dict[str, Any], filter_: Filter) -> bool:
    """Whether ``obj`` satisfies one (normalized) filter of ``filters=``."""
    field, operand, operator = filter_
    value = field_value(obj, field)
    if operator == COMPARISON.EQ:
        return value is not MISSING and json_equal(value, operand)
    if operator == COMPARISON.NOT:
        return value is MISSING or not json_equal(value, operand)
    if operator == COMPARISON.IN:
        return value is not MISSING and any(json_equal(value, v) for v in operand)
    if operator == COMPARISON.EXCLUDE:
        return value is MISSING or not any(json_equal(value, v) for v in operand)
    if operator == COMPARISON.HAS:
        return (value is not MISSING) == operand
    if operator == COMPARISON.LIKE:
        return isinstance(value, str) and like_matcher(operand)(value.lower())
    if operator == COMPARISON.CONTAINS:
        return isinstance(value, list) and all(_array_holds(value, v) for v in operand)
    if operator == COMPARISON.CONTAINS_ANY:
        return isinstance(value, list) and any(_array_holds(value, v) for v in operand)
    if operator in ORDERING_OPERATORS:
        rank = type_rank(value)
        if rank != type_rank(operand) or rank in (RANK_ARRAY, RANK_OBJECT, RANK_MISSING):
            return False
        return _compare(operator, sort_key(value), sort_key(operand))
    raise InvalidValueError(f"Unknown filter operator {operator!r}")


def matches_pagination(obj: dict[str, Any], filter_: Filter) -> bool:
    """Whether ``obj`` satisfies one filter of a pagination rule (comparisons in the sort order)."""
    field, operand, operator = filter_
    if operator not in (*ORDERING_OPERATORS, COMPARISON.EQ):
        return matches(obj, filter_)
    left, right = sort_key(field_value(obj, field)), sort_key(operand)
    if operator == COMPARISON.EQ:
        return left == right
    return _compare(operator, left, right)


def matches_any_rule(obj: dict[str, Any], rules: Iterable[Iterable[Filter]]) -> bool:
    """Whether ``obj`` satisfies every filter of at least one pagination rule."""
    return any(all(matches_pagination(obj, f) for f in rule) for rule in rules)


Predicate = Callable[[dict[str, Any]], bool]
_SCALAR_TYPES = {RANK_STRING: (str,), RANK_NUMBER: (int, float), RANK_BOOLEAN: (bool,)}


def _getter(field: str) -> Callable[[dict[str, Any]], Any]:
    if "." not in field:

        def get(obj: dict[str, Any]) -> Any:
            return obj.get(field, MISSING)

        return get
    return lambda obj: field_value(obj, field)


def _scalar_rank(value: Any) -> int | None:
    """The rank of a string, number or boolean operand; None for any other value."""
    rank = type_rank(value)
    return rank if rank in _SCALAR_TYPES else None


def _membership(get: Callable[[dict[str, Any]], Any], operands: list[Any]) -> Predicate | None:
    """``in`` over scalar operands as set lookups, one set per JSON type (types never mix)."""
    by_type: dict[type, set[Any]] = {}
    null = False
    for operand in operands:
        if operand is None:
            null = True
            continue
        rank = _scalar_rank(operand)
        if rank is None:
            return None
        for kind in _SCALAR_TYPES[rank]:
            by_type.setdefault(kind, set()).add(operand)
    sets = {kind: frozenset(values) for kind, values in by_type.items()}

    def member(obj: dict[str, Any]) -> bool:
        value = get(obj)
        if value is None:
            return null
        wanted = sets.get(type(value))
        return wanted is not None and value in wanted

    return member


def compile_filter(filter_: Filter) -> Predicate:
    """A function telling whether an object satisfies one (normalized) filter, as :func:`matches` does.

    Scalar comparisons, the common case, compare values directly with their type checked once;
    anything else defers to :func:`matches`.
    """
    field, operand, operator = filter_
    get = _getter(field)
    if operator in (COMPARISON.EQ, COMPARISON.NOT, COMPARISON.IN, COMPARISON.EXCLUDE):
        operands = operand if operator in (COMPARISON.IN, COMPARISON.EXCLUDE) else [operand]
        member = None
        if isinstance(operands, list) and len(operands) == 1 and type(operands[0]) is str and "." not in field:
            # The most common filter (``?category=c3``): of JSON values, only a string equals a string.
            text = operands[0]

            def member(obj: dict[str, Any]) -> bool:
                return obj.get(field) == text  # type: ignore[no-any-return]

        elif isinstance(operands, list):
            member = _membership(get, operands)
        if member is not None:
            if operator in (COMPARISON.EQ, COMPARISON.IN):
                return member
            return lambda obj: not member(obj)
    elif operator == COMPARISON.HAS:
        return lambda obj: (get(obj) is not MISSING) == operand
    elif operator in _ORDERING and (rank := _scalar_rank(operand)) is not None:
        kinds = _SCALAR_TYPES[rank]
        compare = _ORDERING[operator]

        def ordered(obj: dict[str, Any]) -> bool:
            value = get(obj)
            return type(value) in kinds and compare(value, operand)

        return ordered
    return lambda obj: matches(obj, filter_)


def compile_filters(filters: Iterable[Filter]) -> Predicate | None:
    """One predicate for every filter (AND), or None when there is no filter."""
    predicates = [compile_filter(f) for f in filters]
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    return lambda obj: all(predicate(obj) for predicate in predicates)


def sorting_with_tie_breaker(sorting: list[Sort] | None, id_field: str) -> list[Sort]:
    """The sort keys followed by the id (ascending) when the sort does not name it."""
    sorting = [Sort(field, -1 if int(direction) < 0 else 1) for field, direction in (sorting or [])]
    if not any(sort.field == id_field for sort in sorting):
        sorting.append(Sort(id_field, 1))
    return sorting


class _Descending:
    """Inverts the order of a sort key component."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key


def sort_rows(
    rows: Iterable[tuple[Any, dict[str, Any]]],
    sorting: list[Sort] | None,
    limit: int | None,
    id_field: str,
    modified_field: str | None = None,
    single_collection: bool = False,
) -> list[tuple[Any, dict[str, Any]]]:
    """``(location, object)`` rows in the contract's order (ties broken by id, then location), at most ``limit``.

    ``single_collection``: every row is of one collection, which allows a faster key when sorting by id
    and timestamp only.
    """
    keys = sorting_with_tie_breaker(sorting, id_field)
    if (
        single_collection
        and len({direction for _, direction in keys}) == 1
        and all(field in (id_field, modified_field) for field, _ in keys)
    ):
        # Ids (strings) and timestamps (integers) are always present and of one type: the
        # builtin comparison gives the contract's order, much faster than the general keys.
        fields = [field for field, _ in keys]

        def plain_key(row: tuple[Any, dict[str, Any]]) -> tuple[Any, ...]:
            obj = row[1]
            return tuple(obj[field] for field in fields)

        descending = keys[0][1] < 0
        if limit is not None:
            pick = heapq.nlargest if descending else heapq.nsmallest
            return pick(max(0, int(limit)), rows, key=plain_key)
        return sorted(rows, key=plain_key, reverse=descending)

    def row_key(row: tuple[Any, dict[str, Any]]) -> tuple[Any, ...]:
        obj = row[1]
        parts: list[Any] = []
        for field, direction in keys:
            key = sort_key(field_value(obj, field))
            parts.append(key if direction > 0 else _Descending(key))
        # Same id under several parents (wildcards): order by location too.
        parts.append(row[0])
        return tuple(parts)

    if limit is not None:
        return heapq.nsmallest(max(0, int(limit)), rows, key=row_key)
    return sorted(rows, key=row_key)


def timestamp_bounds(filters: Iterable[Filter], modified_field: str) -> tuple[int | None, int | None]:
    """The lowest and highest timestamps ``filters`` let through (None: unbounded)."""
    lowest = highest = None
    for f in filters:
        if f.field != modified_field or not isinstance(f.value, int) or isinstance(f.value, bool):
            continue
        if f.operator in (COMPARISON.GT, COMPARISON.MIN):
            bound = f.value + 1 if f.operator is COMPARISON.GT else f.value
            lowest = bound if lowest is None else max(lowest, bound)
        elif f.operator in (COMPARISON.LT, COMPARISON.MAX):
            bound = f.value - 1 if f.operator is COMPARISON.LT else f.value
            highest = bound if highest is None else min(highest, bound)
    return lowest, highest
