"""An OAuth server that fails: 503 with Retry-After for what must be verified, the cache keeps users in."""

from __future__ import annotations

from typing import Any

import pytest

from kinto_fxa.testing import OAuthStandIn

from .conftest import CLIENT_ID, USER, FakeClock, bearer


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response.json["errno"] == 201
    assert int(response.headers["Retry-After"]) > 0


def test_an_unreachable_server_is_a_503_for_uncached_tokens(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    oauth_server.stop()
    assert_unavailable(app.get("/v1/protected", headers=bearer(token), status=503))


def test_cached_tokens_keep_working_until_their_ttl(
    make_fxa_app: Any, oauth_server: OAuthStandIn, cache_clock: FakeClock
) -> None:
    app = make_fxa_app(**{"fxa-oauth.cache_ttl_seconds": "60"})
    cached = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    fresh = oauth_server.issue_opaque_token("bob", "kinto", CLIENT_ID)
    app.get("/v1/protected", headers=bearer(cached))
    oauth_server.stop()
    cache_clock.advance(59)
    assert app.get("/v1/protected", headers=bearer(cached)).json == {"userid": f"fxa:{USER}"}
    assert_unavailable(app.get("/v1/protected", headers=bearer(fresh), status=503))
    cache_clock.advance(2)
    assert_unavailable(app.get("/v1/protected", headers=bearer(cached), status=503))


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_are_a_503(app: Any, oauth_server: OAuthStandIn, status: int) -> None:
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    oauth_server.fail_with(status)
    assert_unavailable(app.get("/v1/protected", headers=bearer(token), status=503))


def test_a_server_answering_garbage_is_a_503(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    oauth_server.fail_with(200)  # a 200 whose body is not a verification
    assert_unavailable(app.get("/v1/protected", headers=bearer(token), status=503))


def test_a_server_that_hangs_is_a_503_after_the_timeout(make_fxa_app: Any, oauth_server: OAuthStandIn) -> None:
    app = make_fxa_app(**{"fxa-oauth.requests_timeout_seconds": "0.2"})
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    oauth_server.stall(1.0)
    assert_unavailable(app.get("/v1/protected", headers=bearer(token), status=503))


def test_keys_that_cannot_be_fetched_are_a_503_for_jwts(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID)
    oauth_server.fail_with(503)
    assert_unavailable(app.get("/v1/protected", headers=bearer(token), status=503))


def test_known_keys_keep_verifying_jwts_while_the_server_is_down(app: Any, oauth_server: OAuthStandIn) -> None:
    first = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID)
    app.get("/v1/protected", headers=bearer(first))
    second = oauth_server.issue_jwt_token("bob", "kinto", CLIENT_ID)  # not cached, same key
    oauth_server.stop()
    assert app.get("/v1/protected", headers=bearer(second)).json == {"userid": "fxa:bob"}


def test_a_failing_server_leaves_anonymous_requests_alone(app: Any, oauth_server: OAuthStandIn) -> None:
    oauth_server.stop()
    assert app.get("/v1/public").json == {"userid": None}


def test_the_heartbeat_reports_the_oauth_server(app: Any, oauth_server: OAuthStandIn) -> None:
    assert app.get("/v1/__heartbeat__").json["oauth"] is True
    oauth_server.fail_with(500)
    response = app.get("/v1/__heartbeat__", status=503)
    assert response.json["oauth"] is False
    oauth_server.stop()
    assert app.get("/v1/__heartbeat__", status=503).json["oauth"] is False
