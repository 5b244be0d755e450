"""Item 10: the reserved search field stays out of reach, and search is no existence oracle.

Each record is indexed with ``__kinto__`` (the hashes of the principals who may
read it). No query may name it, however written: escaped in a query string,
through a field pattern (``_*``, ``*principals``...), in ``fields``,
``default_field``, ``_source``, highlight or aggregation fields.

Search answers what ``GET .../records`` answers for a missing collection, an
existing one the caller may not read, and an anonymous caller: the same status
and errno, so that nobody learns whether a private collection exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest

from . import search_fixtures
from .conftest import ALICE, BOB, CAROL, assert_error, userid
from .search_fixtures import search

# The fixtures of search_fixtures, used by name in this module.
indexer_settings = search_fixtures.indexer_settings
osmem = search_fixtures.osmem
search_app = search_fixtures.search_app


@pytest.fixture
def alice_app(search_app: Callable[..., webtest.TestApp], put: Callable[..., Any]) -> webtest.TestApp:
    """Alice's private collection b1/c1: one public record, one for Bob, one private."""
    app = search_app()
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    put(app, "/buckets/b1/collections/private", {})
    put(
        app,
        "/buckets/b1/collections/c1/records/public",
        {"title": "public notice"},
        permissions={"read": ["system.Everyone"]},
    )
    put(app, "/buckets/b1/collections/c1/records/bobs", {"title": "for bob"}, permissions={"read": [userid("bob")]})
    put(app, "/buckets/b1/collections/c1/records/secret", {"title": "secret"})
    put(app, "/buckets/b1/collections/private/records/secret", {"title": "secret"})
    return app


SEARCH = "/buckets/b1/collections/c1"

RESERVED_QUERIES = [
    {"query_string": {"query": "\\_\\_kinto\\_\\_.principals:*"}},
    {"query_string": {"query": "title:x OR \\_\\_kinto\\_\\_.parent\\_id : *"}},
    {"query_string": {"query": "+\\_\\_kin\\to\\_\\_.principals:(a* OR b*)"}},
    {"query_string": {"query": "\\_\\*:a*"}},
    {"query_string": {"query": "_exists_:\\_\\_kinto\\_\\_.principals"}},
    {"query_string": {"query": "a*", "fields": ["_*"]}},
    {"query_string": {"query": "a*", "default_field": "*principals"}},
    {"simple_query_string": {"query": "a*", "fields": ["title", "_*^2"]}},
    {"multi_match": {"query": "x", "fields": ["*s"]}},
    {"exists": {"field": "_*"}},
]


@pytest.mark.parametrize("query", RESERVED_QUERIES)
def test_queries_reaching_the_reserved_field_are_refused(alice_app: webtest.TestApp, query: dict[str, Any]) -> None:
    response = search(alice_app, SEARCH, {"query": query}, headers=BOB)
    body = assert_error(response, 400, 107)
    assert body["details"][0]["name"].startswith("query.")


def test_an_escaped_reserved_field_in_the_querystring_is_refused(alice_app: webtest.TestApp) -> None:
    response = alice_app.get(
        f"/v1{SEARCH}/search", params={"q": "\\_\\_kinto\\_\\_.principals:*"}, headers=BOB, status="*"
    )
    body = assert_error(response, 400, 107)
    assert body["details"][0]["name"] == "q"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"_source": ["title", "_*"]}, "_source[1]"),
        ({"_source": {"includes": ["*kinto*"]}}, "_source.includes[0]"),
        ({"highlight": {"fields": {"_*": {}}}}, "highlight.fields._*"),
        (
            {"highlight": {"fields": {"title": {"matched_fields": ["*principals"]}}}},
            "highlight.fields.title.matched_fields[0]",
        ),
        ({"sort": [{"_*": "asc"}]}, "sort[0]._*"),
        ({"aggs": {"who": {"terms": {"field": "_*"}}}}, "aggs.who.terms.field"),
    ],
)
def test_other_places_naming_fields_refuse_the_reserved_field(
    alice_app: webtest.TestApp, body: dict[str, Any], where: str
) -> None:
    response = search(alice_app, SEARCH, body, headers=BOB)
    error = assert_error(response, 400, 107)
    assert [detail["name"] for detail in error["details"]] == [where]


def test_every_field_pattern_still_searches_the_record_fields(alice_app: webtest.TestApp) -> None:
    body = {"query": {"query_string": {"query": "bob", "fields": ["*"]}}}
    hits = search(alice_app, SEARCH, body, headers=BOB, status=200).json["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == ["bobs"]


CALLERS = {"alice": ALICE, "bob": BOB, "carol": CAROL, "anonymous": {}}
COLLECTIONS = ["c1", "private", "missing"]


def test_search_answers_what_the_records_list_answers(alice_app: webtest.TestApp) -> None:
    answers = {}
    for caller, headers in CALLERS.items():
        for collection in COLLECTIONS:
            path = f"/buckets/b1/collections/{collection}"
            listing = alice_app.get(f"/v1{path}/records", headers=headers, status="*")
            found = search(alice_app, path, {}, headers=headers)
            answers[caller, collection] = (_summary(listing, "data"), _summary(found, "hits"))
    assert answers[("bob", "private")][0] == (403, 121)
    assert {key: found for key, (_, found) in answers.items()} == {key: listed for key, (listed, _) in answers.items()}


def _summary(response: webtest.TestResponse, kind: str) -> tuple[int, Any]:
    """``(status, errno)`` of an error, ``(200, ids)`` of a listing or a search."""
    if response.status_code >= 400:
        return response.status_code, response.json["errno"]
    if kind == "data":
        return response.status_code, sorted(record["id"] for record in response.json["data"])
    return response.status_code, sorted(hit["_id"] for hit in response.json["hits"]["hits"])


@pytest.mark.parametrize("headers", [BOB, {}])
def test_an_existing_private_collection_and_a_missing_one_answer_alike(
    alice_app: webtest.TestApp, headers: dict[str, str]
) -> None:
    existing = search(alice_app, "/buckets/b1/collections/private", {}, headers=headers)
    missing = search(alice_app, "/buckets/b1/collections/missing", {}, headers=headers)
    status, errno = (403, 121) if headers else (401, 104)
    assert_error(existing, status, errno)
    assert_error(missing, status, errno)
    assert existing.json == missing.json
