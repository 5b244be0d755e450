"""Item 7: depth and size limits hold on every path and every backend.

* JSON nests at most ``json_max_depth`` levels (default 100): a deeper body is a
  400 (errno 107, as Kinto answers bodies it cannot parse), whether sent alone or in a
  batch, and a JSON Patch cannot build a deeper object (400, errno 107).
  Kinto 26.5.0 stores a 950-deep record and answers 500 on reads of it.
* Ids picked by clients have at most ``id_max_length`` characters (default
  255; Kinto has no limit, and PostgreSQL cannot index keys above ~2,700
  bytes), match their whole pattern (no final newline), and a path that is
  not UTF-8 is Kinto's 400 "Invalid URL path." (errno 107), batch included.
* A body's charset must name a text encoding (415 otherwise), and lone
  surrogates are refused whatever the encoding (UTF-16 and UTF-7 included).
* A PATCH naming neither ``data`` nor ``permissions`` is Kinto's 400.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import ALICE, assert_error

RECORDS = "/v1/buckets/b/collections/c/records"


def nested(levels: int) -> str:
    """A JSON list nesting ``levels`` levels of lists."""
    return "[" * levels + "]" * levels


def record_body(data_levels: int) -> str:
    """``{"data": {"x": ...}}``: the body nests ``data_levels + 2`` levels."""
    return '{"data": {"x": ' + nested(data_levels) + "}}"


def send(app: Any, method: str, path: str, body: str | bytes, content_type: str = "application/json") -> Any:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return app.request(
        path, method=method, body=raw, headers={**ALICE, "Content-Type": content_type}, expect_errors=True
    )


def batch(app: Any, *requests: dict[str, Any], raw: str | None = None) -> Any:
    body = raw if raw is not None else json.dumps({"requests": list(requests)})
    return send(app, "POST", "/v1/batch", body)


@pytest.fixture
def collection(app: Any, put: Any) -> Any:
    put(app, "/buckets/b")
    put(app, "/buckets/b/collections/c")
    return app


def stored_ids(app: Any) -> list[str]:
    return [record["id"] for record in app.get(RECORDS, headers=ALICE).json["data"]]


# --- depth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [101, 499, 950, 20_000])
def test_a_body_nested_deeper_than_json_max_depth_is_a_400_and_stores_nothing(collection, levels):
    app = collection
    assert_error(send(app, "PUT", f"{RECORDS}/deep", record_body(levels)), 400, 107)
    assert_error(send(app, "POST", RECORDS, record_body(levels)), 400, 107)

    assert stored_ids(app) == []
    listing = batch(app, {"method": "GET", "path": "/buckets/b/collections/c/records"})
    assert listing.status_code == 200
    assert listing.json["responses"][0]["status"] == 200


def test_a_body_at_the_limit_is_stored_and_read_back_everywhere(collection):
    app = collection
    body = record_body(98)  # 100 levels with the envelope

    assert send(app, "PUT", f"{RECORDS}/edge", body).status_code == 201
    expected = json.loads(body)["data"]["x"]
    assert app.get(f"{RECORDS}/edge", headers=ALICE).json["data"]["x"] == expected
    listing = batch(app, {"method": "GET", "path": "/buckets/b/collections/c/records"})
    assert listing.json["responses"][0]["body"]["data"][0]["x"] == expected


def test_the_limit_holds_in_batch_sub_requests(collection):
    app = collection
    deep = {"data": {"x": json.loads(nested(99))}}  # 101 levels: too deep on its own
    path = "/buckets/b/collections/c/records/sub"

    # A batch payload is allowed its own three levels around each body, not more.
    assert_error(batch(app, {"method": "PUT", "path": path, "body": deep}), 400, 107)
    too_deep = '{"requests": [{"method": "PUT", "path": "' + path + '", "body": ' + record_body(5_000) + "}]}"
    assert_error(batch(app, raw=too_deep), 400, 107)
    # ``defaults`` sit one level higher: their body is checked when the sub-request reads it.
    response = send(
        app,
        "POST",
        "/v1/batch",
        json.dumps({"defaults": {"body": deep}, "requests": [{"method": "PUT", "path": path}]}),
    )
    assert response.status_code == 200
    sub = response.json["responses"][0]
    assert sub["status"] == 400 and sub["body"]["errno"] == 107
    assert stored_ids(app) == []


def test_a_json_patch_cannot_build_an_object_deeper_than_the_limit(collection, put):
    app = collection
    put(app, "/buckets/b/collections/c/records/r", {"x": json.loads(nested(90))})
    pointer = "/data/x" + "/0" * 89
    operations = [{"op": "add", "path": pointer + "/-", "value": json.loads(nested(90))}]

    response = send(app, "PATCH", f"{RECORDS}/r", json.dumps(operations), "application/json-patch+json")

    assert_error(response, 400, 107)
    assert app.get(f"{RECORDS}/r", headers=ALICE).json["data"]["x"] == json.loads(nested(90))


def test_json_max_depth_is_a_setting(make_app, put):
    app = make_app({"kinto.json_max_depth": "5"})
    put(app, "/buckets/b")
    put(app, "/buckets/b/collections/c")

    assert send(app, "PUT", f"{RECORDS}/ok", record_body(3)).status_code == 201
    assert_error(send(app, "PUT", f"{RECORDS}/no", record_body(4)), 400, 107)


# --- ids -----------------------------------------------------------------------------------------


def test_ids_longer_than_id_max_length_are_refused_on_every_path(collection):
    app = collection
    long_id = "a" * 10_000

    assert_error(app.put_json(f"/v1/buckets/{long_id}", {}, headers=ALICE, expect_errors=True), 400, 107)
    assert_error(app.put_json(f"{RECORDS}/{long_id}", {}, headers=ALICE, expect_errors=True), 400, 107)
    assert_error(app.post_json(RECORDS, {"data": {"id": long_id}}, headers=ALICE, expect_errors=True), 400, 107)
    assert_error(app.post_json("/v1/buckets", {"data": {"id": long_id}}, headers=ALICE, expect_errors=True), 400, 107)
    parent = app.put_json(f"/v1/buckets/{long_id}/collections/c", {}, headers=ALICE, expect_errors=True)
    assert_error(parent, 404)
    in_batch = batch(app, {"method": "PUT", "path": f"/buckets/b/collections/c/records/{long_id}"})
    assert in_batch.json["responses"][0]["status"] == 400

    assert stored_ids(app) == []
    assert [bucket["id"] for bucket in app.get("/v1/buckets", headers=ALICE).json["data"]] == ["b"]


def test_ids_of_exactly_id_max_length_are_accepted(collection, make_app, put):
    app = collection
    assert app.put_json(f"{RECORDS}/{'r' * 255}", {}, headers=ALICE).status_code == 201
    assert_error(app.put_json(f"{RECORDS}/{'r' * 256}", {}, headers=ALICE, expect_errors=True), 400, 107)

    shorter = make_app({"kinto.id_max_length": "8"})
    assert shorter.put_json("/v1/buckets/12345678", {}, headers=ALICE).status_code == 201
    assert_error(shorter.put_json("/v1/buckets/123456789", {}, headers=ALICE, expect_errors=True), 400, 107)


@pytest.mark.parametrize("path", ["/v1/buckets/b%0A", f"{RECORDS}/x%0A", "/v1/buckets/b%0A/collections/c"])
def test_ids_ending_with_a_newline_are_refused(collection, path):
    response = collection.put_json(path, {}, headers=ALICE, expect_errors=True)
    assert response.status_code in (400, 404)
    assert (response.status_code, response.json["errno"]) in ((400, 107), (404, 111))
    posted = collection.post_json(RECORDS, {"data": {"id": "x\n"}}, headers=ALICE, expect_errors=True)
    assert_error(posted, 400, 107)
    assert stored_ids(collection) == []


@pytest.mark.parametrize("path", ["/v1/buckets/%FF", "/v1/buckets/%FF/collections/c", f"{RECORDS}/%C3%28"])
def test_a_path_that_is_not_utf8_is_kintos_invalid_url_path(collection, path):
    app = collection
    body = assert_error(app.put_json(path, {}, headers=ALICE, expect_errors=True), 400, 107)
    assert body["message"] == "Invalid URL path."
    assert_error(app.get(path, headers=ALICE, expect_errors=True), 400, 107)

    response = batch(app, {"method": "PUT", "path": path.removeprefix("/v1")})
    assert response.status_code == 200
    assert response.json["responses"][0]["status"] == 400
    assert response.json["responses"][0]["body"]["errno"] == 107


# --- charsets and text ---------------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "no-such-charset"])
def test_a_charset_that_is_no_text_encoding_is_a_415(collection, charset):
    response = send(collection, "PUT", f"{RECORDS}/r", '{"data": {"a": 1}}', f"application/json; charset={charset}")
    assert_error(response, 415, 107)
    assert stored_ids(collection) == []


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        ("utf-16", '{"data": {"a": "\\ud800"}}'.encode("utf-16")),
        ("utf-16-le", '{"data": {"\\udc00": 1}}'.encode("utf-16-le")),
        ("utf-7", b'{"data": {"a": "+2AA-"}}'),
    ],
)
def test_lone_surrogates_are_refused_in_every_encoding(collection, charset, body):
    response = send(collection, "PUT", f"{RECORDS}/r", body, f"application/json; charset={charset}")
    assert_error(response, 400, 107)
    assert stored_ids(collection) == []


def test_bodies_in_other_text_encodings_are_still_read_as_kinto_does(collection):
    body = '{"data": {"a": "été \\ud83d\\ude00"}}'.encode("utf-16")
    response = send(collection, "PUT", f"{RECORDS}/r", body, "application/json; charset=utf-16")
    assert response.status_code == 201
    assert response.json["data"]["a"] == "été \U0001f600"


# --- PATCH ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "{}", '{"unknown": 1}'])
@pytest.mark.parametrize("path", ["/v1/buckets/b", f"{RECORDS}/r"])
def test_a_patch_naming_nothing_to_change_is_kintos_400(collection, put, body, path):
    app = collection
    put(app, "/buckets/b/collections/c/records/r", {"a": 1})
    before = app.get(path, headers=ALICE).json

    response = assert_error(send(app, "PATCH", path, body), 400, 107)

    assert response["message"] == "Provide at least one of data or permissions"
    assert app.get(path, headers=ALICE).json == before
    in_batch = batch(app, {"method": "PATCH", "path": path.removeprefix("/v1")})
    assert in_batch.json["responses"][0]["status"] == 400
    assert send(app, "PATCH", path, '{"data": {}}').status_code == 200
