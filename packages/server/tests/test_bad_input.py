"""Bad input is a 4xx in Kinto's JSON error format, never a 5xx, on every backend."""

from __future__ import annotations

import pytest

from .conftest import ALICE, BOB, userid

RECORDS = "/v1/buckets/b1/collections/c1/records"


@pytest.fixture(scope="module")
def extra_settings():
    return {"kinto.experimental_permissions_endpoint": "true"}


@pytest.fixture
def collection(put):
    put("/buckets/b1")
    put("/buckets/b1/collections/c1")


def assert_error(response, status, errno=None):
    assert response.status_code == status
    body = response.json
    assert {"code", "errno", "error", "message"} <= set(body)
    assert body["code"] == status
    if errno is not None:
        assert body["errno"] == errno


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/v1/buckets/b1", b"{not json"),
        ("put", "/v1/buckets/b1", b'{"data": [1, 2]}'),
        ("put", "/v1/buckets/b1", b'{"data": {}, "permissions": {"write": "alice"}}'),
        ("put", "/v1/buckets/b1", b'{"data": {}, "permissions": {"fly": ["alice"]}}'),
        ("put", "/v1/buckets/b1", b"[" * 5000 + b"]" * 5000),
        ("put", "/v1/buckets/b1/groups/g1", b'{"data": {"members": "bob"}}'),
        ("put", "/v1/buckets/b1/groups/g1", b'{"data": {"members": ["/buckets/b1/groups/g2"]}}'),
        ("put", "/v1/buckets/b1/groups/g1", b'{"data": {"members": ["system.Everyone"]}}'),
        ("put", "/v1/buckets/b1/collections/c1", b'{"data": {"schema": 12}}'),
        ("put", "/v1/buckets/b1/collections/c1", b'{"data": {"cache_expires": "soon"}}'),
        ("put", f"{RECORDS}/r1", b'{"data": {"id": "r2"}}'),
        ("put", f"{RECORDS}/r1", b'{"data": {"text": "nul \\u0000 inside"}}'),
        ("post", RECORDS, b'{"data": {"id": "not valid"}}'),
    ],
)
def test_invalid_bodies_are_400(app, collection, method, path, body):
    response = getattr(app, method)(
        path, body, headers={**ALICE, "Content-Type": "application/json"}, expect_errors=True
    )
    assert_error(response, 400)


@pytest.mark.parametrize(
    "query",
    ["_limit=abc", "_sort=a%20b", "_since=yesterday", "_token=garbage", "min_n=1&_fields=a@b", "lt_x=%00"],
)
def test_invalid_querystrings_are_400(app, collection, query):
    assert_error(app.get(f"{RECORDS}?{query}", headers=ALICE, expect_errors=True), 400)


@pytest.mark.parametrize("header", ["*x", "d", '"abc"', '"12", x'])
def test_invalid_preconditions_are_400(app, collection, put, header):
    put("/buckets/b1/collections/c1/records/r1")
    response = app.put_json(f"{RECORDS}/r1", {"data": {}}, headers={**ALICE, "If-Match": header}, expect_errors=True)
    assert_error(response, 400)


def test_if_match_on_the_permissions_endpoint_is_not_a_500(app):
    response = app.get("/v1/permissions", headers={**ALICE, "If-Match": '"0"'}, expect_errors=True)
    assert response.status_code < 500
    assert response.status_code != 404


@pytest.mark.parametrize(
    "path",
    [
        "/v1/buckets/b%00x",
        "/v1/buckets/b1/collections/c%00",
        f"{RECORDS}/r%00",
        "/v1/buckets/b1/groups/g%00",
        "/v1/buckets/-bad/collections",
        "/v1/buckets/b1/collections/-bad/records",
    ],
)
def test_impossible_ids_are_4xx(app, collection, path):
    response = app.get(path, headers=ALICE, expect_errors=True)
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


def test_nul_in_a_principal_is_400(app):
    body = {"data": {}, "permissions": {"read": [userid("bob") + "\x00"]}}
    assert_error(app.put_json("/v1/buckets/b1", body, headers=ALICE, expect_errors=True), 400)


