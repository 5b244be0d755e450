"""The search body checks (the allow-list, the reserved field) and index names, as rules (Hypothesis) and examples."""

from __future__ import annotations

import fnmatch
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto_elasticsearch.dsl import SearchLimits, parse_uri_search, validate_search_body, with_filters
from kinto_elasticsearch.indexer import SearchError, index_name, parse_index_name
from kinto_elasticsearch.reserved import glob_match, query_string_fields, reaches_reserved

LIMITS = SearchLimits(default_size=10, max_size=100, max_result_window=1000, max_clauses=5)
IDS = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=40)
ANY_TEXT = st.text(min_size=1, max_size=30).filter(lambda text: "\x00" not in text)


@given(st.lists(IDS, min_size=1, max_size=2).map(tuple))
def test_index_names_are_lowercase_and_read_back(key: tuple[str, ...]) -> None:
    name = index_name("kinto", key)
    assert name == name.lower() and not set(name) & set('\\/*?"<>| ,#:')
    assert parse_index_name("kinto", name) == key


@given(st.lists(ANY_TEXT, min_size=1, max_size=2).map(tuple), st.lists(ANY_TEXT, min_size=1, max_size=2).map(tuple))
def test_distinct_collections_get_distinct_index_names(first: tuple[str, ...], second: tuple[str, ...]) -> None:
    if first != second:
        assert index_name("kinto", first) != index_name("kinto", second)


def test_names_too_long_for_elasticsearch_are_hashed() -> None:
    name = index_name("kinto", ("b" * 200, "c" * 200))
    assert len(name) <= 255 and parse_index_name("kinto", name) is None
    assert parse_index_name("kinto", "other-b-c") is None


def test_defaults_are_filled_in() -> None:
    assert validate_search_body(None, LIMITS) == {"size": 10, "from": 0}
    assert validate_search_body({"size": 500}, LIMITS)["size"] == 100


def test_clauses_are_counted() -> None:
    five = {"bool": {"must": [{"match_all": {}}] * 4}}
    validate_search_body({"query": five}, LIMITS)
    with pytest.raises(SearchError, match="more than 5"):
        validate_search_body({"query": {"bool": {"must": [five]}}}, LIMITS)


def test_deep_nesting_is_refused() -> None:
    query: dict[str, Any] = {"match_all": {}}
    for _ in range(40):
        query = {"bool": {"must": [query]}}
    with pytest.raises(SearchError):
        validate_search_body({"query": query}, SearchLimits(max_clauses=1000))


def test_refusals_say_where_in_kinto_s_details_format() -> None:
    with pytest.raises(SearchError) as raised:
        validate_search_body({"query": {"bool": {"must": [{"script": {}}]}}}, LIMITS)
    assert raised.value.details[0]["location"] == "body"
    assert raised.value.details[0]["name"] == "query.bool.must[0].script"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "title:hello"}, {"query": {"query_string": {"query": "title:hello"}}}),
        ({"size": "5", "from": "10"}, {"size": 5, "from": 10}),
        ({"sort": "-n,title:asc,id"}, {"sort": [{"n": "desc"}, {"title": "asc"}, "id"]}),
        ({}, {}),
    ],
)
def test_the_querystring_becomes_a_body(params: dict[str, str], expected: dict[str, Any]) -> None:
    assert parse_uri_search(params) == expected


def test_a_querystring_size_must_be_a_number() -> None:
    with pytest.raises(SearchError) as raised:
        parse_uri_search({"size": "ten"})
    assert raised.value.details[0]["location"] == "querystring"


# --- the allow-list -------------------------------------------------------------------------------

