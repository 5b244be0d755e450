"""The search body checks and index names, as rules (Hypothesis) and examples."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto_elasticsearch.dsl import SearchLimits, parse_uri_search, validate_search_body
from kinto_elasticsearch.indexer import SearchError, index_name, parse_index_name

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


@pytest.mark.parametrize(("params", "expected"), [
    ({"q": "title:hello"}, {"query": {"query_string": {"query": "title:hello"}}}),
    ({"size": "5", "from": "10"}, {"size": 5, "from": 10}),
    ({"sort": "-n,title:asc,id"}, {"sort": [{"n": "desc"}, {"title": "asc"}, "id"]}),
    ({}, {}),
])
def test_the_querystring_becomes_a_body(params: dict[str, str], expected: dict[str, Any]) -> None:
    assert parse_uri_search(params) == expected


def test_a_querystring_size_must_be_a_number() -> None:
    with pytest.raises(SearchError) as raised:
        parse_uri_search({"size": "ten"})
    assert raised.value.details[0]["location"] == "querystring"
