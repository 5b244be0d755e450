"""The embedded indexer answers like Elasticsearch: random queries of the shared subset, both backends compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinto_elasticsearch.elasticsearch import ElasticsearchIndexer
from kinto_elasticsearch.embedded import EmbeddedIndexer
from kinto_elasticsearch.indexer import BulkOperation, IndexerBase, SearchError

SCHEMA = {"properties": {"tag": {"type": "keyword"}, "n": {"type": "integer"}, "title": {"type": "text"}}}
WORDS = ["red", "green", "blue", "fox", "dog"]
TAGS = ["a", "b", "c"]


def records() -> list[dict[str, Any]]:
    built = []
    for index in range(24):
        words = [WORDS[(index * 7 + k) % len(WORDS)] for k in range(1 + index % 3)]
        record: dict[str, Any] = {"id": f"r{index:02d}", "title": " ".join(words), "n": index % 7}
        if index % 4:
            record["tag"] = TAGS[index % 3]
        built.append(record)
    return built


LEAVES = st.one_of(
    st.builds(lambda word: {"match": {"title": word}}, st.sampled_from(WORDS)),
    st.builds(
        lambda a, b: {"match": {"title": {"query": f"{a} {b}", "operator": "and"}}},
        st.sampled_from(WORDS),
        st.sampled_from(WORDS),
    ),
    st.builds(lambda tag: {"term": {"tag": tag}}, st.sampled_from(TAGS)),
    st.builds(lambda tags: {"terms": {"tag": tags}}, st.lists(st.sampled_from(TAGS), min_size=1, max_size=2)),
    st.builds(lambda low, high: {"range": {"n": {"gte": low, "lt": high}}}, st.integers(0, 6), st.integers(0, 7)),
    st.just({"exists": {"field": "tag"}}),
    st.builds(lambda word: {"prefix": {"tag": word}}, st.sampled_from(TAGS)),
    st.just({"match_all": {}}),
)


def compound(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    clauses = st.lists(children, max_size=2)
    return st.builds(
        lambda must, should, must_not, filter_: {
            "bool": {
                key: value
                for key, value in (("must", must), ("should", should), ("must_not", must_not), ("filter", filter_))
                if value
            }
        },
        clauses,
        clauses,
        clauses,
        clauses,
    )


QUERIES = st.recursive(LEAVES, compound, max_leaves=6)


def fill(indexer: IndexerBase) -> None:
    indexer.create_index("c", "b", SCHEMA)
    indexer.bulk([BulkOperation(("b", "c"), "index", r["id"], {**r, "__kinto__": {}}) for r in records()], refresh=True)


@pytest.mark.elasticsearch
def test_random_queries_select_the_same_records(make_es_indexer: Callable[..., ElasticsearchIndexer]) -> None:
    embedded, remote = EmbeddedIndexer(), make_es_indexer()
    fill(embedded)
    fill(remote)

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(QUERIES)
    def same(query: dict[str, Any]) -> None:
        body = {"query": query, "size": 50, "sort": ["id"]}
        expected = [hit["_id"] for hit in remote.search("c", body, "b")["hits"]["hits"]]
        assert [hit["_id"] for hit in embedded.search("c", body, "b")["hits"]["hits"]] == expected

    same()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, width=16)
    | st.sampled_from(
        ["title", "tag", "n", "a", "*", "red", "asc", "desc", "and", "AUTO", "_score", "1", "title:red", "-"]
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "query",
                    "bool",
                    "must",
                    "should",
                    "filter",
                    "must_not",
                    "match",
                    "term",
                    "terms",
                    "range",
                    "gte",
                    "lt",
                    "sort",
                    "size",
                    "from",
                    "title",
                    "tag",
                    "n",
                    "order",
                    "query_string",
                    "minimum_should_match",
                    "fields",
                    "multi_match",
                    "exists",
                    "field",
                    "prefix",
                    "_source",
                    "search_after",
                    "match_phrase",
                    "operator",
                    "value",
                    "boost",
                    "ids",
                    "values",
                ]
            ),
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_body_is_answered_or_refused_never_crashes(body: Any) -> None:
    indexer = EmbeddedIndexer()
    fill(indexer)
    try:
        result = indexer.search("c", body, "b")
    except SearchError:
        return
    assert isinstance(result["hits"]["hits"], list)


@pytest.mark.elasticsearch
def test_any_body_sent_to_a_server_is_answered_or_refused(make_es_indexer: Callable[..., ElasticsearchIndexer]) -> None:
    remote = make_es_indexer()
    fill(remote)

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(JSON)
    def answered(body: Any) -> None:
        try:
            result = remote.search("c", body, "b")
        except SearchError:
            return
        assert isinstance(result["hits"]["hits"], list)

    answered()