ALLOWED_BODIES = [
    {
        "query": {
            "bool": {
                "must": {"match": {"title": {"query": "a b", "operator": "and", "fuzziness": "AUTO"}}},
                "filter": [{"range": {"n": {"gte": 1, "lt": None}}}, {"terms": {"tag": ["a", 1]}}],
                "minimum_should_match": "50%",
                "boost": 2,
            }
        }
    },
    {"query": {"multi_match": {"query": "x", "fields": ["title^2", "body*", "*"], "type": "phrase"}}},
    {"query": {"query_string": {"query": "title:(a OR b) AND -tag:c", "default_field": "*"}}},
    {"query": {"nested": {"path": "items", "query": {"term": {"items.k": "v"}}, "score_mode": "max"}}},
    {
        "sort": [
            "_score",
            {"n": {"order": "desc", "missing": "_last", "unmapped_type": "long"}},
            {"items.k": {"order": "asc", "nested": {"path": "items", "filter": {"term": {"items.k": "v"}}}}},
        ]
    },
    {"_source": {"includes": ["title", "meta.*"], "excludes": ["meta.secret"]}, "track_total_hits": 100},
    {
        "highlight": {
            "fields": {"*": {}, "title": {"number_of_fragments": 0, "highlight_query": {"match_all": {}}}},
            "pre_tags": ["<b>"],
            "post_tags": ["</b>"],
        }
    },
    {
        "size": 0,
        "aggs": {
            "tags": {
                "terms": {"field": "tag", "size": 5, "min_doc_count": 2, "order": {"_count": "desc"}},
                "aggs": {"n": {"stats": {"field": "n"}}},
            },
            "by_day": {"date_histogram": {"field": "day", "calendar_interval": "day", "min_doc_count": 0}},
            "some": {"filters": {"filters": {"a": {"term": {"tag": "a"}}}, "other_bucket": True}},
            "ranges": {"range": {"field": "n", "ranges": [{"to": 5}, {"from": 5, "key": "big"}]}},
            "p": {"percentiles": {"field": "n", "percents": [50, 99.9]}, "meta": {"anything": ["goes"]}},
        },
    },
]


@pytest.mark.parametrize("body", ALLOWED_BODIES)
def test_bodies_inside_the_allow_list_are_accepted(body: dict[str, Any]) -> None:
    validate_search_body(body, SearchLimits(max_clauses=100))


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"query": {"match": {"title": {"query": "x", "nope": 1}}}}, "query.match.title.nope"),
        ({"query": {"terms": {"tag": {"index": "other", "id": "1", "path": "tag"}}}}, "query.terms.tag"),
        ({"query": {"more_like_this": {"like": "x"}}}, "query.more_like_this"),
        ({"query": {"nested": {"path": "n", "query": {"match_all": {}}, "inner_hits": {}}}}, "query.nested.inner_hits"),
        ({"query": {"bool": {"must": {"match_all": {}}, "should": "x"}}}, "query.bool.should"),
        ({"aggs": {"t": {"terms": {"field": "tag", "min_doc_count": 0}}}}, "aggs.t.terms.min_doc_count"),
        ({"aggs": {"t": {"terms": {"field": "tag"}, "aggs": {"g": {"global": {}}}}}}, "aggs.t.aggs.g"),
        ({"aggs": {"t": {"terms": {"field": "tag"}, "max": {"field": "n"}}}}, "aggs.t"),
        ({"aggs": {"s": {"significant_terms": {"field": "tag"}}}}, "aggs.s"),
        (
            {"highlight": {"fields": {"title": {}}, "highlight_query": {"script": {}}}},
            "highlight.highlight_query.script",
        ),
        ({"highlight": {"fields": [{"title": {"bogus": 1}}]}}, "highlight.fields[0].title.bogus"),
        ({"highlight": {}}, "highlight.fields"),
        ({"sort": [{"n": {"order": "up"}}]}, "sort[0].n.order"),
        ({"sort": [{"_geo_distance": {}}]}, "sort[0]._geo_distance"),
        ({"search_after": "x"}, "search_after"),
        ({"size": -1}, "size"),
        ({"track_total_hits": "yes"}, "track_total_hits"),
        ({"_source": 3}, "_source"),
        ({"explain": True}, "explain"),
    ],
)
def test_anything_else_is_refused_naming_its_path(body: dict[str, Any], where: str) -> None:
    with pytest.raises(SearchError) as raised:
        validate_search_body(body, LIMITS)
    assert [detail["name"] for detail in raised.value.details] == [where]
    assert raised.value.details[0]["location"] == "body"


