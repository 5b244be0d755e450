"""kinto.plugins.default_bucket through HTTP, on every backend: ``/buckets/default`` is the caller's own bucket."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

import pytest
from kinto.core.events import ResourceChanged

from .conftest import ALICE, BOB, SECRET, backend_settings, build_app, close_clients, userid

PLUGIN_SETTINGS = {
    "kinto.includes": "kinto.plugins.default_bucket",
    # Nobody may create buckets: personal buckets are created all the same, as in Kinto.
    "kinto.bucket_create_principals": "account:admin",
}


@pytest.fixture(scope="module")
def extra_settings() -> dict[str, Any]:
    return PLUGIN_SETTINGS


def personal_bucket(name: str, secret: str = "") -> str:
    """The id Kinto 26.5 gives ``name``'s bucket: a UUID of the HMAC of the user id (empty key unless set)."""
    digest = hmac.new(secret.encode(), userid(name).encode(), hashlib.sha256).hexdigest()
    return str(uuid.UUID(digest[:32]))


def records_of(app: Any, headers: dict[str, str], collection: str = "tasks") -> list[Any]:
    return app.get(f"/v1/buckets/default/collections/{collection}/records", headers=headers).json["data"]


# --- the alias -------------------------------------------------------------------------------------


def test_the_root_names_the_callers_bucket_and_the_capability(app):
    root = app.get("/v1/", headers=ALICE).json
    assert root["user"]["bucket"] == personal_bucket("alice")
    assert root["user"]["id"] == userid("alice")
    assert "default_bucket" in root["capabilities"]
    assert "user" not in app.get("/v1/").json


def test_anonymous_callers_are_asked_to_authenticate(app):
    for path in ("/v1/buckets/default", "/v1/buckets/default/collections/tasks/records"):
        response = app.get(path, status=401)
        assert response.json["errno"] == 104
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_the_alias_serves_the_bucket_of_its_real_id(app):
    created = app.post_json(
        "/v1/buckets/default/collections/tasks/records", {"data": {"title": "x"}}, headers=ALICE, status=201
    ).json["data"]
    real = f"/v1/buckets/{personal_bucket('alice')}/collections/tasks/records"
    assert app.get(real, headers=ALICE).json["data"] == [created]
    assert app.get(f"/v1/buckets/{personal_bucket('alice')}", headers=ALICE).json["data"]["id"] == personal_bucket(
        "alice"
    )


def test_each_user_has_a_bucket_of_their_own(app):
    app.put_json("/v1/buckets/default/collections/tasks/records/r1", {"data": {"who": "alice"}}, headers=ALICE)
    app.put_json("/v1/buckets/default/collections/tasks/records/r1", {"data": {"who": "bob"}}, headers=BOB)
    assert [record["who"] for record in records_of(app, ALICE)] == ["alice"]
    assert [record["who"] for record in records_of(app, BOB)] == ["bob"]
    app.get(f"/v1/buckets/{personal_bucket('alice')}/collections/tasks/records", headers=BOB, status=403)


# --- implicit creation -----------------------------------------------------------------------------


def test_a_first_read_creates_the_bucket_and_the_collection_owned_by_the_caller(app):
    assert records_of(app, ALICE) == []
    bucket = app.get(f"/v1/buckets/{personal_bucket('alice')}", headers=ALICE).json
    collection = app.get(f"/v1/buckets/{personal_bucket('alice')}/collections/tasks", headers=ALICE).json
    assert bucket["permissions"] == {"write": [userid("alice")]}
    assert collection["permissions"] == {"write": [userid("alice")]}
    # Though bucket_create_principals names nobody she is: the default bucket is every user's.
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, status=403)


def test_groups_and_other_paths_create_the_bucket_only(app):
    app.put_json("/v1/buckets/default/groups/g1", {"data": {"members": []}}, headers=ALICE, status=201)
    assert app.get("/v1/buckets/default/collections", headers=ALICE).json["data"] == []


def test_creations_are_announced_like_any_other(app, events):
    app.post_json("/v1/buckets/default/collections/tasks/records", {"data": {}}, headers=ALICE, status=201)
    assert [(action, name) for action, name, _ in events.summary()] == [
        ("create", "bucket"),
        ("create", "collection"),
        ("create", "record"),
    ]
    bucket_id = personal_bucket("alice")
    changed = {event.payload["resource_name"]: event for event in events.of(ResourceChanged)}
    assert changed["bucket"].payload["uri"] == f"/buckets/{bucket_id}"
    assert changed["bucket"].payload["bucket_id"] == bucket_id
    assert changed["bucket"].payload["user_id"] == userid("alice")
    assert changed["bucket"].impacted_objects[0]["new"]["id"] == bucket_id
    assert changed["collection"].payload["uri"] == f"/buckets/{bucket_id}/collections/tasks"
    assert changed["collection"].payload["collection_id"] == "tasks"
    assert changed["record"].payload["bucket_id"] == bucket_id
    events.clear()
    app.post_json("/v1/buckets/default/collections/tasks/records", {"data": {}}, headers=ALICE, status=201)
    assert [name for _, name, _ in events.summary()] == ["record"]


