"""How sub-requests are built and answered: order, defaults, prefix, headers, authentication, errors."""

import json
import logging

import pytest

from kinto.core.testing import basic_auth_header

URL = "/v1/batch"
ALICE = basic_auth_header("alice", "secret")
BOB = basic_auth_header("bob", "secret")


def batch(app, requests, defaults=None, **kwargs):
    payload = {"requests": requests}
    if defaults is not None:
        payload["defaults"] = defaults
    return app.post_json(URL, payload, **kwargs).json["responses"]


def put(object_id, **data):
    return {"method": "PUT", "path": f"/items/{object_id}", "body": {"data": data}}


def test_responses_come_in_the_order_of_the_requests(app):
    responses = batch(app, [put("a", n=1), {"path": "/items/a"}, {"path": "/items"}])
    assert [(r["status"], r["path"]) for r in responses] == [
        (200, "/v1/items/a"),
        (200, "/v1/items/a"),
        (200, "/v1/items"),
    ]
    assert responses[1]["body"]["data"]["n"] == 1
    assert [obj["id"] for obj in responses[2]["body"]["data"]] == ["a"]
    assert responses[0]["headers"]["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/echo", "/v1/echo"])
def test_paths_work_with_or_without_the_version_prefix(app, path):
    (response,) = batch(app, [{"path": path}])
    assert response["status"] == 200
    assert response["path"] == "/v1/echo"
    assert response["body"]["path"] == "/v1/echo"


def test_the_bare_prefix_is_the_root_url(app):
    responses = batch(app, [{"path": "/v1"}, {"path": "/"}, {"path": "/v1/"}])
    assert [(r["status"], r["path"]) for r in responses] == [(200, "/v1/")] * 3


def test_a_path_that_only_starts_like_the_prefix_is_prefixed(app):
    (response,) = batch(app, [{"path": "/v1echo"}])
    assert (response["status"], response["path"]) == (404, "/v1/v1echo")


def test_the_querystring_reaches_the_sub_request_and_is_not_in_the_answered_path(app):
    (response,) = batch(app, [{"path": "/echo?a=1&b=%C3%A9"}])
    assert response["body"]["query"] == {"a": "1", "b": "é"}
    assert response["path"] == "/v1/echo"


def test_non_ascii_paths_are_sent_and_answered_decoded(app):
    responses = batch(app, [put("é ü", n=1), {"path": "/items/%C3%A9%20%C3%BC"}])
    assert [r["status"] for r in responses] == [200, 200]
    assert responses[0]["path"] == "/v1/items/é ü"
    assert responses[1]["body"]["data"]["id"] == "é ü"


def test_method_defaults_to_get(app):
    (response,) = batch(app, [{"path": "/echo"}])
    assert response["body"]["method"] == "GET"


def test_defaults_apply_to_every_request_and_requests_win(app):
    defaults = {
        "method": "POST",
        "headers": {"X-Default": "d", "X-Both": "default"},
        "body": {"data": {"a": 1, "b": 1}, "permissions": {"read": ["x"]}},
    }
    requests = [
        {"path": "/echo"},
        {"path": "/echo", "method": "PUT", "headers": {"X-Both": "own"}, "body": {"data": {"b": 2}}},
    ]
    first, second = (r["body"] for r in batch(app, requests, defaults))
    assert first["method"] == "POST"
    assert first["body"] == {"data": {"a": 1, "b": 1}, "permissions": {"read": ["x"]}}
    assert first["headers"]["X-Both"] == "default"
    assert second["method"] == "PUT"
    assert second["body"] == {"data": {"a": 1, "b": 2}, "permissions": {"read": ["x"]}}
    assert second["headers"]["X-Default"] == "d"
    assert second["headers"]["X-Both"] == "own"


def test_a_request_value_that_is_not_an_object_replaces_an_object_default(app):
    (response,) = batch(
        app, [{"path": "/echo", "body": {"data": "flat"}}], {"method": "POST", "body": {"data": {"a": 1}}}
    )
    assert response["body"]["body"] == {"data": "flat"}