def test_a_backend_supporting_fewer_keys_refuses_them_after_the_whole_body() -> None:
    narrow = frozenset({"query", "size", "from"})
    with pytest.raises(SearchError) as raised:
        validate_search_body({"aggs": {"t": {"terms": {"field": "t", "min_doc_count": 0}}}}, LIMITS, narrow)
    assert raised.value.details[0]["name"] == "aggs.t.terms.min_doc_count"
    with pytest.raises(SearchError) as raised:
        validate_search_body({"aggs": {"t": {"terms": {"field": "t"}}}}, LIMITS, narrow)
    assert raised.value.details[0]["name"] == "aggs"


def test_the_permission_filter_reaches_every_sub_query_run_over_the_index() -> None:
    permission = {"terms": {"__kinto__.principals": ["h"]}}
    body = validate_search_body(
        {
            "query": {"match": {"title": "x"}},
            "post_filter": {"term": {"tag": "a"}},
            "highlight": {
                "fields": {"title": {"highlight_query": {"match": {"title": "y"}}}},
                "highlight_query": {"match": {"title": "z"}},
            },
            "aggs": {
                "f": {"filter": {"term": {"tag": "a"}}, "aggs": {"g": {"filters": {"filters": [{"match_all": {}}]}}}}
            },
        },
        SearchLimits(max_clauses=100),
    )
    filtered = with_filters(body, [permission])

    def wrapped(query: Any, inner: Any) -> bool:
        return query == {"bool": {"must": [inner], "filter": [permission]}}

    assert wrapped(filtered["query"], {"match": {"title": "x"}})
    assert wrapped(filtered["post_filter"], {"term": {"tag": "a"}})
    assert wrapped(filtered["highlight"]["highlight_query"], {"match": {"title": "z"}})
    assert wrapped(filtered["highlight"]["fields"]["title"]["highlight_query"], {"match": {"title": "y"}})
    assert wrapped(filtered["aggs"]["f"]["filter"], {"term": {"tag": "a"}})
    assert wrapped(filtered["aggs"]["f"]["aggs"]["g"]["filters"]["filters"][0], {"match_all": {}})
    assert body["highlight"]["highlight_query"] == {"match": {"title": "z"}}  # the checked body is left as it was
    assert with_filters(body, [])["post_filter"] == {"term": {"tag": "a"}}


# --- the reserved field ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "__kinto__",
        "__kinto__.principals",
        "_*",
        "*principals",
        "__kinto__*",
        "*_id",
        "_?kinto*",
        "*s^3",
        "x__kinto__",
    ],
)
def test_field_patterns_that_could_name_the_reserved_field_are_refused(name: str) -> None:
    assert reaches_reserved(name)
    with pytest.raises(SearchError):
        validate_search_body({"query": {"multi_match": {"query": "x", "fields": [name]}}}, LIMITS)


@pytest.mark.parametrize("name", ["*", "title", "title*", "t?tle", "meta.*", "_id", "title^2", "*.keyword"])
def test_other_field_patterns_are_fine(name: str) -> None:
    assert not reaches_reserved(name)


@given(st.text(alphabet="ab_*?", max_size=8), st.text(alphabet="ab_", max_size=8))
def test_glob_matching_is_fnmatch_for_stars_and_question_marks(pattern: str, text: str) -> None:
    assert glob_match(pattern, text) == fnmatch.fnmatchcase(text, pattern)


def test_glob_matching_stays_linear_on_hostile_patterns() -> None:
    assert not glob_match("*_" * 5000 + "x", "__kinto__.principals" * 50)


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (r"\_\_kinto\_\_.principals:*", ["__kinto__.principals"]),
        (r"\u005f\u005fkinto\u005f\u005f.parent_id:x", ["__kinto__.parent_id"]),
        (r"a OR +title :x", ["title"]),
        (r"-\_\*:(a b)", ["_*"]),
        (r"_exists_:\_\*", ["_exists_", "_*"]),
        (r'title:"a:b" "c:d"', ["title"]),
        (r"a\:b", []),
    ],
)
def test_query_strings_are_read_as_lucene_reads_them(query: str, fields: list[str]) -> None:
    assert query_string_fields(query) == fields


def test_a_querystring_naming_the_reserved_field_is_refused_as_a_parameter() -> None:
    with pytest.raises(SearchError) as raised:
        parse_uri_search({"q": r"\_\_kinto\_\_.principals:a*"})
    assert raised.value.details[0] == {
        "location": "querystring",
        "name": "q",
        "description": "names the reserved field '__kinto__'",
    }
