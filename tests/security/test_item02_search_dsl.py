"""Item 2: search bodies are checked against an allow-list, and nothing they hold reads unreadable records.

Alice keeps a private collection; the attacker (anonymous, or Bob in a bucket
of his own) only reads what was shared with him. Aggregations listing terms
of the whole index, sub-queries the permission filter does not reach
(``highlight_query``, ``inner_hits``, a sort's ``nested.filter``), terms
lookups into other indexes and the search engine's own error texts were ways
to learn about Alice's records. Run on the embedded indexer and on the
Elasticsearch indexer (osmem-server).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import webtest

from kinto_elasticsearch.indexer import index_name

from . import search_fixtures
from .conftest import ALICE, BOB, assert_error, userid
from .search_fixtures import search

# The fixtures of search_fixtures, used by name in this module.
elasticsearch_settings = search_fixtures.elasticsearch_settings
es_search_app = search_fixtures.es_search_app
indexer_settings = search_fixtures.indexer_settings
osmem = search_fixtures.osmem
search_app = search_fixtures.search_app


SEARCH = "/buckets/b1/collections/c1"


@pytest.fixture
def backend() -> str:
    """Search does not depend on the storage backend: memory is enough here (item 10 runs all three)."""
    return "memory"


@pytest.fixture
def alice_app(search_app: Callable[..., webtest.TestApp], put: Callable[..., Any]) -> webtest.TestApp:
    """Alice's collection b1/c1 (private) with a public record and a classified one; Bob's own b2/c2."""
    app = search_app()
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    put(
        app,
        "/buckets/b1/collections/c1/records/public",
        {"title": "public notice", "tag": "public"},
        permissions={"read": ["system.Everyone"]},
    )
    put(app, "/buckets/b1/collections/c1/records/plan", {"title": "launch", "tag": "classified"})
    put(app, "/buckets/b2", headers=BOB)
    put(app, "/buckets/b2/collections/c2", headers=BOB)
    put(app, "/buckets/b2/collections/c2/records/mine", {"title": "launch codes", "n": [{"a": 1}]}, headers=BOB)
    return app


def refused_at(response: webtest.TestResponse, name: str) -> dict[str, Any]:
    """A 400 in Kinto's format whose details name the offending key ``name``."""
    body = assert_error(response, 400, 107)
    assert [detail["name"] for detail in body.get("details", [])] == [name], body
    return body


def other_index(app: webtest.TestApp, key: tuple[str, ...]) -> str:
    """The index name of another collection, as the README documents it (``<prefix>-<bucket>-<collection>``)."""
    prefix = app.app.registry.settings.get("kinto_elasticsearch.index_prefix", "kinto")
    return index_name(prefix, key)


def test_terms_aggregations_with_min_doc_count_zero_are_refused(alice_app: webtest.TestApp) -> None:
    body = {"size": 0, "aggs": {"tags": {"terms": {"field": "tag.keyword", "min_doc_count": 0}}}}
    response = search(alice_app, SEARCH, body)
    refused_at(response, "aggs.tags.terms.min_doc_count")
    assert "classified" not in response.text


@pytest.mark.parametrize(
    "aggregation",
    [
        {"global": {}, "aggs": {"tags": {"terms": {"field": "tag.keyword"}}}},
        {"significant_terms": {"field": "tag.keyword"}},
        {"filter": {"match_all": {}}, "aggs": {"t": {"terms": {"field": "tag.keyword", "min_doc_count": 0}}}},
    ],
)
def test_aggregations_reaching_beyond_the_hits_are_refused(
    alice_app: webtest.TestApp, aggregation: dict[str, Any]
) -> None:
    where = "aggs.leak.aggs.t.terms.min_doc_count" if "filter" in aggregation else "aggs.leak"
    response = search(alice_app, SEARCH, {"size": 0, "aggs": {"leak": aggregation}})
    refused_at(response, where)
    assert "classified" not in response.text


def test_highlight_queries_cannot_look_up_another_index(alice_app: webtest.TestApp) -> None:
    lookup = {"terms": {"title": {"index": other_index(alice_app, ("b1", "c1")), "id": "plan", "path": "title"}}}
    body = {"query": {"match_all": {}}, "highlight": {"fields": {"title": {}}, "highlight_query": lookup}}
    response = search(alice_app, "/buckets/b2/collections/c2", body, headers=BOB)
    refused_at(response, "highlight.highlight_query.terms.title")
    assert "<em>" not in response.text


