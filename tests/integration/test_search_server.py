"""Search through the Kinto server (kinto-server + kinto-elasticsearch together).

Run on the embedded indexer and on an Elasticsearch-compatible server:
osmem-server (started on a free port of 127.0.0.1), or a real Elasticsearch
when ``ELASTICSEARCH_URL`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest

from kinto.core.authentication import hmac_digest
from kinto.core.testing import basic_auth_header
from kinto.server import main

SECRET = "search-server-secret"
ALICE, BOB, CAROL = (basic_auth_header(name) for name in ("alice", "bob", "carol"))
SEARCH = "/v1/buckets/b1/collections/c1/search"


def userid(name: str) -> str:
    return "basicauth:" + hmac_digest(SECRET, f"{name}:secret")


@pytest.fixture(scope="module")
def search_osmem() -> Iterator[Any]:
    if os.environ.get("ELASTICSEARCH_URL"):
        yield None
        return
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    yield server
    server.close()


@pytest.fixture(params=["embedded", "elasticsearch"])
def indexing_settings(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    if request.param == "embedded":
        yield {"kinto.indexing_backend": "kinto_elasticsearch.embedded"}
        return
    server = request.getfixturevalue("search_osmem")
    clone = server.clone() if server is not None else None
    url = clone.url if clone is not None else os.environ["ELASTICSEARCH_URL"]
    yield {
        "kinto.indexing_backend": "kinto_elasticsearch.elasticsearch",
        "kinto_elasticsearch.hosts": url,
        "kinto_elasticsearch.compatibility_headers": "false" if clone is not None else "true",
        "kinto_elasticsearch.index_prefix": f"kinto-it-{uuid.uuid4().hex[:8]}",
        "kinto_elasticsearch.refresh_enabled": "true",
    }
    if clone is not None:
        clone.close()


@pytest.fixture
def make_server(indexing_settings: dict[str, Any]) -> Iterator[Callable[..., webtest.TestApp]]:
    built: list[webtest.TestApp] = []

    def make(**settings: Any) -> webtest.TestApp:
        app = webtest.TestApp(
            main(
                {},
                **{
                    "multiauth.policies": "basicauth",
                    "userid_hmac_secret": SECRET,
                    "kinto.includes": "kinto_elasticsearch",
                    **indexing_settings,
                    **settings,
                },
            )
        )
        built.append(app)
        return app

    yield make
    for app in built:
        app.app.registry.indexer.flush()


@pytest.fixture
def server(make_server: Callable[..., webtest.TestApp]) -> webtest.TestApp:
    app = make_server()
    app.put_json("/v1/buckets/b1", {}, headers=ALICE)
    app.put_json("/v1/buckets/b1/collections/c1", {}, headers=ALICE)
    return app


def add(
    app: webtest.TestApp, title: str, headers: dict[str, str] = ALICE, collection: str = "c1", **permissions: list[str]
) -> str:
    body: dict[str, Any] = {"data": {"title": title}}
    if permissions:
        body["permissions"] = permissions
    path = f"/v1/buckets/b1/collections/{collection}/records"
    return app.post_json(path, body, headers=headers, status=201).json["data"]["id"]


def found(
    app: webtest.TestApp, headers: dict[str, str] | None = None, body: Any = None, path: str = SEARCH, status: int = 200
) -> list[str]:
    response = app.post_json(path, body or {}, headers=headers or {}, status=status)
    return sorted(hit["_source"]["title"] for hit in response.json["hits"]["hits"])


def test_the_capability_is_announced(server: webtest.TestApp) -> None:
    assert "search" in server.get("/v1/").json["capabilities"]


def test_records_created_are_found_and_deleted_ones_disappear(server: webtest.TestApp) -> None:
    first = add(server, "hello world")
    add(server, "hello there")
    assert found(server, ALICE, {"query": {"match": {"title": "hello"}}}) == ["hello there", "hello world"]
    server.delete(f"/v1/buckets/b1/collections/c1/records/{first}", headers=ALICE)
    assert found(server, ALICE, {"query": {"match": {"title": "hello"}}}) == ["hello there"]
    server.delete("/v1/buckets/b1/collections/c1/records", headers=ALICE)
    assert found(server, ALICE) == []


def test_a_user_with_read_on_two_records_finds_exactly_those(server: webtest.TestApp) -> None:
    add(server, "one", read=[userid("bob")])
    add(server, "two", write=[userid("bob")])
    add(server, "three")
    assert found(server, BOB) == ["one", "two"]
    # Carol may read nothing there: 403, as the list of records answers her.
    server.post_json(SEARCH, {}, headers=CAROL, status=403)
    server.get("/v1/buckets/b1/collections/c1/records", headers=CAROL, status=403)


def test_collection_readers_see_everything_as_soon_as_they_may(server: webtest.TestApp) -> None:
    add(server, "one")
    add(server, "two", read=[userid("bob")])
    assert found(server, BOB) == ["two"]
    server.patch_json("/v1/buckets/b1/collections/c1", {"permissions": {"read": [userid("bob")]}}, headers=ALICE)
    assert found(server, BOB) == ["one", "two"]
    server.patch_json("/v1/buckets/b1/collections/c1", {"permissions": {"read": []}}, headers=ALICE)
    assert found(server, BOB) == ["two"]
    server.patch_json("/v1/buckets/b1", {"permissions": {"write": [userid("carol"), userid("alice")]}}, headers=ALICE)
    assert found(server, CAROL) == ["one", "two"]


def test_group_members_find_what_the_group_may_read(server: webtest.TestApp) -> None:
    server.put_json("/v1/buckets/b1/groups/readers", {"data": {"members": [userid("carol")]}}, headers=ALICE)
    add(server, "for readers", read=["/buckets/b1/groups/readers"])
    add(server, "private")
    assert found(server, CAROL) == ["for readers"]


def test_anonymous_callers_find_public_records_only(server: webtest.TestApp) -> None:
    add(server, "public", read=["system.Everyone"])
    add(server, "private")
    assert found(server) == ["public"]
    server.patch_json("/v1/buckets/b1/collections/c1", {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    assert found(server) == ["private", "public"]


@pytest.mark.parametrize(
    "crafted",
    [
        {"query": {"bool": {"should": [{"match_all": {}}, {"match_none": {}}], "minimum_should_match": 1}}},
        {"query": {"bool": {"must_not": [{"terms": {"title": ["nothing"]}}]}}},
        {"query": {"constant_score": {"filter": {"match_all": {}}, "boost": 100}}},
        {"query": {"query_string": {"query": "*:*"}}},
    ],
)
def test_crafted_bodies_cannot_bypass_the_filter(server: webtest.TestApp, crafted: dict[str, Any]) -> None:
    add(server, "secret")
    add(server, "shared", read=[userid("bob")])
    assert found(server, BOB, crafted) == ["shared"]


def test_the_querystring_searches_with_get(server: webtest.TestApp) -> None:
    add(server, "hello world")
    add(server, "goodbye")
    hits = server.get(SEARCH, params={"q": "title:hello"}, headers=ALICE).json["hits"]["hits"]
    assert [hit["_source"]["title"] for hit in hits] == ["hello world"]


def test_the_collection_index_schema_maps_fields(server: webtest.TestApp) -> None:
    schema = {"properties": {"tag": {"type": "keyword"}}}
    server.put_json("/v1/buckets/b1/collections/tagged", {"data": {"index:schema": schema}}, headers=ALICE)
    server.post_json(
        "/v1/buckets/b1/collections/tagged/records", {"data": {"title": "x", "tag": "Mixed Case"}}, headers=ALICE
    )
    path = "/v1/buckets/b1/collections/tagged/search"
    assert found(server, ALICE, {"query": {"term": {"tag": "Mixed Case"}}}, path=path) == ["x"]
    assert found(server, ALICE, {"sort": ["tag"]}, path=path) == ["x"]


def test_deleting_collections_and_buckets_deletes_their_indexes(server: webtest.TestApp) -> None:
    add(server, "in c1")
    server.put_json("/v1/buckets/b1/collections/c2", {}, headers=ALICE)
    add(server, "in c2", collection="c2")
    indexer = server.app.registry.indexer
    assert set(indexer.list_indexes()) >= {("b1", "c1"), ("b1", "c2")}
    server.delete("/v1/buckets/b1/collections/c2", headers=ALICE)
    assert ("b1", "c2") not in indexer.list_indexes()
    server.delete("/v1/buckets/b1", headers=ALICE)
    assert [key for key in indexer.list_indexes() if key[0] == "b1"] == []


def test_missing_collections_answer_404_to_bucket_readers_only(server: webtest.TestApp) -> None:
    assert (
        server.post_json("/v1/buckets/b1/collections/nope/search", {}, headers=ALICE, status=404).json["errno"] == 111
    )
    server.post_json("/v1/buckets/b1/collections/nope/search", {}, headers=BOB, status=403)
    server.post_json("/v1/buckets/b1/collections/nope/search", {}, status=401)


def test_refused_bodies_answer_400(server: webtest.TestApp) -> None:
    error = server.post_json(SEARCH, {"query": {"script": {"script": "1"}}}, headers=ALICE, status=400).json
    assert error["errno"] == 107


def test_collections_predating_the_plugin_get_their_index_on_first_write(
    make_server: Callable[..., webtest.TestApp], tmp_path: Path
) -> None:
    storage = {
        "kinto.storage_backend": "kinto.core.storage.sqlite",
        "kinto.storage_url": f"sqlite:///{tmp_path}/kinto.sqlite",
        "kinto.permission_backend": "kinto.core.permission.sqlite",
        "kinto.permission_url": f"sqlite:///{tmp_path}/kinto.sqlite",
    }
    before = webtest.TestApp(main({}, **{"multiauth.policies": "basicauth", "userid_hmac_secret": SECRET, **storage}))
    before.app.registry.storage.initialize_schema()
    before.app.registry.permission.initialize_schema()
    before.put_json("/v1/buckets/b1", {}, headers=ALICE)
    schema = {"properties": {"tag": {"type": "keyword"}}}
    before.put_json("/v1/buckets/b1/collections/c1", {"data": {"index:schema": schema}}, headers=ALICE)

    app = make_server(**storage)
    app.post_json("/v1/buckets/b1/collections/c1/records", {"data": {"title": "t", "tag": "A B"}}, headers=ALICE)
    assert found(app, ALICE, {"query": {"term": {"tag": "A B"}}}) == ["t"]


def test_reindex_rebuilds_the_server_s_collections(server: webtest.TestApp) -> None:
    from kinto_elasticsearch.reindex import reindex

    add(server, "one", read=[userid("bob")])
    add(server, "two")
    indexer = server.app.registry.indexer
    indexer.flush()
    indexer.create_index("ghost", "b1")
    lines: list[str] = []
    report = reindex(server.app.registry, progress=lines.append)
    assert (report.collections, report.records, report.deleted_indexes) == (1, 2, 1)
    assert found(server, BOB) == ["one"]
    assert any("/buckets/b1/collections/c1" in line for line in lines)


def test_kinto_reindex_runs_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kinto.server.cli import main as kinto

    data = tmp_path / "data"
    data.mkdir()
    ini = tmp_path / "kinto.ini"
    ini.write_text(
        "[app:main]\n"
        "use = egg:kinto\n"
        f"kinto.storage_backend = kinto.core.storage.sqlite\nkinto.storage_url = sqlite:///{data}/kinto.sqlite\n"
        f"kinto.permission_backend = kinto.core.permission.sqlite\n"
        f"kinto.permission_url = sqlite:///{data}/kinto.sqlite\n"
        "kinto.cache_backend = kinto.core.cache.memory\n"
        "multiauth.policies = basicauth\n"
        f"userid_hmac_secret = {SECRET}\n"
        "kinto.includes = kinto_elasticsearch\n"
        "kinto.indexing_backend = kinto_elasticsearch.embedded\n"
        f"kinto_elasticsearch.embedded_url = sqlite:///{data}/search.sqlite\n"
    )
    assert kinto(["migrate", "--ini", str(ini)]) == 0
    app = webtest.TestApp(main({}, **dict(line.split(" = ", 1) for line in ini.read_text().splitlines()[2:])))
    app.put_json("/v1/buckets/b1", {}, headers=ALICE)
    app.put_json("/v1/buckets/b1/collections/c1", {}, headers=ALICE)
    add(app, "kept")
    app.app.registry.indexer.flush()
    assert found(app, ALICE) == []
    capsys.readouterr()
    assert kinto(["reindex", "--ini", str(ini), "b1", "c1"]) == 0
    assert "Reindexed 1 records in 1 collection(s)" in capsys.readouterr().out
    assert found(app, ALICE) == ["kept"]
