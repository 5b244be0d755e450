"""The verification cache: hits, TTLs bounded by the token's expiry, keys that tell configurations apart."""

from __future__ import annotations

from typing import Any

from kinto.core.cache.memory import Cache

from kinto_fxa.authentication import token_verifier
from kinto_fxa.testing import OAuthStandIn

from .conftest import CLIENT_ID, USER, FakeClock, bearer


def test_a_verified_token_is_not_verified_again(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    for _ in range(3):
        app.get("/v1/protected", headers=bearer(token))
    assert oauth_server.hits["/v1/verify"] == 1


def test_a_refused_token_is_not_cached(app: Any, oauth_server: OAuthStandIn) -> None:
    for _ in range(2):
        app.get("/v1/protected", headers=bearer("0" * 64), status=401)
    assert oauth_server.hits["/v1/verify"] == 2


def test_the_cache_ttl_follows_the_setting(make_fxa_app: Any, oauth_server: OAuthStandIn) -> None:
    app = make_fxa_app(**{"fxa-oauth.cache_ttl_seconds": "42"})
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    app.get("/v1/protected", headers=bearer(token))
    registry = app.app.registry
    assert 0 < registry.cache.ttl(token_verifier(registry).cache_key(token)) <= 42


def test_the_cache_never_outlives_the_token(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID, expires_in=7)
    app.get("/v1/protected", headers=bearer(token))
    registry = app.app.registry
    assert 0 < registry.cache.ttl(token_verifier(registry).cache_key(token)) <= 7


def test_the_cache_key_hashes_the_token(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    key = token_verifier(app.app.registry).cache_key(token)
    assert token not in key


def test_applications_requiring_other_scopes_do_not_share_verifications(
    make_fxa_app: Any, oauth_server: OAuthStandIn
) -> None:
    shared = Cache(clock=FakeClock())
    lenient = make_fxa_app(**{"fxa_tests.cache": shared, "fxa-oauth.required_scope": "profile"})
    strict = make_fxa_app(**{"fxa_tests.cache": shared, "fxa-oauth.required_scope": "kinto"})
    token = oauth_server.issue_opaque_token(USER, "profile", CLIENT_ID)
    assert lenient.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}
    strict.get("/v1/protected", headers=bearer(token), status=401)


def test_batch_subrequests_share_one_verification(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    app.app.registry.cache.flush()
    body = {"requests": [{"method": "GET", "path": "/protected"}] * 3}
    response = app.post_json("/v1/batch", body, headers=bearer(token))
    assert [sub["status"] for sub in response.json["responses"]] == [200, 200, 200]
    assert {sub["body"]["userid"] for sub in response.json["responses"]} == {f"fxa:{USER}"}
    assert oauth_server.hits["/v1/verify"] == 1
