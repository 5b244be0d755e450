"""myproject end to end: the ini file → the WSGI app → HTTP, as a user would run it."""

import base64
import shutil
from pathlib import Path

import pytest
import webtest
from openapi_spec_validator import validate
from pyramid.paster import get_app

HERE = Path(__file__).resolve().parent.parent


def auth(user):
    token = base64.b64encode(f"{user}:secret".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ALICE, BOB = auth("alice"), auth("bob")


@pytest.fixture
def app(tmp_path):
    shutil.copy(HERE / "development.ini", tmp_path / "development.ini")
    (tmp_path / "data").mkdir()
    return webtest.TestApp(get_app(str(tmp_path / "development.ini"), "main"))


def test_the_root_url_describes_the_project(app):
    body = app.get("/v1/").json
    assert body["project_name"] == "myproject"
    assert body["project_version"] == "0.0.1"
    assert "search" in body["capabilities"]


def test_articles_crud(app):
    created = app.post_json("/v1/articles", {"data": {"title": "Hello", "tags": ["intro"]}}, headers=ALICE, status=201)
    article = created.json["data"]
    assert created.headers["ETag"] == f'"{article["last_modified"]}"'

    listed = app.get("/v1/articles", headers=ALICE).json["data"]
    assert [a["id"] for a in listed] == [article["id"]]

    patched = app.patch_json(f"/v1/articles/{article['id']}", {"data": {"published": True}}, headers=ALICE).json
    assert patched["data"]["published"] is True and patched["data"]["title"] == "Hello"

    app.delete(f"/v1/articles/{article['id']}", headers=ALICE)
    app.get(f"/v1/articles/{article['id']}", headers=ALICE, status=403)  # gone: no permission left on it


def test_the_schema_is_enforced_and_nothing_is_written(app):
    error = app.post_json("/v1/articles", {"data": {"title": ""}}, headers=ALICE, status=400).json
    assert error["errno"] == 107
    assert error["details"][0]["name"] == "data.title"
    app.post_json("/v1/articles", {"data": {"title": "x", "extra": 1}}, headers=ALICE, status=400)
    assert app.get("/v1/articles", headers=ALICE).json["data"] == []


def test_articles_are_private_until_shared(app):
    article = app.post_json("/v1/articles", {"data": {"title": "Draft"}}, headers=ALICE).json["data"]
    app.get(f"/v1/articles/{article['id']}", headers=BOB, status=403)
    app.get(f"/v1/articles/{article['id']}", status=401)
    assert app.get("/v1/articles", headers=BOB).json["data"] == []

    app.patch_json(f"/v1/articles/{article['id']}", {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    assert app.get(f"/v1/articles/{article['id']}").json["data"]["title"] == "Draft"
    assert [a["id"] for a in app.get("/v1/articles", headers=BOB).json["data"]] == [article["id"]]
    app.patch_json(f"/v1/articles/{article['id']}", {"data": {"title": "Mine"}}, headers=BOB, status=403)


def test_search_finds_only_readable_articles(app):
    shared = app.post_json("/v1/articles", {"data": {"title": "hello world"},
                                            "permissions": {"read": ["system.Everyone"]}}, headers=ALICE).json["data"]
    app.post_json("/v1/articles", {"data": {"title": "hello secret"}}, headers=ALICE)

    def titles(headers):
        body = app.post_json("/v1/search/articles/", {"query": {"match": {"title": "hello"}}}, headers=headers).json
        return sorted(hit["_source"]["title"] for hit in body["hits"]["hits"])

    assert titles(ALICE) == ["hello secret", "hello world"]
    assert titles(BOB) == ["hello world"]
    assert shared["id"]


def test_the_api_is_documented(app):
    document = app.get("/v1/__api__").json
    validate(document)
    assert "/articles/{id}" in document["paths"]


def test_the_data_survives_a_restart(tmp_path):
    shutil.copy(HERE / "development.ini", tmp_path / "development.ini")
    (tmp_path / "data").mkdir()
    first = webtest.TestApp(get_app(str(tmp_path / "development.ini"), "main"))
    article = first.post_json("/v1/articles", {"data": {"title": "Kept"}}, headers=ALICE).json["data"]
    second = webtest.TestApp(get_app(str(tmp_path / "development.ini"), "main"))
    assert second.get(f"/v1/articles/{article['id']}", headers=ALICE).json["data"]["title"] == "Kept"
