"""Against a real Firefox Accounts OAuth server, when ``FXA_OAUTH_URI`` is set (skipped otherwise).

``FXA_OAUTH_URI=https://oauth.accounts.firefox.com/v1`` checks what needs no account: the
heartbeat, the published keys, and that made-up tokens are refused (not a 503). With
``FXA_TEST_TOKEN`` (a valid access token) and ``FXA_TEST_SCOPE`` (one of its scopes) the token
must let its user in, and ``FXA_TEST_CLIENT_ID`` names the client it was issued to (a client id is
required with short scopes such as ``profile``); ``FXA_JWT_ISSUER`` overrides the expected issuer.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from kinto.core.testing import make_app

from .conftest import bearer, include_test_views

FXA_OAUTH_URI = os.environ.get("FXA_OAUTH_URI", "")

pytestmark = pytest.mark.skipif(not FXA_OAUTH_URI, reason="FXA_OAUTH_URI is not set: no real Firefox Accounts server")


@pytest.fixture
def app() -> Any:
    settings = {
        "includes": "kinto_fxa",
        "multiauth.policies": "fxa",
        "multiauth.policy.fxa.use": "kinto_fxa.authentication.FxAOAuthAuthenticationPolicy",
        "fxa-oauth.oauth_uri": FXA_OAUTH_URI,
        "fxa-oauth.required_scope": os.environ.get("FXA_TEST_SCOPE", "profile"),
        # Checks without a token need some client id; a real token needs its own.
        "fxa-oauth.client_id": os.environ.get("FXA_TEST_CLIENT_ID", "kinto-fxa-tests"),
    }
    if os.environ.get("FXA_JWT_ISSUER"):
        settings["fxa-oauth.jwt_issuer"] = os.environ["FXA_JWT_ISSUER"]
    return make_app(settings, [include_test_views])


def test_the_heartbeat_reaches_the_server(app: Any) -> None:
    assert app.get("/v1/__heartbeat__", expect_errors=True).json["oauth"] is True


def test_made_up_tokens_are_refused(app: Any) -> None:
    app.get("/v1/protected", headers=bearer("0" * 64), status=401)


@pytest.mark.skipif(
    not (os.environ.get("FXA_TEST_TOKEN") and os.environ.get("FXA_TEST_CLIENT_ID")),
    reason="FXA_TEST_TOKEN or FXA_TEST_CLIENT_ID is not set",
)
def test_a_real_token_lets_its_user_in(app: Any) -> None:
    userid = app.get("/v1/protected", headers=bearer(os.environ["FXA_TEST_TOKEN"])).json["userid"]
    assert userid.startswith("fxa:")
