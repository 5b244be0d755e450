"""What a search body may hold: every key of every clause, and what its value may be.

This table is the allow-list :func:`kinto_elasticsearch.dsl.validate_search_body`
walks. A key it does not list is refused (400, naming the key's path in the
body), so a feature Elasticsearch adds, or one left out on purpose, never
reaches the index unchecked. Left out on purpose, because they would read
beyond the records the caller may read or run code: scripts (``script``,
``script_score``, ``script_fields``, ``runtime_mappings``), terms lookups
(``terms`` with ``index``/``id``/``path``), ``more_like_this``, ``percolate``,
``wrapper``, ``inner_hits``, ``global`` and ``significant_*`` aggregations
(their background set is the whole index), ``min_doc_count: 0`` on ``terms``
(it lists terms of the whole index), ``explain``, ``docvalue_fields``,
``stored_fields``, suggesters.

A value's specification is one of:

* a kind name: :data:`QUERY` (one query clause, itself checked against
  :data:`QUERIES`), :data:`QUERY_OR_LIST`, :data:`QUERY_LIST`,
  :data:`NAMED_QUERIES`, :data:`AGGREGATIONS`, :data:`FIELD` (a field name),
  :data:`FIELD_PATTERN` (a name or ``*`` pattern, ``^boost`` allowed),
  :data:`QUERY_STRING` (Lucene syntax: the fields it names are checked), and
  the JSON scalars :data:`TEXT`, :data:`NUMBER`, :data:`COUNT` (an integer >= 0),
  :data:`AT_LEAST_ONE` (an integer >= 1), :data:`BOOLEAN`, :data:`SCALAR`,
  :data:`NULLABLE_SCALAR`, :data:`NUMBER_OR_TEXT` and :data:`ANY_JSON` (not
  interpreted, e.g. an aggregation's ``meta``);
* a tuple of strings: one of these values;
* :class:`Obj` (an object with these keys), :class:`ByField` (``{<field>:
  value or options}``), :class:`ListOf`, :class:`MapOf`, :class:`AnyOf`.

Every field name, wherever it appears, is checked against the reserved field
(:mod:`kinto_elasticsearch.reserved`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AGGREGATION_EXTRAS",
    "AGGREGATION_TYPES",
    "BODY",
    "HIGHLIGHT",
    "QUERIES",
    "SORT_OPTIONS",
    "SOURCE",
    "AnyOf",
    "ByField",
    "ListOf",
    "MapOf",
    "Obj",
    "Spec",
    "describe",
]

QUERY = "query"
QUERY_OR_LIST = "query_or_list"
QUERY_LIST = "query_list"
NAMED_QUERIES = "named_queries"
AGGREGATIONS = "aggregations"
FIELD = "field"
FIELD_PATTERN = "field_pattern"
QUERY_STRING = "query_string"
TEXT = "text"
NUMBER = "number"
COUNT = "count"
AT_LEAST_ONE = "at_least_one"
BOOLEAN = "boolean"
SCALAR = "scalar"
NULLABLE_SCALAR = "nullable_scalar"
NUMBER_OR_TEXT = "number_or_text"
ANY_JSON = "any_json"


@dataclasses.dataclass(frozen=True)
class Obj:
    """An object whose keys are among ``keys`` (each value checked by its spec), ``required`` present."""

    keys: Mapping[str, Spec]
    required: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class ByField:
    """``{<field>: shorthand}`` or ``{<field>: options}``, beside an optional ``boost`` and ``_name``.

    ``shorthand`` ``None``: the options object is required; ``options`` ``None``: only the shorthand.
    """

    shorthand: Spec | None
    options: Obj | None


@dataclasses.dataclass(frozen=True)
class ListOf:
    item: Spec


@dataclasses.dataclass(frozen=True)
class MapOf:
    """An object of any keys (checked as ``key``: :data:`TEXT` or a field kind) with values ``value``."""

    value: Spec
    key: str = TEXT


@dataclasses.dataclass(frozen=True)
class AnyOf:
    """The first option whose JSON type (object, list, string, number, boolean, null) fits the value."""

    options: tuple[Spec, ...]


Spec = str | tuple[str, ...] | Obj | ByField | ListOf | MapOf | AnyOf

FIELD_PATTERNS = AnyOf((FIELD_PATTERN, ListOf(FIELD_PATTERN)))
TEXTS = AnyOf((TEXT, ListOf(TEXT)))
OPERATOR = ("or", "and", "OR", "AND")
ZERO_TERMS = ("none", "all")
_COMMON = {"boost": NUMBER, "_name": TEXT}

# --- queries --------------------------------------------------------------------------------------

_MATCH = {
    "query": SCALAR,
    "operator": OPERATOR,
    "minimum_should_match": NUMBER_OR_TEXT,
    "analyzer": TEXT,
    "fuzziness": NUMBER_OR_TEXT,
    "prefix_length": COUNT,
    "max_expansions": COUNT,
    "fuzzy_transpositions": BOOLEAN,
    "lenient": BOOLEAN,
    "zero_terms_query": ZERO_TERMS,
    "auto_generate_synonyms_phrase_query": BOOLEAN,
    **_COMMON,
}
_PHRASE = {"query": SCALAR, "slop": COUNT, "analyzer": TEXT, "zero_terms_query": ZERO_TERMS, **_COMMON}
_TERM_LIKE = {"value": TEXT, "case_insensitive": BOOLEAN, "rewrite": TEXT, **_COMMON}
_RANGE_BOUND = NULLABLE_SCALAR

#: Query clauses: the body each one may have.
QUERIES: dict[str, Obj | ByField] = {
    "bool": Obj(
        {
            "must": QUERY_OR_LIST,
            "should": QUERY_OR_LIST,
            "must_not": QUERY_OR_LIST,
            "filter": QUERY_OR_LIST,
            "minimum_should_match": NUMBER_OR_TEXT,
            **_COMMON,
        }
    ),
    "constant_score": Obj({"filter": QUERY, **_COMMON}, frozenset({"filter"})),
    "dis_max": Obj({"queries": QUERY_LIST, "tie_breaker": NUMBER, **_COMMON}, frozenset({"queries"})),
    "boosting": Obj(
        {"positive": QUERY, "negative": QUERY, "negative_boost": NUMBER, **_COMMON},
        frozenset({"positive", "negative", "negative_boost"}),
    ),
    "nested": Obj(
        {
            "path": FIELD,
            "query": QUERY,
            "score_mode": ("avg", "max", "min", "none", "sum"),
            "ignore_unmapped": BOOLEAN,
            **_COMMON,
        },
        frozenset({"path", "query"}),
    ),
    "match_all": Obj(_COMMON),
    "match_none": Obj({"_name": TEXT}),
    "match": ByField(SCALAR, Obj(_MATCH, frozenset({"query"}))),
    "match_phrase": ByField(SCALAR, Obj(_PHRASE, frozenset({"query"}))),
    "match_phrase_prefix": ByField(SCALAR, Obj({**_PHRASE, "max_expansions": COUNT}, frozenset({"query"}))),
    "match_bool_prefix": ByField(SCALAR, Obj(_MATCH, frozenset({"query"}))),
    "multi_match": Obj(
        {
            **_MATCH,
            "fields": FIELD_PATTERNS,
            "slop": COUNT,
            "tie_breaker": NUMBER,
            "type": ("best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix", "bool_prefix"),
        },
        frozenset({"query"}),
    ),
    "combined_fields": Obj(
        {
            "query": SCALAR,
            "fields": FIELD_PATTERNS,
            "operator": OPERATOR,
            "minimum_should_match": NUMBER_OR_TEXT,
            "zero_terms_query": ZERO_TERMS,
            "auto_generate_synonyms_phrase_query": BOOLEAN,
            **_COMMON,
        },
        frozenset({"query", "fields"}),
    ),
    "query_string": Obj(
        {
            "query": QUERY_STRING,
            "default_field": FIELD_PATTERN,
            "fields": FIELD_PATTERNS,
            "default_operator": OPERATOR,
            "analyzer": TEXT,
            "quote_analyzer": TEXT,
            "allow_leading_wildcard": BOOLEAN,
            "enable_position_increments": BOOLEAN,
            "fuzzy_max_expansions": COUNT,
            "fuzziness": NUMBER_OR_TEXT,
            "fuzzy_prefix_length": COUNT,
            "fuzzy_transpositions": BOOLEAN,
            "phrase_slop": COUNT,
            "lenient": BOOLEAN,
            "minimum_should_match": NUMBER_OR_TEXT,
            "analyze_wildcard": BOOLEAN,
            "time_zone": TEXT,
            "auto_generate_synonyms_phrase_query": BOOLEAN,
            "max_determinized_states": COUNT,
            "rewrite": TEXT,
            "type": ("best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix", "bool_prefix"),
            "tie_breaker": NUMBER,
            **_COMMON,
        },
        frozenset({"query"}),
    ),
    "simple_query_string": Obj(
        {
            "query": QUERY_STRING,
            "fields": FIELD_PATTERNS,
            "default_operator": OPERATOR,
            "analyzer": TEXT,
            "flags": TEXT,
            "fuzzy_max_expansions": COUNT,
            "fuzzy_prefix_length": COUNT,
            "fuzzy_transpositions": BOOLEAN,
            "lenient": BOOLEAN,
            "minimum_should_match": NUMBER_OR_TEXT,
            "analyze_wildcard": BOOLEAN,
            "auto_generate_synonyms_phrase_query": BOOLEAN,
            **_COMMON,
        },
        frozenset({"query"}),
    ),
    "term": ByField(SCALAR, Obj({**_TERM_LIKE, "value": SCALAR}, frozenset({"value"}))),
    # Values only: an object here would be a terms lookup, reading another index.
    "terms": ByField(ListOf(SCALAR), None),
    "ids": Obj({"values": ListOf(SCALAR), **_COMMON}, frozenset({"values"})),
    "exists": Obj({"field": FIELD_PATTERN, **_COMMON}, frozenset({"field"})),
    "range": ByField(
        None,
        Obj(
            {
                "gt": _RANGE_BOUND,
                "gte": _RANGE_BOUND,
                "lt": _RANGE_BOUND,
                "lte": _RANGE_BOUND,
                "from": _RANGE_BOUND,
                "to": _RANGE_BOUND,
                "include_lower": BOOLEAN,
                "include_upper": BOOLEAN,
                "format": TEXT,
                "time_zone": TEXT,
                "relation": ("INTERSECTS", "CONTAINS", "WITHIN", "intersects", "contains", "within"),
                **_COMMON,
            }
        ),
    ),
    "prefix": ByField(TEXT, Obj(_TERM_LIKE, frozenset({"value"}))),
    "wildcard": ByField(TEXT, Obj({**_TERM_LIKE, "wildcard": TEXT})),
    "regexp": ByField(TEXT, Obj({**_TERM_LIKE, "flags": TEXT, "max_determinized_states": COUNT}, frozenset({"value"}))),
    "fuzzy": ByField(
        SCALAR,
        Obj(
            {
                "value": SCALAR,
                "fuzziness": NUMBER_OR_TEXT,
                "max_expansions": COUNT,
                "prefix_length": COUNT,
                "transpositions": BOOLEAN,
                "rewrite": TEXT,
                **_COMMON,
            },
            frozenset({"value"}),
        ),
    ),
}

# --- aggregations ---------------------------------------------------------------------------------

_ORDER = AnyOf((MapOf(("asc", "desc")), ListOf(MapOf(("asc", "desc")))))
_METRIC = {"field": FIELD, "missing": SCALAR, "format": TEXT}
_BOUNDS = Obj({"min": SCALAR, "max": SCALAR})
_RANGES = ListOf(Obj({"from": NULLABLE_SCALAR, "to": NULLABLE_SCALAR, "key": TEXT}))
_BUCKETS = {"field": FIELD, "keyed": BOOLEAN, "missing": SCALAR, "format": TEXT}

#: Aggregation types: the body each one may have. Every one works on the hits of the (permission
#: filtered) query; ``min_doc_count`` of ``terms`` must be at least 1, since 0 would list terms of
#: records outside the hits. Histograms may keep empty buckets (``min_doc_count: 0``): those lie
#: between the hits' own values or the caller's ``extended_bounds``.
AGGREGATION_TYPES: dict[str, Spec] = {
    "avg": Obj(_METRIC, frozenset({"field"})),
    "min": Obj(_METRIC, frozenset({"field"})),
    "max": Obj(_METRIC, frozenset({"field"})),
    "sum": Obj(_METRIC, frozenset({"field"})),
    "stats": Obj(_METRIC, frozenset({"field"})),
    "extended_stats": Obj({**_METRIC, "sigma": NUMBER}, frozenset({"field"})),
    "value_count": Obj({"field": FIELD}, frozenset({"field"})),
    "cardinality": Obj({**_METRIC, "precision_threshold": COUNT}, frozenset({"field"})),
    "percentiles": Obj({**_METRIC, "percents": ListOf(NUMBER), "keyed": BOOLEAN}, frozenset({"field"})),
    "missing": Obj({"field": FIELD}, frozenset({"field"})),
    "terms": Obj(
        {
            "field": FIELD,
            "size": COUNT,
            "shard_size": COUNT,
            "min_doc_count": AT_LEAST_ONE,
            "order": _ORDER,
            "missing": SCALAR,
            "include": AnyOf((TEXT, ListOf(SCALAR))),
            "exclude": AnyOf((TEXT, ListOf(SCALAR))),
            "show_term_doc_count_error": BOOLEAN,
            "format": TEXT,
        },
        frozenset({"field"}),
    ),
    "histogram": Obj(
        {
            **_BUCKETS,
            "interval": NUMBER,
            "offset": NUMBER,
            "min_doc_count": COUNT,
            "extended_bounds": _BOUNDS,
            "hard_bounds": _BOUNDS,
            "order": _ORDER,
        },
        frozenset({"field", "interval"}),
    ),
    "date_histogram": Obj(
        {
            **_BUCKETS,
            "calendar_interval": TEXT,
            "fixed_interval": TEXT,
            "time_zone": TEXT,
            "offset": TEXT,
            "min_doc_count": COUNT,
            "extended_bounds": _BOUNDS,
            "hard_bounds": _BOUNDS,
            "order": _ORDER,
        },
        frozenset({"field"}),
    ),
    "range": Obj({**_BUCKETS, "ranges": _RANGES}, frozenset({"field", "ranges"})),
    "date_range": Obj({**_BUCKETS, "ranges": _RANGES, "time_zone": TEXT}, frozenset({"field", "ranges"})),
    "filter": QUERY,
    "filters": Obj(
        {"filters": NAMED_QUERIES, "other_bucket": BOOLEAN, "other_bucket_key": TEXT}, frozenset({"filters"})
    ),
}

#: Keys of an aggregation beside its type.
AGGREGATION_EXTRAS: dict[str, Spec] = {"aggs": AGGREGATIONS, "aggregations": AGGREGATIONS, "meta": ANY_JSON}

# --- sort, highlight, _source ---------------------------------------------------------------------

SORT_ORDER = ("asc", "desc")
SORT_OPTIONS = Obj(
    {
        "order": SORT_ORDER,
        "missing": SCALAR,
        "mode": ("min", "max", "sum", "avg", "median"),
        "unmapped_type": TEXT,
        "numeric_type": ("double", "long", "date", "date_nanos"),
        "format": TEXT,
        # The nested filter selects among the nested objects of each hit: it never reaches another record.
        "nested": Obj({"path": FIELD, "filter": QUERY, "max_children": COUNT}, frozenset({"path"})),
    }
)

_HIGHLIGHT_OPTIONS: dict[str, Spec] = {
    "type": ("unified", "plain", "fvh"),
    "pre_tags": TEXTS,
    "post_tags": TEXTS,
    "tags_schema": ("styled",),
    "encoder": ("default", "html"),
    "fragment_size": COUNT,
    "number_of_fragments": COUNT,
    "no_match_size": COUNT,
    "order": ("none", "score"),
    "require_field_match": BOOLEAN,
    "boundary_scanner": ("chars", "sentence", "word"),
    "boundary_chars": TEXT,
    "boundary_max_scan": COUNT,
    "boundary_scanner_locale": TEXT,
    "fragmenter": ("simple", "span"),
    "fragment_offset": COUNT,
    "phrase_limit": COUNT,
    "max_analyzed_offset": COUNT,
    # Highlighting marks words of the hits (readable records) only; the query is checked as any other.
    "highlight_query": QUERY,
}
_HIGHLIGHT_FIELD = Obj({**_HIGHLIGHT_OPTIONS, "matched_fields": FIELD_PATTERNS})
_HIGHLIGHT_FIELDS = MapOf(_HIGHLIGHT_FIELD, key=FIELD_PATTERN)
HIGHLIGHT = Obj(
    {**_HIGHLIGHT_OPTIONS, "fields": AnyOf((_HIGHLIGHT_FIELDS, ListOf(_HIGHLIGHT_FIELDS)))}, frozenset({"fields"})
)

SOURCE = AnyOf(
    (
        BOOLEAN,
        FIELD_PATTERN,
        ListOf(FIELD_PATTERN),
        Obj(
            {
                "includes": FIELD_PATTERNS,
                "include": FIELD_PATTERNS,
                "excludes": FIELD_PATTERNS,
                "exclude": FIELD_PATTERNS,
            }
        ),
    )
)

#: "sort": checked by the walker (an item is a field name, ``{field: order}`` or ``{field: SORT_OPTIONS}``).
SORT = "sort"

#: The top-level keys of a search body.
BODY = Obj(
    {
        "query": QUERY,
        "post_filter": QUERY,
        "sort": SORT,
        "from": COUNT,
        "size": COUNT,
        "_source": SOURCE,
        "track_total_hits": AnyOf((BOOLEAN, COUNT)),
        "search_after": ListOf(NULLABLE_SCALAR),
        "min_score": NUMBER,
        "highlight": HIGHLIGHT,
        "aggs": AGGREGATIONS,
        "aggregations": AGGREGATIONS,
    }
)


def describe(spec: Any) -> str:
    """A few words saying what a spec expects (for error messages)."""
    if isinstance(spec, tuple):
        return "one of " + ", ".join(spec)
    if isinstance(spec, (Obj, MapOf)):
        return "an object"
    if isinstance(spec, ListOf):
        return "a list"
    if isinstance(spec, AnyOf):
        return " or ".join(describe(option) for option in spec.options)
    return _DESCRIPTIONS.get(spec, str(spec))


_DESCRIPTIONS = {
    QUERY: "a query",
    QUERY_OR_LIST: "a query or a list of queries",
    QUERY_LIST: "a list of queries",
    NAMED_QUERIES: "an object or a list of queries",
    AGGREGATIONS: "an object of named aggregations",
    FIELD: "a field name",
    FIELD_PATTERN: "a field name or pattern",
    QUERY_STRING: "a query string",
    TEXT: "a string",
    NUMBER: "a number",
    COUNT: "a non-negative integer",
    AT_LEAST_ONE: "an integer of at least 1",
    BOOLEAN: "a boolean",
    SCALAR: "a string, number or boolean",
    NULLABLE_SCALAR: "a string, number, boolean or null",
    NUMBER_OR_TEXT: "a number or a string",
    ANY_JSON: "any JSON value",
    SORT: "a sort",
}
