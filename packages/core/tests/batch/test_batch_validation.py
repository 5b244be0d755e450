"""Malformed batches: each one a 400 in the core's error format naming the faulty field, never a 500."""

import pytest

from kinto.core.testing import make_app

URL = "/v1/batch"


def post_invalid(app, payload, status=400):
    response = app.post_json(URL, payload, status=status)
    body = response.json
    assert body["code"] == status
    assert body["errno"] == 107
    assert body["error"] == "Invalid parameters"
    return body


def detail_names(body):
    return [detail["name"] for detail in body["details"]]


@pytest.mark.parametrize(
    "payload, name",
    [
        ({}, "requests"),
        ({"requests": {}}, "requests"),
        ({"requests": "GET /"}, "requests"),
        ({"requests": None}, "requests"),
        ([{"path": "/"}], "body"),
        ("requests", "body"),
        ({"requests": [], "extra": 1}, "extra"),
        ({"requests": [1]}, "requests.0"),
        ({"requests": [[]]}, "requests.0"),
        ({"requests": [{}]}, "requests.0.path"),
        ({"requests": [{"path": "items"}]}, "requests.0.path"),
        ({"requests": [{"path": 42}]}, "requests.0.path"),
        ({"requests": [{"path": "/items\n"}]}, "requests.0.path"),
        ({"requests": [{"path": "/", "method": "FOO"}]}, "requests.0.method"),
        ({"requests": [{"path": "/", "method": "get"}]}, "requests.0.method"),
        ({"requests": [{"path": "/", "method": None}]}, "requests.0.method"),
        ({"requests": [{"path": "/", "method": ["GET"]}]}, "requests.0.method"),
        ({"requests": [{"path": "/", "headers": []}]}, "requests.0.headers"),
        ({"requests": [{"path": "/", "headers": {"X-A": 1}}]}, "requests.0.headers"),
        ({"requests": [{"path": "/", "headers": {"X A": "b"}}]}, "requests.0.headers"),
        ({"requests": [{"path": "/", "headers": {"X-A": "b\r\nX-Injected: yes"}}]}, "requests.0.headers"),
        ({"requests": [{"path": "/", "body": []}]}, "requests.0.body"),
        ({"requests": [{"path": "/", "body": "text"}]}, "requests.0.body"),
        ({"requests": [{"path": "/", "query": "x"}]}, "requests.0.query"),
        ({"requests": [{"path": "/"}], "defaults": []}, "defaults"),
        ({"requests": [{"path": "/"}], "defaults": {"method": "FOO"}}, "defaults.method"),
        ({"requests": [{"path": "/"}], "defaults": {"path": "nope"}}, "defaults.path"),
        ({"requests": [{"path": "/"}], "defaults": {"body": ["x"]}}, "defaults.body"),
        ({"requests": [{"path": "/"}], "defaults": {"unknown": 1}}, "defaults.unknown"),
    ],
)
def test_malformed_batches_are_400_naming_the_field(app, payload, name):
    body = post_invalid(app, payload)
    assert name in detail_names(body)
    assert body["message"].startswith(f"{body['details'][0]['name']} in body:")
    assert all(detail["location"] == "body" for detail in body["details"])


def test_list_body_with_object_defaults_body_is_a_400_not_a_crash(app):
    """Kinto 26.5 answered 500 to this one."""
    payload = {
        "defaults": {"method": "PUT", "body": {"data": {"a": 1}}},
        "requests": [{"path": "/items/x", "body": ["x"]}],
    }
    body = post_invalid(app, payload)
    assert detail_names(body) == ["requests.0.body"]


def test_every_faulty_sub_request_is_reported(app):
    payload = {"requests": [{"path": "/"}, {"path": "x"}, {"path": "/", "method": "FOO"}, 3]}
    body = post_invalid(app, payload)
    assert detail_names(body) == ["requests.1.path", "requests.2.method", "requests.3"]


def test_a_path_in_defaults_completes_sub_requests_without_one(app):
    response = app.post_json(URL, {"defaults": {"path": "/whoami"}, "requests": [{}, {"method": "GET"}]})
    assert [r["status"] for r in response.json["responses"]] == [200, 200]


def test_invalid_json_is_a_400(app):
    response = app.post(URL, "{not json", headers={"Content-Type": "application/json"}, status=400)
    assert response.json["errno"] == 107


def test_non_json_content_type_is_a_415(app):
    response = app.post(URL, "requests", headers={"Content-Type": "text/plain"}, status=415)
    assert response.json["code"] == 415


def test_only_post_is_allowed(app):
    assert app.get(URL, status=405).json["errno"] == 115


def test_nothing_runs_when_the_batch_is_invalid(app, stored):
    payload = {"requests": [{"method": "PUT", "path": "/items/a", "body": {"data": {}}}, {"path": "nope"}]}
    post_invalid(app, payload)
    assert stored() == []


def test_more_requests_than_the_limit_is_a_400(app):
    body = post_invalid(app, {"requests": [{"path": "/"}] * 11})
    assert body["details"][0]["name"] == "requests"
    assert "limited to 10" in body["message"]


def test_exactly_the_limit_is_accepted(app):
    response = app.post_json(URL, {"requests": [{"path": "/"}] * 10})
    assert len(response.json["responses"]) == 10


def test_an_empty_list_of_requests_answers_no_responses(app):
    assert app.post_json(URL, {"requests": []}).json == {"responses": []}


@pytest.mark.parametrize("limit, accepted", [(None, 25), ("3", 3), ("0", 60)])
def test_the_limit_comes_from_batch_max_requests(limit, accepted):
    settings = {} if limit is None else {"batch_max_requests": limit}
    app = make_app(settings)
    app.post_json(URL, {"requests": [{"path": "/"}] * accepted})
    if limit != "0":
        app.post_json(URL, {"requests": [{"path": "/"}] * (accepted + 1)}, status=400)


@pytest.mark.parametrize(
    "path",
    ["/batch", "/v1/batch", "/batch/", "/batch?x=1", "/%62atch", "/v1/batch//"],
)
def test_a_sub_request_to_the_batch_endpoint_is_refused(app, stored, path):
    payload = {
        "requests": [{"method": "PUT", "path": "/items/a", "body": {"data": {}}}, {"method": "POST", "path": path}]
    }
    body = post_invalid(app, payload)
    assert "Recursive call on /batch" in body["message"]
    assert stored() == []


def test_recursion_through_defaults_is_refused(app):
    body = post_invalid(app, {"defaults": {"path": "/batch", "method": "POST"}, "requests": [{}]})
    assert "Recursive call on /batch" in body["message"]


def test_paths_merely_containing_batch_are_not_refused(app):
    response = app.post_json(URL, {"requests": [{"path": "/batches"}, {"path": "/items/batch"}]})
    assert [r["status"] for r in response.json["responses"]] == [404, 404]
