"""Kinto's endpoint switches: ``<plural|object>_<resource>_<method>_enabled = false`` closes that method.

They hold for every resource registered with the framework (the test application's resources are
third-party ones as far as the core is concerned), through HTTP, batch and the OpenAPI document.
"""

import uuid

import pytest
from pyramid.exceptions import ConfigurationError

from .conftest import ALICE, build_app, close_clients

SWITCHES = {
    "plural_thing_post_enabled": "false",
    "kinto.object_thing_delete_enabled": "false",
    "object_article_get_enabled": "off",
    "plural_memo_get_enabled": "false",
    "plural_memo_head_enabled": "true",
    "object_memo_put_enabled": "true",
}


@pytest.fixture(scope="module")
def switched():
    app = build_app(SWITCHES)
    yield app
    close_clients(app)


def test_a_switched_off_method_answers_405_in_kintos_format(switched):
    response = switched.post_json("/v1/things", {"data": {}}, headers=ALICE, status=405)
    assert response.json["errno"] == 115
    assert response.json["code"] == 405
    assert "POST" not in response.headers["Allow"]
    assert "GET" in response.headers["Allow"]


def test_the_other_methods_of_the_endpoint_keep_working(switched):
    thing = str(uuid.uuid4())
    switched.put_json(f"/v1/things/{thing}", {"data": {"n": 1}}, headers=ALICE, status=201)
    assert thing in [each["id"] for each in switched.get("/v1/things", headers=ALICE).json["data"]]
    assert switched.get(f"/v1/things/{thing}", headers=ALICE).json["data"]["n"] == 1


def test_the_prefixed_spelling_switches_too(switched):
    thing = str(uuid.uuid4())
    switched.put_json(f"/v1/things/{thing}", {"data": {}}, headers=ALICE, status=201)
    switched.delete(f"/v1/things/{thing}", headers=ALICE, status=405)
    # The plural DELETE has no switch set: it still deletes.
    assert thing in [each["id"] for each in switched.delete("/v1/things", headers=ALICE).json["data"]]


def test_switching_get_off_closes_head_too(switched):
    created = switched.post_json("/v1/articles", {"data": {"title": "a"}}, headers=ALICE, status=201).json
    url = f"/v1/articles/{created['data']['id']}"
    switched.get(url, headers=ALICE, status=405)
    response = switched.head(url, headers=ALICE, status=405)
    assert "ETag" not in response.headers
    switched.patch_json(url, {"data": {"title": "b"}}, headers=ALICE, status=200)


def test_head_follows_get_even_when_its_own_switch_is_on(switched):
    switched.get("/v1/memos", headers=ALICE, status=405)
    switched.head("/v1/memos", headers=ALICE, status=405)
    switched.post_json("/v1/memos", {"data": {}}, headers=ALICE, status=201)


def test_batch_sub_requests_meet_the_same_switches(switched):
    body = {"requests": [{"method": "POST", "path": "/things", "body": {"data": {}}}]}
    (response,) = switched.post_json("/v1/batch", body, headers=ALICE).json["responses"]
    assert response["status"] == 405
    assert response["body"]["errno"] == 115


def test_the_openapi_document_leaves_switched_off_methods_out(switched):
    paths = switched.get("/v1/__api__").json["paths"]
    assert "post" not in paths["/things"] and "get" in paths["/things"]
    assert "delete" not in paths["/things/{id}"] and "put" in paths["/things/{id}"]
    assert "get" not in paths["/articles/{id}"] and "head" not in paths["/articles/{id}"]


def test_a_switch_that_is_not_a_boolean_stops_start_up():
    with pytest.raises(ConfigurationError, match="plural_thing_post_enabled"):
        build_app({"plural_thing_post_enabled": "maybe"})