def test_per_field_highlight_queries_are_checked_too(alice_app: webtest.TestApp) -> None:
    lookup = {"terms": {"title": {"index": other_index(alice_app, ("b1", "c1")), "id": "plan", "path": "title"}}}
    body = {"highlight": {"fields": {"title": {"highlight_query": lookup}}}}
    response = search(alice_app, "/buckets/b2/collections/c2", body, headers=BOB)
    refused_at(response, "highlight.fields.title.highlight_query.terms.title")


def test_nested_inner_hits_are_refused(alice_app: webtest.TestApp) -> None:
    body = {"query": {"nested": {"path": "n", "query": {"match_all": {}}, "inner_hits": {"size": 100}}}}
    refused_at(search(alice_app, "/buckets/b2/collections/c2", body, headers=BOB), "query.nested.inner_hits")


def test_a_sort_s_nested_filter_is_checked_as_a_query(alice_app: webtest.TestApp) -> None:
    lookup = {"terms": {"n.a": {"index": other_index(alice_app, ("b1", "c1")), "id": "plan", "path": "n"}}}
    body = {"sort": [{"n.a": {"order": "asc", "nested": {"path": "n", "filter": lookup}}}]}
    response = search(alice_app, "/buckets/b2/collections/c2", body, headers=BOB)
    refused_at(response, "sort[0].n.a.nested.filter.terms.n.a")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            {"query": {"match": {"title": {"query": "launch", "analyzer": "standard", "unknown_option": 1}}}},
            "query.match.title.unknown_option",
        ),
        (
            {"query": {"bool": {"must": [{"match_all": {}}], "adjust_pure_negative": False}}},
            "query.bool.adjust_pure_negative",
        ),
        ({"highlight": {"fields": {"title": {}}, "tags_schema": "styled", "options": {"x": 1}}}, "highlight.options"),
        ({"sort": [{"title.keyword": {"order": "asc", "script": {"source": "1"}}}]}, "sort[0].title.keyword.script"),
        ({"aggs": {"t": {"terms": {"field": "tag.keyword", "script": {"source": "1"}}}}}, "aggs.t.terms.script"),
        ({"_source": {"includes": ["title"], "other": ["x"]}}, "_source.other"),
    ],
)
def test_unknown_keys_anywhere_are_refused_by_their_path(
    alice_app: webtest.TestApp, body: dict[str, Any], where: str
) -> None:
    refused_at(search(alice_app, SEARCH, body, headers=ALICE), where)


def test_error_texts_name_no_index(alice_app: webtest.TestApp) -> None:
    hidden = other_index(alice_app, ("secret-bucket", "c"))
    body = {"query": {"terms": {"title": {"index": hidden, "id": "x", "path": "title"}}}}
    response = search(alice_app, "/buckets/b2/collections/c2", body, headers=BOB)
    refused_at(response, "query.terms.title")
    assert "secret" not in response.text and hidden not in response.text


def test_search_engine_errors_are_answered_generically_and_logged(
    es_search_app: Callable[..., webtest.TestApp], put: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    app = es_search_app()
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    put(app, "/buckets/b1/collections/c1/records/r1", {"title": "text"})
    index = other_index(app, ("b1", "c1"))
    with caplog.at_level(logging.WARNING, logger="kinto_elasticsearch"):
        response = search(app, SEARCH, {"sort": ["title"]}, headers=ALICE)
    body = assert_error(response, 400, 107)
    assert index not in response.text and "fielddata" not in response.text.lower()
    assert "Text fields" not in body["message"]
    assert "fielddata" in caplog.text.lower() or "text fields" in caplog.text.lower()


def test_relevance_scores_owe_nothing_to_unreadable_records(
    alice_app: webtest.TestApp, put: Callable[..., Any]
) -> None:
    put(
        alice_app,
        "/buckets/b1/collections/c1/records/shared",
        {"title": "launch window"},
        permissions={"read": [userid("bob")]},
    )
    query = {"query": {"match": {"title": "launch"}}}

    def bob_scores() -> dict[str, float]:
        hits = search(alice_app, SEARCH, query, headers=BOB, status=200).json["hits"]["hits"]
        return {hit["_id"]: hit["_score"] for hit in hits}

    before = bob_scores()
    assert list(before) == ["shared"]
    for number in range(12):
        put(alice_app, f"/buckets/b1/collections/c1/records/private{number}", {"title": "launch launch"})
    assert bob_scores() == before
