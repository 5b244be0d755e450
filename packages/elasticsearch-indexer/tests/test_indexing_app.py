"""Searching a kinto.core application through HTTP: indexing on writes, and nobody finds what it may not read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from indexing_helpers import ALICE, BOB, CAROL, post_article, titles, userid


def test_the_root_url_announces_search(app: webtest.TestApp) -> None:
    capability = app.get("/v1/").json["capabilities"]["search"]
    assert capability["url"] and capability["description"]


def test_the_heartbeat_reports_the_indexer(app: webtest.TestApp) -> None:
    assert app.get("/v1/__heartbeat__").json["indexer"] is True


def test_created_records_are_found_and_deleted_ones_disappear(app: webtest.TestApp) -> None:
    first = post_article(app, "hello world", ALICE)
    post_article(app, "goodbye world", ALICE)
    query = {"query": {"match": {"title": "world"}}}
    assert titles(app, ALICE, query) == ["goodbye world", "hello world"]
    app.delete(f"/v1/articles/{first}", headers=ALICE)
    assert titles(app, ALICE, query) == ["goodbye world"]


def test_updates_are_reindexed(app: webtest.TestApp) -> None:
    article = post_article(app, "draft", ALICE)
    app.patch_json(f"/v1/articles/{article}", {"data": {"title": "final"}}, headers=ALICE)
    assert titles(app, ALICE, {"query": {"match": {"title": "final"}}}) == ["final"]
    assert titles(app, ALICE, {"query": {"match": {"title": "draft"}}}) == []


def test_the_resource_name_and_its_plural_path_both_name_the_collection(app: webtest.TestApp) -> None:
    post_article(app, "hello", ALICE)
    assert titles(app, ALICE, path="article") == titles(app, ALICE, path="articles") == ["hello"]
    error = app.post_json("/v1/search/unknown/", {}, headers=ALICE, status=404).json
    assert error["errno"] == 111


def test_a_reader_of_one_record_finds_only_that_record(app: webtest.TestApp) -> None:
    post_article(app, "shared with bob", ALICE, read=[userid("bob")])
    post_article(app, "private", ALICE)
    post_article(app, "bob may write", ALICE, write=[userid("bob")])
    assert titles(app, BOB) == ["bob may write", "shared with bob"]
    assert titles(app, ALICE) == ["bob may write", "private", "shared with bob"]
    assert titles(app, CAROL) == []


def test_anonymous_callers_find_public_records_only(app: webtest.TestApp) -> None:
    post_article(app, "public", ALICE, read=["system.Everyone"])
    post_article(app, "members", ALICE, read=["system.Authenticated"])
    post_article(app, "private", ALICE)
    assert titles(app) == ["public"]
    assert titles(app, CAROL) == ["members", "public"]


def test_permission_changes_without_data_changes_are_reindexed(app: webtest.TestApp) -> None:
    article = post_article(app, "later shared", ALICE)
    assert titles(app, BOB) == []
    app.patch_json(f"/v1/articles/{article}", {"permissions": {"read": [userid("bob")]}}, headers=ALICE)
    assert titles(app, BOB) == ["later shared"]
    app.put_json(
        f"/v1/articles/{article}", {"data": {"title": "later shared"}, "permissions": {"read": []}}, headers=ALICE
    )
    assert titles(app, BOB) == []


def test_collection_wide_readers_see_everything(make_search_app: Callable[..., webtest.TestApp]) -> None:
    app = make_search_app(article_read_principals=userid("carol"))
    post_article(app, "one", ALICE)
    post_article(app, "two", BOB)
    assert titles(app, CAROL) == ["one", "two"]
    assert titles(app, BOB) == ["two"]


@pytest.mark.parametrize(
    "crafted",
    [
        {"query": {"bool": {"should": [{"match_all": {}}], "minimum_should_match": 0}}},
        {"query": {"bool": {"must_not": [{"match_none": {}}]}}},
        {"query": {"bool": {"filter": [{"match_all": {}}], "should": [{"ids": {"values": ["x"]}}]}}},
        {"query": {"dis_max": {"queries": [{"match_all": {}}]}}},
        {"post_filter": {"match_all": {}}},
        {"query": {"query_string": {"query": "* OR NOT nothing"}}},
    ],
)
def test_no_body_removes_the_permission_filter(app: webtest.TestApp, crafted: dict[str, Any]) -> None:
    post_article(app, "secret", ALICE)
    post_article(app, "shared", ALICE, read=[userid("bob")])
    assert titles(app, BOB, crafted) == ["shared"]


@pytest.mark.parametrize(
    "body",
    [
        {"query": {"terms": {"__kinto__.principals": ["x"]}}},
        {"query": {"script": {"script": {"source": "true"}}}},
        {"query": {"terms": {"title": {"index": "other", "id": "1", "path": "x"}}}},
        {"aggs": {"everything": {"global": {}}}},
        {"query": {"nope": {}}},
        {"size": "ten"},
        ["not", "an", "object"],
    ],
)
def test_refused_bodies_answer_400_in_kinto_format(app: webtest.TestApp, body: Any) -> None:
    error = app.post_json("/v1/search/articles/", body, headers=ALICE, status=400).json
    assert error["code"] == 400 and error["errno"] == 107 and error["error"] == "Invalid parameters"
    assert error["message"]


def test_invalid_json_answers_400(app: webtest.TestApp) -> None:
    error = app.post(
        "/v1/search/articles/", "{nope", headers={**ALICE, "Content-Type": "application/json"}, status=400
    ).json
    assert error["errno"] == 107  # as Kinto answers a body it cannot parse


def test_sizes_are_capped(make_search_app: Callable[..., webtest.TestApp]) -> None:
    app = make_search_app(**{"kinto_elasticsearch.max_size": "2"})
    for title in ("a", "b", "c"):
        post_article(app, title, ALICE)
    result = app.post_json("/v1/search/articles/", {"size": 100}, headers=ALICE).json
    assert len(result["hits"]["hits"]) == 2 and result["hits"]["total"]["value"] == 3


def test_results_hold_records_only(app: webtest.TestApp) -> None:
    post_article(app, "hello", ALICE, read=["system.Everyone"])
    hit = app.post_json("/v1/search/articles/", {}, headers=ALICE).json["hits"]["hits"][0]
    assert set(hit["_source"]) == {"id", "title", "last_modified"}


def test_user_resources_are_found_by_their_owner_only(app: webtest.TestApp) -> None:
    app.post_json("/v1/notes", {"data": {"title": "alice's"}}, headers=ALICE, status=201)
    app.post_json("/v1/notes", {"data": {"title": "bob's"}}, headers=BOB, status=201)
    assert titles(app, ALICE, path="notes") == ["alice's"]
    assert titles(app, BOB, path="notes", body={"query": {"match_all": {}}}) == ["bob's"]
    error = app.post_json("/v1/search/notes/", {}, status=401).json
    assert error["errno"] == 104


def test_resources_without_object_permissions_follow_the_settings(app: webtest.TestApp) -> None:
    app.post_json("/v1/bulletins", {"data": {"title": "news"}}, headers=ALICE, status=201)
    assert titles(app, BOB, path="bulletins") == ["news"]
    app.post_json("/v1/search/bulletins/", {}, status=401)


def test_the_querystring_is_a_search_too(app: webtest.TestApp) -> None:
    post_article(app, "hello world", ALICE)
    post_article(app, "goodbye", ALICE)
    response = app.post("/v1/search/articles/?q=title:hello", headers=ALICE).json
    assert [hit["_source"]["title"] for hit in response["hits"]["hits"]] == ["hello world"]


def test_a_bad_querystring_answers_400(app: webtest.TestApp) -> None:
    error = app.post("/v1/search/articles/?size=ten", headers=ALICE, status=400).json
    assert error["details"][0] == {"location": "querystring", "name": "size", "description": "expected an integer"}


def test_a_rolled_back_write_is_not_indexed(app: webtest.TestApp) -> None:
    app.post_json("/v1/articles", {"data": {"n": 1}}, headers=ALICE, status=400)
    assert titles(app, ALICE, {"query": {"match_all": {}}}) == []
    assert app.app.registry.indexer.stats.indexed == 0


def test_batch_writes_are_indexed_together(app: webtest.TestApp) -> None:
    requests = [{"method": "POST", "path": "/articles", "body": {"data": {"title": f"t{i}"}}} for i in range(3)]
    app.post_json("/v1/batch", {"requests": requests}, headers=ALICE)
    assert titles(app, ALICE) == ["t0", "t1", "t2"]