def test_unknown_methods_are_405(app, collection):
    assert_error(app.post_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, expect_errors=True), 405, 115)


def test_a_wrong_content_type_is_415(app):
    response = app.put("/v1/buckets/b1", "data", headers={**ALICE, "Content-Type": "text/plain"}, expect_errors=True)
    assert_error(response, 415)


def test_a_batch_of_invalid_requests_answers_each_with_its_error(app, collection):
    responses = app.post_json(
        "/v1/batch",
        {
            "requests": [
                {"method": "PUT", "path": "/buckets/b1/collections/c1/records/r1", "body": {"data": {"a": 1}}},
                {"method": "PUT", "path": "/buckets/b1/groups/g1", "body": {"data": {"members": ["system.Everyone"]}}},
                {"method": "GET", "path": "/buckets/-bad"},
            ]
        },
        headers=ALICE,
    ).json["responses"]
    # As Kinto: reading a bucket nobody can have shared with alice is a 403 before its id is looked at.
    assert [response["status"] for response in responses] == [201, 400, 403]


# Each row was sent to Kinto 26.5.0 and to this server side by side (alice owns b1; bob has no access).
AS_KINTO = [
    (ALICE, "get", f"{RECORDS}/missing", 404, 110),
    (ALICE, "delete", f"{RECORDS}/missing", 404, 110),
    (ALICE, "get", "/v1/buckets/b1/collections/missing", 404, 110),
    (ALICE, "get", "/v1/buckets/b1/groups/missing", 404, 110),
    (ALICE, "get", "/v1/buckets/b1/collections/missing/records", 404, 111),
    (ALICE, "get", "/v2/buckets", 404, 116),
    (ALICE, "put", "/v1/buckets/n.o", 400, 107),
    (ALICE, "put", "/v1/buckets/b1/collections/n.o", 400, 107),
    (ALICE, "put", "/v1/buckets/b1/groups/n.o", 400, 107),
    (ALICE, "put", f"{RECORDS}/n.o", 400, 107),
    (ALICE, "get", "/v1/buckets/b1/collections/n.o", 400, 107),
    (ALICE, "get", "/v1/buckets/n.o", 403, 121),
    (ALICE, "delete", "/v1/buckets/n.o", 403, 121),
    (None, "put", "/v1/buckets/n.o", 401, 104),
    (BOB, "get", "/v1/buckets/b1/collections/n.o", 403, 121),
    (BOB, "put", f"{RECORDS}/n.o", 403, 121),
    (None, "get", f"{RECORDS}/n.o", 401, 104),
    (ALICE, "get", "/v1/buckets/b1/collections/n.o/records", 404, 111),
    (BOB, "get", "/v1/buckets/b1/collections/n.o/records", 403, 121),
    (ALICE, "get", "/v1/buckets/n.o/collections/c1/records", 403, 121),
    (ALICE, "put", "/v1/buckets/n.o/collections/c1", 404, 111),
]


@pytest.mark.parametrize(("user", "method", "path", "status", "errno"), AS_KINTO)
def test_missing_objects_and_invalid_ids_answer_kintos_status_and_errno(
    app, collection, user, method, path, status, errno
):
    headers = dict(user or {})
    if method == "put":
        response = app.put_json(path, {"data": {}}, headers=headers, expect_errors=True)
    else:
        response = getattr(app, method)(path, headers=headers, expect_errors=True)
    assert_error(response, status, errno)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"{RECORDS}/r1", b"{nope"),
        (f"{RECORDS}/r1", b'{"data": {"id": "r2"}}'),
        (RECORDS, b"[1"),
        (f"{RECORDS}/r1", b'{"data": {"id": null}}'),
    ],
)
def test_bodies_kinto_refuses_are_errno_107(app, collection, path, body):
    method = app.post if path == RECORDS else app.put
    response = method(path, body, headers={**ALICE, "Content-Type": "application/json"}, expect_errors=True)
    assert_error(response, 400, 107)
