"""Firefox Accounts users on the Kinto server (kinto-server + kinto-fxa together).

The server runs with ``kinto.includes = kinto_fxa`` against the plugin's OAuth
stand-in (``kinto_fxa.testing.OAuthStandIn``, an authlib server on a free port
of 127.0.0.1), which issues the users' tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from kinto.core.testing import basic_auth_header
from kinto.server import main
from kinto_fxa.testing import OAuthStandIn

CLIENT_ID = "f1e2d3c4b5a69788"
CLIENT_SECRET = "integration-secret"
SCOPE = "https://identity.mozilla.com/apps/kinto"
ALICE_UID = "a11ce000000000000000000000000001"
BOB_UID = "b0b00000000000000000000000000002"


@pytest.fixture
def oauth() -> Iterator[OAuthStandIn]:
    with OAuthStandIn() as server:
        server.register_client(CLIENT_ID, CLIENT_SECRET)
        yield server


@pytest.fixture
def app(oauth: OAuthStandIn, tmp_path: Any) -> Iterator[webtest.TestApp]:
    url = f"sqlite:///{tmp_path}/kinto.sqlite"
    settings = {
        "kinto.includes": "kinto_fxa",
        "multiauth.policies": "fxa basicauth",
        "multiauth.policy.fxa.use": "kinto_fxa.authentication.FxAOAuthAuthenticationPolicy",
        "kinto.userid_hmac_secret": "fxa-integration",
        "kinto.storage_backend": "kinto.core.storage.sqlite",
        "kinto.storage_url": url,
        "kinto.permission_backend": "kinto.core.permission.sqlite",
        "kinto.permission_url": url,
        "kinto.cache_backend": "kinto.core.cache.memory",
        "fxa-oauth.oauth_uri": f"{oauth.url}/v1",
        "fxa-oauth.jwt_issuer": oauth.issuer,
        "fxa-oauth.client_id": CLIENT_ID,
        "fxa-oauth.client_secret": CLIENT_SECRET,
        "fxa-oauth.required_scope": SCOPE,
    }
    wsgi = main({}, **settings)
    for kind in ("storage", "permission", "cache"):
        getattr(wsgi.registry, kind).initialize_schema()
    yield webtest.TestApp(wsgi)
    from kinto.core.backends import close_backends

    close_backends(wsgi.registry)


def bearer(oauth: OAuthStandIn, uid: str, scope: str = SCOPE) -> dict[str, str]:
    return {"Authorization": f"Bearer {oauth.issue_jwt_token(uid, scope, CLIENT_ID)}"}


def test_the_server_announces_fxa_and_knows_the_user(app, oauth):
    body = app.get("/v1/", headers=bearer(oauth, ALICE_UID)).json
    assert "fxa" in body["capabilities"]
    assert body["user"]["id"] == f"fxa:{ALICE_UID}"


def test_an_fxa_user_creates_a_bucket_and_records_another_cannot_read(app, oauth):
    alice, bob = bearer(oauth, ALICE_UID), bearer(oauth, BOB_UID)
    created = app.put_json("/v1/buckets/notes", {"data": {}}, headers=alice, status=201).json
    assert created["permissions"]["write"] == [f"fxa:{ALICE_UID}"]
    app.put_json("/v1/buckets/notes/collections/todo", {"data": {}}, headers=alice, status=201)
    record = app.post_json(
        "/v1/buckets/notes/collections/todo/records", {"data": {"text": "buy milk"}}, headers=alice, status=201
    ).json["data"]
    path = f"/v1/buckets/notes/collections/todo/records/{record['id']}"
    assert app.get(path, headers=alice).json["data"]["text"] == "buy milk"
    assert app.get(path, headers=bob, status=403).json["errno"] == 121
    app.get("/v1/buckets/notes/collections/todo/records", headers=bob, status=403)
    assert app.get("/v1/buckets", headers=bob).json["data"] == []
    assert [b["id"] for b in app.get("/v1/buckets", headers=alice).json["data"]] == ["notes"]


def test_an_fxa_user_shares_with_another_fxa_user(app, oauth):
    alice, bob = bearer(oauth, ALICE_UID), bearer(oauth, BOB_UID)
    app.put_json("/v1/buckets/shared", {"data": {}, "permissions": {"read": [f"fxa:{BOB_UID}"]}}, headers=alice)
    app.put_json("/v1/buckets/shared/collections/c", {"data": {}}, headers=alice)
    app.put_json("/v1/buckets/shared/collections/c/records/r", {"data": {"n": 1}}, headers=alice)
    assert app.get("/v1/buckets/shared/collections/c/records/r", headers=bob).json["data"]["n"] == 1
    app.put_json("/v1/buckets/shared/collections/c/records/r", {"data": {"n": 2}}, headers=bob, status=403)


def test_fxa_and_basic_auth_users_are_different_users(app, oauth):
    app.put_json("/v1/buckets/fxa-only", {"data": {}}, headers=bearer(oauth, ALICE_UID), status=201)
    app.get("/v1/buckets/fxa-only", headers=basic_auth_header("alice", "secret"), status=403)


def test_a_token_without_the_kinto_scope_cannot_write(app, oauth):
    response = app.put_json("/v1/buckets/b", {"data": {}}, headers=bearer(oauth, ALICE_UID, "profile"), status=401)
    challenges = response.headers.getall("WWW-Authenticate")
    assert any('error="insufficient_scope"' in challenge for challenge in challenges)


def test_an_unreachable_oauth_server_is_a_503_not_a_500(app, oauth):
    token = oauth.issue_opaque_token(ALICE_UID, SCOPE, CLIENT_ID)
    oauth.stop()
    response = app.put_json(
        "/v1/buckets/b", {"data": {}}, headers={"Authorization": f"Bearer {token}"}, expect_errors=True
    )
    assert response.status_code == 503
    assert "Retry-After" in response.headers