def test_putting_a_collection_creates_it_once(app, events):
    app.put_json("/v1/buckets/default/collections/notes", {"data": {"n": 1}}, headers=ALICE, status=201)
    assert events.summary() == [("create", "bucket", [personal_bucket("alice")]), ("create", "collection", ["notes"])]


def test_a_body_may_name_the_bucket_default(app):
    app.get("/v1/buckets/default", headers=ALICE)
    updated = app.put_json("/v1/buckets/default", {"data": {"id": "default", "title": "mine"}}, headers=ALICE).json
    assert (updated["data"]["id"], updated["data"]["title"]) == (personal_bucket("alice"), "mine")


def test_putting_the_bucket_first_needs_bucket_create_as_in_kinto(app):
    # The PUT itself would create the bucket: it is not created implicitly, and creating needs the permission.
    app.put_json("/v1/buckets/default", {"data": {}}, headers=ALICE, status=403)


def test_a_deleted_bucket_comes_back_empty_on_next_use(app):
    app.put_json("/v1/buckets/default/collections/tasks/records/r1", {"data": {}}, headers=ALICE)
    assert app.delete("/v1/buckets/default", headers=ALICE).json["data"]["deleted"] is True
    app.get("/v1/buckets/default/collections/tasks/records/r1", headers=ALICE, status=404)
    assert records_of(app, ALICE) == []


def test_a_batch_creates_what_its_requests_need_once(app, events):
    body = {
        "defaults": {"method": "PUT"},
        "requests": [
            {"path": "/buckets/default/collections/c1/records/a", "body": {"data": {"v": 1}}},
            {"path": "/buckets/default/collections/c2/records/b", "body": {"data": {"v": 2}}},
            {"path": "/buckets/default/collections/c2/records/c", "body": {"data": {"v": 3}}},
            {"method": "GET", "path": "/buckets/default/collections/c2/records"},
        ],
    }
    responses = app.post_json("/v1/batch", body, headers=ALICE).json["responses"]
    assert [response["status"] for response in responses] == [201, 201, 201, 200]
    assert responses[0]["path"] == "/v1/buckets/default/collections/c1/records/a"
    assert sorted(record["id"] for record in responses[3]["body"]["data"]) == ["b", "c"]
    assert sorted((name, tuple(ids)) for action, name, ids in events.summary() if name != "record") == [
        ("bucket", (personal_bucket("alice"),)),
        ("collection", ("c1", "c2")),
    ]


# --- the rest of the request goes through ----------------------------------------------------------


def test_query_strings_and_headers_reach_the_real_bucket(app):
    for index in range(3):
        app.put_json(f"/v1/buckets/default/collections/tasks/records/r{index}", {"data": {"n": index}}, headers=ALICE)
    page = app.get("/v1/buckets/default/collections/tasks/records?_sort=n&_limit=2", headers=ALICE)
    assert [record["n"] for record in page.json["data"]] == [0, 1]
    assert "_limit=2" in page.headers["Next-Page"]
    etag = page.headers["ETag"]
    app.get("/v1/buckets/default/collections/tasks/records", headers={**ALICE, "If-None-Match": etag}, status=304)


def test_client_errors_are_answered_in_kintos_format(app):
    invalid = app.get("/v1/buckets/default/collections/--bad/records", headers=ALICE, status=400).json
    assert (invalid["errno"], invalid["message"]) == (107, "path: Invalid collection id")
    bad_json = app.post(
        "/v1/buckets/default/collections/tasks/records",
        "{not json",
        headers={**ALICE, "Content-Type": "application/json"},
        status=400,
    ).json
    assert bad_json["errno"] == 107
    app.get("/v1/buckets/default/collections/tasks/records/missing", headers=ALICE, status=404)


def test_a_trailing_slash_redirects_to_the_alias(app):
    response = app.get("/v1/buckets/default/collections/", headers=ALICE, status=307)
    assert response.headers["Location"].endswith("/v1/buckets/default/collections")


# --- settings --------------------------------------------------------------------------------------


@pytest.fixture
def app_with(backend, tmp_path_factory):
    """``app_with(**settings)``: an application of the plugin on ``backend`` with more settings."""
    built = []

    def build(**settings: str) -> Any:
        folder = tmp_path_factory.mktemp("default-bucket")
        app = build_app({**backend_settings(backend, folder), **PLUGIN_SETTINGS, **settings})
        built.append(app)
        return app

    yield build
    for app in built:
        close_clients(app)


def test_the_hmac_secret_setting_keys_the_bucket_ids(app_with):
    app = app_with(**{"kinto.default_bucket_hmac_secret": "another-secret"})
    assert app.get("/v1/", headers=ALICE).json["user"]["bucket"] == personal_bucket("alice", "another-secret")
    assert personal_bucket("alice", "another-secret") != personal_bucket("alice", SECRET)


def test_a_read_only_server_has_no_default_bucket(app_with):
    app = app_with(**{"kinto.readonly": "true"})
    for method in ("get", "delete"):
        response = getattr(app, method)("/v1/buckets/default/collections/tasks/records", headers=ALICE, status=405)
        assert response.json["errno"] == 115
