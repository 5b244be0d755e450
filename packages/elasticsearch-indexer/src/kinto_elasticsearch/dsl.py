"""The checks that keep a search body inside the collection searched, and the querystring form.

A body is accepted only when every key of every clause is in the allow-list of
:mod:`kinto_elasticsearch.allowlist`, with a value of the type listed there.
Anything else is refused with :class:`~kinto_elasticsearch.indexer.SearchError`
whose ``details`` name the path of the offending key in Kinto's format
(``{"location": "body", "name": "query.bool.must[0].match.title.foo", ...}``).
Beside the table:

* no field name or pattern may reach the reserved field ``__kinto__``, and no
  string may mention it (:mod:`kinto_elasticsearch.reserved`); query strings
  are read as Lucene reads them (escapes undone) to find the fields they name;
* ``size`` is capped at ``max_size`` (silently, as Kinto caps ``_limit``),
  ``from + size`` must stay within ``max_result_window``, and the body may
  hold at most ``max_clauses`` query clauses, nested at most 32 levels deep.

:func:`with_filters` then adds the permission filter to the query and to
every sub-query evaluated over the records of the index (``post_filter``,
highlight queries, ``filter``/``filters`` aggregations).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from kinto_elasticsearch import allowlist
from kinto_elasticsearch.allowlist import (
    AGGREGATION_EXTRAS,
    AGGREGATION_TYPES,
    QUERIES,
    AnyOf,
    ByField,
    ListOf,
    MapOf,
    Obj,
)
from kinto_elasticsearch.indexer import RESERVED_FIELD, SearchError
from kinto_elasticsearch.reserved import names_reserved_field, reaches_reserved

__all__ = [
    "AGGREGATIONS",
    "BODY_KEYS",
    "LEAF_QUERIES",
    "SearchLimits",
    "parse_uri_search",
    "validate_search_body",
    "with_filters",
]

COMPOUND_QUERIES = frozenset({"bool", "constant_score", "dis_max", "boosting", "nested"})
LEAF_QUERIES = frozenset(QUERIES) - COMPOUND_QUERIES
AGGREGATIONS = frozenset(AGGREGATION_TYPES)
BODY_KEYS = frozenset(allowlist.BODY.keys)
_MAX_DEPTH = 32
_SORT_SPECIALS = ("_score", "_doc", "_id")
_NUMBERS = (int, float)


@dataclasses.dataclass(frozen=True)
class SearchLimits:
    """Caps applied to every search body."""

    default_size: int = 10
    max_size: int = 1000
    max_result_window: int = 10000
    max_clauses: int = 1024


def _refuse(message: str, name: str | None = None, location: str = "body") -> SearchError:
    details = [{"location": location, "name": name, "description": message}]
    return SearchError(f"{name}: {message}" if name else message, details)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_no_reserved(value: Any, path: str, depth: int = 0) -> None:
    """No string anywhere (keys included) mentions the reserved field; nesting is bounded."""
    if depth > _MAX_DEPTH:
        raise _refuse(f"nested more than {_MAX_DEPTH} levels deep", path or None)
    if isinstance(value, str):
        if RESERVED_FIELD in value:
            raise _refuse(f"the field {RESERVED_FIELD!r} is reserved", path or None)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _refuse("keys must be strings", path or None)
            _check_no_reserved(key, path)
            _check_no_reserved(item, _join(path, key), depth + 1)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_no_reserved(item, f"{path}[{index}]", depth + 1)


def _single_entry(value: Any, path: str, what: str) -> tuple[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise _refuse(f"expected an object with exactly one {what}", path)
    ((name, body),) = value.items()
    return name, body


def _shape(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, _NUMBERS):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


_KIND_SHAPES = {
    allowlist.QUERY: {"object"},
    allowlist.QUERY_OR_LIST: {"object", "list"},
    allowlist.QUERY_LIST: {"list"},
    allowlist.NAMED_QUERIES: {"object", "list"},
    allowlist.AGGREGATIONS: {"object"},
    allowlist.SORT: {"object", "list"},
    allowlist.FIELD: {"string"},
    allowlist.FIELD_PATTERN: {"string"},
    allowlist.QUERY_STRING: {"string"},
    allowlist.TEXT: {"string"},
    allowlist.NUMBER: {"number"},
    allowlist.COUNT: {"number"},
    allowlist.AT_LEAST_ONE: {"number"},
    allowlist.BOOLEAN: {"boolean"},
    allowlist.SCALAR: {"string", "number", "boolean"},
    allowlist.NULLABLE_SCALAR: {"string", "number", "boolean", "null"},
    allowlist.NUMBER_OR_TEXT: {"number", "string"},
    allowlist.ANY_JSON: {"string", "number", "boolean", "null", "list", "object"},
}


def _shapes(spec: allowlist.Spec) -> set[str]:
    if isinstance(spec, tuple):
        return {"string"}
    if isinstance(spec, (Obj, MapOf, ByField)):
        return {"object"}
    if isinstance(spec, ListOf):
        return {"list"}
    if isinstance(spec, AnyOf):
        return set().union(*(_shapes(option) for option in spec.options))
    return _KIND_SHAPES[spec]


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SCALAR_TESTS = {
    allowlist.TEXT: lambda value: isinstance(value, str),
    allowlist.NUMBER: lambda value: _shape(value) == "number",
    allowlist.COUNT: lambda value: _is_integer(value) and value >= 0,
    allowlist.AT_LEAST_ONE: lambda value: _is_integer(value) and value >= 1,
    allowlist.BOOLEAN: lambda value: isinstance(value, bool),
    allowlist.SCALAR: lambda value: _shape(value) in ("string", "number", "boolean"),
    allowlist.NULLABLE_SCALAR: lambda value: _shape(value) in ("string", "number", "boolean", "null"),
    allowlist.NUMBER_OR_TEXT: lambda value: _shape(value) in ("string", "number"),
    allowlist.ANY_JSON: lambda value: True,
}


class _Walker:
    """Checks a body against the allow-list, counting query clauses."""

    def __init__(self, limits: SearchLimits) -> None:
        self.limits = limits
        self.clauses = 0

    def check(self, spec: allowlist.Spec, value: Any, path: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _refuse(f"nested more than {_MAX_DEPTH} levels deep", path)
        if isinstance(spec, tuple):
            if value not in spec:
                raise _refuse(f"expected {allowlist.describe(spec)}", path)
        elif isinstance(spec, Obj):
            self.obj(spec, value, path, depth)
        elif isinstance(spec, ByField):
            self.by_field(spec, value, path, depth)
        elif isinstance(spec, ListOf):
            self.list_of(spec, value, path, depth)
        elif isinstance(spec, MapOf):
            self.map_of(spec, value, path, depth)
        elif isinstance(spec, AnyOf):
            self.any_of(spec, value, path, depth)
        elif spec in _SCALAR_TESTS:
            if not _SCALAR_TESTS[spec](value):
                raise _refuse(f"expected {allowlist.describe(spec)}", path)
        else:
            getattr(self, spec)(value, path, depth)

    # --- structures ---

    def obj(self, spec: Obj, value: Any, path: str, depth: int) -> None:
        if not isinstance(value, Mapping):
            raise _refuse("expected an object", path)
        for key, item in value.items():
            if key not in spec.keys:
                raise _refuse(f"unknown key (allowed: {', '.join(sorted(spec.keys))})", _join(path, key))
            self.check(spec.keys[key], item, _join(path, key), depth + 1)
        missing = sorted(spec.required - set(value))
        if missing:
            raise _refuse("missing", _join(path, missing[0]))

    def by_field(self, spec: ByField, value: Any, path: str, depth: int) -> None:
        if not isinstance(value, Mapping):
            raise _refuse("expected an object naming one field", path)
        fields = [key for key in value if key not in ("boost", "_name")]
        if len(fields) != 1:
            raise _refuse("expected exactly one field", path)
        for key in set(value) - set(fields):
            self.check(allowlist.NUMBER if key == "boost" else allowlist.TEXT, value[key], _join(path, key), depth + 1)
        here = _join(path, fields[0])
        self.field(fields[0], here, depth)
        item = value[fields[0]]
        if isinstance(item, Mapping) and spec.options is not None:
            self.obj(spec.options, item, here, depth + 1)
        elif isinstance(item, Mapping) or spec.shorthand is None:
            expected = allowlist.describe(spec.shorthand) if spec.shorthand is not None else "an object"
            # For terms: an object would be a lookup, reading a document of any index.
            raise _refuse(f"expected {expected} (lookups in other documents are not allowed)", here)
        else:
            self.check(spec.shorthand, item, here, depth + 1)

    def list_of(self, spec: ListOf, value: Any, path: str, depth: int) -> None:
        if not isinstance(value, list):
            raise _refuse("expected a list", path)
        for index, item in enumerate(value):
            self.check(spec.item, item, f"{path}[{index}]", depth + 1)

    def map_of(self, spec: MapOf, value: Any, path: str, depth: int) -> None:
        if not isinstance(value, Mapping):
            raise _refuse("expected an object", path)
        for key, item in value.items():
            self.check(spec.key, key, _join(path, key), depth + 1)
            self.check(spec.value, item, _join(path, key), depth + 1)

    def any_of(self, spec: AnyOf, value: Any, path: str, depth: int) -> None:
        shape = _shape(value)
        for option in spec.options:
            if shape in _shapes(option):
                self.check(option, value, path, depth)
                return
        raise _refuse(f"expected {allowlist.describe(spec)}", path)

    # --- kinds ---

    def field(self, value: Any, path: str, depth: int) -> None:
        if not isinstance(value, str) or not value:
            raise _refuse("expected a field name", path)
        if reaches_reserved(value):
            raise _refuse(f"names the reserved field {RESERVED_FIELD!r}", path)

    field_pattern = field

    def query_string(self, value: Any, path: str, depth: int) -> None:
        if not isinstance(value, str):
            raise _refuse("expected a query string", path)
        if names_reserved_field(value):
            raise _refuse(f"names the reserved field {RESERVED_FIELD!r}", path)

    def query(self, value: Any, path: str, depth: int) -> None:
        self.clauses += 1
        if self.clauses > self.limits.max_clauses:
            raise _refuse(f"more than {self.limits.max_clauses} query clauses", path)
        kind, body = _single_entry(value, path, "query type")
        here = f"{path}.{kind}"
        if kind not in QUERIES:
            raise _refuse(f"the query type {kind!r} is not allowed", here)
        self.check(QUERIES[kind], body, here, depth + 1)

    def query_or_list(self, value: Any, path: str, depth: int) -> None:
        if isinstance(value, list):
            self.query_list(value, path, depth)
        else:
            self.query(value, path, depth)

    def query_list(self, value: Any, path: str, depth: int) -> None:
        self.list_of(ListOf(allowlist.QUERY), value, path, depth)

    def named_queries(self, value: Any, path: str, depth: int) -> None:
        if isinstance(value, list):
            self.query_list(value, path, depth)
        else:
            self.map_of(MapOf(allowlist.QUERY), value, path, depth)

    def aggregations(self, value: Any, path: str, depth: int) -> None:
        if not isinstance(value, Mapping):
            raise _refuse("expected an object of named aggregations", path)
        for name, spec in value.items():
            here = _join(path, name)
            if not isinstance(spec, Mapping):
                raise _refuse("expected an object", here)
            kinds = [key for key in spec if key not in AGGREGATION_EXTRAS]
            if len(kinds) != 1:
                raise _refuse("expected exactly one aggregation type", here)
            if kinds[0] not in AGGREGATION_TYPES:
                raise _refuse(f"the aggregation {kinds[0]!r} is not allowed", here)
            for key, item in spec.items():
                self.check(AGGREGATION_EXTRAS.get(key) or AGGREGATION_TYPES[key], item, f"{here}.{key}", depth + 1)

    def sort(self, value: Any, path: str, depth: int) -> None:
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            here = f"{path}[{index}]"
            if isinstance(item, str):
                self.sort_field(item, here)
                continue
            name, spec = _single_entry(item, here, "field")
            where = f"{here}.{name}"
            self.sort_field(name, where)
            self.check(
                allowlist.SORT_ORDER if isinstance(spec, str) else allowlist.SORT_OPTIONS, spec, where, depth + 1
            )

    def sort_field(self, name: str, path: str) -> None:
        if name in _SORT_SPECIALS:
            return
        if name.startswith("_"):
            raise _refuse(f"sorting by {name!r} is not supported", path)
        self.field(name, path, 0)


def _as_int(body: Mapping[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _refuse("expected a non-negative integer", name)
    return value


def validate_search_body(
    body: Any, limits: SearchLimits = SearchLimits(), allowed_keys: frozenset[str] = BODY_KEYS
) -> dict[str, Any]:
    """Return a checked copy of a search body, with ``from`` and ``size`` set and capped.

    ``None`` means "everything" (``match_all``). Raises :class:`SearchError`
    (with Kinto's ``details``) for anything outside the allow-list;
    ``allowed_keys`` narrows the top-level keys for backends supporting fewer
    (checked after the whole body, so that a body is refused for the same
    reason by every backend).
    """
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise _refuse("the search body must be a JSON object")
    unknown = sorted(set(body) - BODY_KEYS)
    if unknown:
        raise _refuse(f"unsupported search parameter (allowed: {', '.join(sorted(BODY_KEYS))})", unknown[0])
    _check_no_reserved(body, "")
    _Walker(limits).check(allowlist.BODY, body, "", 0)
    unsupported = sorted(set(body) - allowed_keys)
    if unsupported:
        raise _refuse(f"not supported by this indexer (supported: {', '.join(sorted(allowed_keys))})", unsupported[0])
    checked = dict(body)
    if "sort" in body:
        checked["sort"] = body["sort"] if isinstance(body["sort"], list) else [body["sort"]]
    size = min(_as_int(body, "size", limits.default_size), limits.max_size)
    start = _as_int(body, "from", 0)
    if start + size > limits.max_result_window:
        raise _refuse(f"from + size must be at most {limits.max_result_window}", "from")
    checked["size"], checked["from"] = size, start
    return checked


def _filtered(query: Any, filters: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {"bool": {"must": [query], "filter": list(filters)}}


def _filter_aggregations(aggregations: Mapping[str, Any], filters: list[Mapping[str, Any]]) -> dict[str, Any]:
    result = {}
    for name, spec in aggregations.items():
        spec = dict(spec)
        if "filter" in spec:
            spec["filter"] = _filtered(spec["filter"], filters)
        if "filters" in spec:
            named = spec["filters"]["filters"]
            named = (
                {key: _filtered(query, filters) for key, query in named.items()}
                if isinstance(named, Mapping)
                else [_filtered(query, filters) for query in named]
            )
            spec["filters"] = {**spec["filters"], "filters": named}
        for sub in ("aggs", "aggregations"):
            if sub in spec:
                spec[sub] = _filter_aggregations(spec[sub], filters)
        result[name] = spec
    return result


def _filter_highlight(highlight: Mapping[str, Any], filters: list[Mapping[str, Any]]) -> dict[str, Any]:
    highlight = copy.deepcopy(dict(highlight))
    if "highlight_query" in highlight:
        highlight["highlight_query"] = _filtered(highlight["highlight_query"], filters)
    fields = highlight["fields"]
    for options in fields if isinstance(fields, list) else [fields]:
        for spec in options.values():
            if "highlight_query" in spec:
                spec["highlight_query"] = _filtered(spec["highlight_query"], filters)
    return highlight


def with_filters(body: Mapping[str, Any], filters: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A checked body whose query, and every sub-query run over the records of the index, also requires
    ``filters`` (trusted clauses: the permission filter).

    ``query`` always becomes ``{"bool": {"must": [query or match_all], "filter": filters}}``.
    Sub-queries run inside one hit (a nested query's own ``query``, a sort's
    ``nested.filter``) see that hit's nested objects only and are left as they are.
    """
    filters = list(filters)
    result = dict(body)
    result["query"] = _filtered(body.get("query") or {"match_all": {}}, filters)
    if not filters:
        return result
    if "post_filter" in body:
        result["post_filter"] = _filtered(body["post_filter"], filters)
    if "highlight" in body:
        result["highlight"] = _filter_highlight(body["highlight"], filters)
    for name in ("aggs", "aggregations"):
        if name in body:
            result[name] = _filter_aggregations(body[name], filters)
    return result


def parse_uri_search(params: Mapping[str, str]) -> dict[str, Any]:
    """Build a search body from querystring parameters: ``q`` (query string syntax), ``size``,
    ``from`` and ``sort`` (``field``, ``-field`` or ``field:desc``, comma-separated)."""
    body: dict[str, Any] = {}
    if params.get("q"):
        if names_reserved_field(params["q"]):
            raise _refuse(f"names the reserved field {RESERVED_FIELD!r}", "q", location="querystring")
        body["query"] = {"query_string": {"query": params["q"]}}
    for name in ("size", "from"):
        if name in params:
            try:
                body[name] = int(params[name])
            except ValueError:
                raise SearchError(
                    f"{name}: expected an integer",
                    [{"location": "querystring", "name": name, "description": "expected an integer"}],
                ) from None
    if params.get("sort"):
        body["sort"] = [_uri_sort(item) for item in params["sort"].split(",") if item.strip()]
    return body


def _uri_sort(item: str) -> Any:
    item = item.strip()
    if item.startswith("-"):
        return {item[1:]: "desc"}
    field, _, order = item.partition(":")
    return {field: order} if order else field