def test_sub_requests_inherit_the_batch_headers_and_override_them(app):
    headers = {"X-From-Batch": "yes", "Accept-Language": "fr"}
    requests = [{"path": "/echo"}, {"path": "/echo", "headers": {"Accept-Language": "de"}}]
    first, second = (r["body"]["headers"] for r in batch(app, requests, headers=headers))
    assert first["X-From-Batch"] == "yes" and first["Accept-Language"] == "fr"
    assert second["X-From-Batch"] == "yes" and second["Accept-Language"] == "de"


def test_bodies_are_sent_as_json_with_their_own_length(app):
    requests = [{"method": "POST", "path": "/echo", "body": {"k": "v" * 50}}, {"method": "DELETE", "path": "/echo"}]
    with_body, without_body = (r["body"] for r in batch(app, requests))
    assert with_body["headers"]["Content-Type"].startswith("application/json")
    assert int(with_body["headers"]["Content-Length"]) == len(json.dumps({"k": "v" * 50}))
    assert without_body["body"] is None


def test_a_content_type_given_by_the_sub_request_is_kept(app):
    request = {
        "method": "PATCH",
        "path": "/echo",
        "headers": {"Content-Type": "application/merge-patch+json"},
        "body": {"a": None},
    }
    (response,) = batch(app, [request])
    assert response["body"]["headers"]["Content-Type"] == "application/merge-patch+json"
    assert response["body"]["body"] == {"a": None}


def test_each_sub_request_is_authenticated_as_itself(app):
    requests = [{"path": "/whoami"}, {"path": "/whoami", "headers": BOB}]
    alice_view, bob_view = (r["body"]["userid"] for r in batch(app, requests, headers=ALICE))
    assert alice_view.startswith("basicauth:") and bob_view.startswith("basicauth:")
    assert alice_view != bob_view
    direct = app.get("/v1/whoami", headers=BOB).json["userid"]
    assert bob_view == direct


def test_an_anonymous_batch_may_carry_authenticated_sub_requests(app):
    requests = [{"path": "/private"}, {"path": "/private", "headers": ALICE}]
    anonymous, alice = batch(app, requests)
    assert anonymous["status"] == 401
    assert anonymous["body"]["errno"] == 104
    assert "WWW-Authenticate" in anonymous["headers"]
    assert alice["status"] == 200


def test_a_sub_request_with_bad_credentials_is_anonymous_not_the_batchs_user(app):
    requests = [{"path": "/whoami", "headers": {"Authorization": "Basic bm90LWJhc2U2NA=="}}]
    (response,) = batch(app, requests, headers=ALICE)
    assert response["body"] == {"userid": None, "principals": ["system.Everyone"]}


def test_missing_resources_and_methods_are_reported_per_sub_request(app):
    requests = [{"path": "/nowhere"}, {"method": "PUT", "path": "/items"}, {"path": "/items/missing"}]
    not_found, not_allowed, missing = batch(app, requests)
    assert (not_found["status"], not_found["body"]["errno"]) == (404, 111)
    assert (not_allowed["status"], not_allowed["body"]["errno"]) == (405, 115)
    assert "GET" in not_allowed["headers"]["Allow"]
    assert (missing["status"], missing["body"]["errno"]) == (404, 110)
    for response in (not_found, not_allowed, missing):
        assert set(response["body"]) >= {"code", "errno", "error", "message"}


def test_head_sub_requests_answer_an_empty_body(app):
    (response,) = batch(app, [{"method": "HEAD", "path": "/items"}])
    assert response["status"] == 200
    assert response["body"] == ""


def test_a_trailing_slash_redirect_is_followed(app):
    (response,) = batch(app, [put("a"), {"path": "/items/"}])[1:]
    assert response["status"] == 200
    assert response["path"] == "/v1/items"
    assert [obj["id"] for obj in response["body"]["data"]] == ["a"]


def test_the_batch_itself_is_one_summary_line(app, caplog):
    caplog.set_level(logging.INFO)
    batch(app, [{"path": "/echo"}, {"path": "/nowhere"}, put("a")])
    lines = [record.getMessage() for record in caplog.records if record.name == "request.summary"]
    assert len(lines) == 1
    assert lines[0].startswith("POST /v1/batch 200")
