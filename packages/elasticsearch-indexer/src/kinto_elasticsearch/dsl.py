"""The part of Elasticsearch's search API that clients may use, and the checks that keep it safe.

A search body is accepted only when every part of it is known to stay inside
the collection searched and to run no code:

* top-level keys: ``query``, ``sort``, ``from``, ``size``, ``_source``,
  ``track_total_hits``, ``search_after``, ``post_filter``, ``min_score``,
  ``highlight``, ``aggs``/``aggregations`` (the last two not on every backend);
* query clauses: the compound ``bool``, ``constant_score``, ``dis_max``,
  ``boosting``, ``nested`` and the leaves in :data:`LEAF_QUERIES`; ``terms``
  only with a list of values (a terms *lookup* reads another index);
* aggregations: the types in :data:`AGGREGATIONS` (``global`` would escape the
  permission filter, ``scripted_metric`` runs code);
* nowhere a ``script`` key, nor any mention of the reserved field ``__kinto__``
  (where the permission data lives).

``size`` is capped at ``max_size`` (silently, as Kinto caps ``_limit``) and
``from + size`` must stay within ``max_result_window``; the body may hold at
most ``max_clauses`` query clauses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kinto_elasticsearch.indexer import RESERVED_FIELD, SearchError

__all__ = ["AGGREGATIONS", "LEAF_QUERIES", "SearchLimits", "parse_uri_search", "validate_search_body"]

COMPOUND_QUERIES = frozenset({"bool", "constant_score", "dis_max", "boosting", "nested"})
LEAF_QUERIES = frozenset({
    "match", "match_phrase", "match_phrase_prefix", "match_bool_prefix", "multi_match", "combined_fields",
    "query_string", "simple_query_string", "term", "terms", "range", "exists", "prefix", "wildcard", "regexp",
    "fuzzy", "ids", "match_all", "match_none",
})
AGGREGATIONS = frozenset({
    "terms", "avg", "min", "max", "sum", "value_count", "cardinality", "stats", "extended_stats", "percentiles",
    "histogram", "date_histogram", "range", "date_range", "missing", "filter", "filters",
})
BODY_KEYS = frozenset({
    "query", "sort", "from", "size", "_source", "track_total_hits", "search_after", "post_filter", "min_score",
    "highlight", "aggs", "aggregations",
})
_FORBIDDEN_KEYS = frozenset({"script", "_script", "scripts", "script_score", "script_fields", "runtime_mappings"})
_BOOL_OCCURRENCES = ("must", "should", "must_not", "filter")
_SORT_ORDERS = ("asc", "desc")
_MAX_DEPTH = 32


@dataclasses.dataclass(frozen=True)
class SearchLimits:
    """Caps applied to every search body."""

    default_size: int = 10
    max_size: int = 1000
    max_result_window: int = 10000
    max_clauses: int = 1024


def _refuse(message: str, name: str | None = None) -> SearchError:
    details = [{"location": "body", "name": name, "description": message}]
    return SearchError(f"{name}: {message}" if name else message, details)


def _check_no_reserved_or_script(value: Any, path: str, depth: int = 0) -> None:
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
            if key in _FORBIDDEN_KEYS:
                raise _refuse("scripts are not allowed", f"{path}.{key}" if path else key)
            _check_no_reserved_or_script(key, path)
            _check_no_reserved_or_script(item, f"{path}.{key}" if path else key, depth + 1)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_no_reserved_or_script(item, f"{path}[{index}]", depth + 1)


class _ClauseCounter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def tick(self, path: str) -> None:
        self.count += 1
        if self.count > self.limit:
            raise _refuse(f"more than {self.limit} query clauses", path)


def _single_entry(value: Any, path: str, what: str) -> tuple[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise _refuse(f"expected an object with exactly one {what}", path)
    ((name, body),) = value.items()
    return name, body


def validate_query(query: Any, path: str, counter: _ClauseCounter) -> None:
    """Check one query clause (recursively); raise :class:`SearchError` when it is not allowed."""
    counter.tick(path)
    kind, body = _single_entry(query, path, "query type")
    here = f"{path}.{kind}"
    if kind in COMPOUND_QUERIES:
        _validate_compound(kind, body, here, counter)
        return
    if kind not in LEAF_QUERIES:
        raise _refuse(f"the query type {kind!r} is not supported", here)
    if kind in ("match_all", "match_none"):
        if not isinstance(body, Mapping):
            raise _refuse("expected an object", here)
        return
    if not isinstance(body, Mapping):
        raise _refuse("expected an object", here)
    if kind == "terms":
        fields = [name for name in body if name != "boost" and name != "_name"]
        if len(fields) != 1 or not isinstance(body[fields[0]], list):
            raise _refuse("expected one field with a list of values (terms lookups are not allowed)", here)


def _validate_compound(kind: str, body: Any, path: str, counter: _ClauseCounter) -> None:
    if not isinstance(body, Mapping):
        raise _refuse("expected an object", path)
    if kind == "bool":
        for occurrence in _BOOL_OCCURRENCES:
            clauses = body.get(occurrence, [])
            clauses = [clauses] if isinstance(clauses, Mapping) else clauses
            if not isinstance(clauses, list):
                raise _refuse("expected a query or a list of queries", f"{path}.{occurrence}")
            for index, clause in enumerate(clauses):
                validate_query(clause, f"{path}.{occurrence}[{index}]", counter)
        return
    children = {
        "constant_score": ("filter",),
        "boosting": ("positive", "negative"),
        "nested": ("query",),
    }.get(kind)
    if kind == "dis_max":
        queries = body.get("queries")
        if not isinstance(queries, list):
            raise _refuse("expected a list of queries", f"{path}.queries")
        for index, clause in enumerate(queries):
            validate_query(clause, f"{path}.queries[{index}]", counter)
        return
    for name in children or ():
        if name not in body:
            raise _refuse("missing", f"{path}.{name}")
        validate_query(body[name], f"{path}.{name}", counter)


def _validate_sort(sort: Any) -> list[Any]:
    items = sort if isinstance(sort, list) else [sort]
    for index, item in enumerate(items):
        where = f"sort[{index}]"
        if isinstance(item, str):
            continue
        name, spec = _single_entry(item, where, "field")
        if name.startswith("_") and name not in ("_score", "_doc", "_id"):
            raise _refuse(f"sorting by {name!r} is not supported", where)
        if isinstance(spec, str):
            if spec not in _SORT_ORDERS:
                raise _refuse("the order must be asc or desc", where)
            continue
        if not isinstance(spec, Mapping):
            raise _refuse("expected asc, desc or an object", where)
        if spec.get("order", "asc") not in _SORT_ORDERS:
            raise _refuse("the order must be asc or desc", where)
    return items


def _validate_aggregations(aggs: Any, path: str, counter: _ClauseCounter, depth: int = 0) -> None:
    if not isinstance(aggs, Mapping):
        raise _refuse("expected an object of named aggregations", path)
    for name, spec in aggs.items():
        here = f"{path}.{name}"
        if not isinstance(spec, Mapping):
            raise _refuse("expected an object", here)
        kinds = [key for key in spec if key not in ("aggs", "aggregations", "meta")]
        if len(kinds) != 1:
            raise _refuse("expected exactly one aggregation type", here)
        kind = kinds[0]
        if kind not in AGGREGATIONS:
            raise _refuse(f"the aggregation {kind!r} is not supported", here)
        body = spec[kind]
        if kind == "filter":
            validate_query(body, f"{here}.filter", counter)
        elif kind == "filters":
            filters = body.get("filters") if isinstance(body, Mapping) else None
            named = filters.items() if isinstance(filters, Mapping) else enumerate(filters or [])
            for key, clause in named:
                validate_query(clause, f"{here}.filters.{key}", counter)
        for sub in ("aggs", "aggregations"):
            if sub in spec:
                _validate_aggregations(spec[sub], f"{here}.{sub}", counter, depth + 1)


def _as_int(body: Mapping[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _refuse("expected a non-negative integer", name)
    return value


def validate_search_body(body: Any, limits: SearchLimits = SearchLimits(),
                         allowed_keys: frozenset[str] = BODY_KEYS) -> dict[str, Any]:
    """Return a checked copy of a search body, with ``from`` and ``size`` set and capped.

    ``None`` means "everything" (``match_all``). Raises :class:`SearchError`
    (with Kinto's ``details``) for anything outside the allowed subset;
    ``allowed_keys`` narrows the top-level keys for backends supporting fewer.
    """
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise _refuse("the search body must be a JSON object")
    unknown = sorted(set(body) - allowed_keys)
    if unknown:
        raise _refuse(f"unsupported search parameter (allowed: {', '.join(sorted(allowed_keys))})", unknown[0])
    _check_no_reserved_or_script(body, "")
    counter = _ClauseCounter(limits.max_clauses)
    checked = dict(body)
    if "query" in body:
        validate_query(body["query"], "query", counter)
    if "post_filter" in body:
        validate_query(body["post_filter"], "post_filter", counter)
    if "sort" in body:
        checked["sort"] = _validate_sort(body["sort"])
    for name in ("aggs", "aggregations"):
        if name in body:
            _validate_aggregations(body[name], name, counter)
    size = min(_as_int(body, "size", limits.default_size), limits.max_size)
    start = _as_int(body, "from", 0)
    if start + size > limits.max_result_window:
        raise _refuse(f"from + size must be at most {limits.max_result_window}", "from")
    checked["size"], checked["from"] = size, start
    if "search_after" in body and not isinstance(body["search_after"], list):
        raise _refuse("expected a list", "search_after")
    source = body.get("_source", True)
    if not isinstance(source, (bool, str, list, Mapping)):
        raise _refuse("expected a boolean, a field, a list of fields or includes/excludes", "_source")
    return checked


def parse_uri_search(params: Mapping[str, str]) -> dict[str, Any]:
    """Build a search body from querystring parameters: ``q`` (query string syntax), ``size``,
    ``from`` and ``sort`` (``field``, ``-field`` or ``field:desc``, comma-separated)."""
    body: dict[str, Any] = {}
    if params.get("q"):
        body["query"] = {"query_string": {"query": params["q"]}}
    for name in ("size", "from"):
        if name in params:
            try:
                body[name] = int(params[name])
            except ValueError:
                raise SearchError(f"{name}: expected an integer", [
                    {"location": "querystring", "name": name, "description": "expected an integer"}
                ]) from None
    if params.get("sort"):
        body["sort"] = [_uri_sort(item) for item in params["sort"].split(",") if item.strip()]
    return body


def _uri_sort(item: str) -> Any:
    item = item.strip()
    if item.startswith("-"):
        return {item[1:]: "desc"}
    field, _, order = item.partition(":")
    return {field: order} if order else field
