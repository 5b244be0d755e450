"""Item 15: Firefox Accounts tokens of other applications, and the login flow's secrets in logs.

* A client with no client id that requires only short scopes (``profile``,
  the default) accepts a token any Firefox Accounts application obtained for
  its users: the server refuses to start, naming the setting to fix. A client
  id, or a scope of this application alone (a URL scope, which Firefox
  Accounts grants only to the applications allowed it), is required; with the
  client id, another application's ``profile`` token is refused (401).
* ``GET /v1/fxa-oauth/token?code=...&state=...`` carries an authorization
  code and the login's state: neither reaches the request log, whatever the
  answer (302, 400, 408) and through the redirects too (trailing slash,
  version prefix).

Tokens come from the plugin's OAuth stand-in on 127.0.0.1, never the internet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pyramid.exceptions import ConfigurationError

from kinto_fxa.testing import OAuthStandIn

from .conftest import assert_error, backend_settings, build_app, close_app

CLIENT_ID = "c0ffee0000000001"
OTHER_CLIENT_ID = "0babe00000000002"
CLIENT_SECRET = "relier-secret"
USER = "f00d0000000000000000000000000003"
APP_SCOPE = "https://identity.mozilla.com/apps/kinto"


@pytest.fixture
def backend() -> str:
    return "memory"


@pytest.fixture
def oauth() -> Iterator[OAuthStandIn]:
    with OAuthStandIn() as server:
        server.register_client(CLIENT_ID, CLIENT_SECRET)
        yield server


def fxa_settings(oauth: OAuthStandIn, **overrides: str) -> dict[str, str]:
    settings = {
        "kinto.includes": "kinto_fxa",
        "multiauth.policies": "fxa",
        "multiauth.policy.fxa.use": "kinto_fxa.authentication.FxAOAuthAuthenticationPolicy",
        "fxa-oauth.oauth_uri": f"{oauth.url}/v1",
        "fxa-oauth.jwt_issuer": oauth.issuer,
        "fxa-oauth.client_secret": CLIENT_SECRET,
        "fxa-oauth.webapp.authorized_domains": "*.example.com",
    }
    return {**settings, **overrides}


def refused_start(settings: dict[str, str]) -> ConfigurationError:
    """The ConfigurationError the server raises instead of starting on ``settings``."""
    try:
        app = build_app({**backend_settings("memory", None), **settings})
    except ConfigurationError as error:
        return error
    close_app(app)
    raise AssertionError("the server started")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- tokens of other applications -------------------------------------------------------------


@pytest.mark.parametrize("scope", ["profile", "profile openid", "profile:email", ""])
def test_no_client_id_and_short_scopes_refuse_to_start(oauth: OAuthStandIn, scope: str) -> None:
    error = refused_start(fxa_settings(oauth, **{"fxa-oauth.required_scope": scope}))
    assert "'fxa-oauth.client_id'" in str(error)


def test_the_defaults_refuse_to_start(oauth: OAuthStandIn) -> None:
    """The plugin's defaults are an empty client id and ``profile``."""
    assert "'fxa-oauth.client_id'" in str(refused_start(fxa_settings(oauth)))


def test_a_named_client_without_id_and_short_scopes_refuses_to_start(oauth: OAuthStandIn) -> None:
    settings = fxa_settings(
        oauth, **{"fxa-oauth.client_id": CLIENT_ID, "fxa-oauth.clients.notes.required_scope": "profile:email"}
    )
    assert "'fxa-oauth.clients.notes.client_id'" in str(refused_start(settings))


def test_a_client_id_tells_this_application_apart(make_app: Any, oauth: OAuthStandIn) -> None:
    refused_start(fxa_settings(oauth, **{"fxa-oauth.required_scope": "profile"}))

    app = make_app(fxa_settings(oauth, **{"fxa-oauth.client_id": CLIENT_ID, "fxa-oauth.required_scope": "profile"}))
    ours = oauth.issue_jwt_token(USER, scope="profile", client_id=CLIENT_ID)
    assert app.get("/v1/", headers=bearer(ours)).json["user"]["id"] == f"fxa:{USER}"
    for token in (
        oauth.issue_jwt_token(USER, scope="profile", client_id=OTHER_CLIENT_ID),
        oauth.issue_opaque_token(USER, scope="profile", client_id=OTHER_CLIENT_ID),
    ):
        assert "user" not in app.get("/v1/", headers=bearer(token)).json
        assert_error(app.get("/v1/buckets", headers=bearer(token), expect_errors=True), 401, 104)


def test_without_a_client_id_only_a_scope_of_this_application_will_do(make_app: Any, oauth: OAuthStandIn) -> None:
    refused_start(fxa_settings(oauth, **{"fxa-oauth.required_scope": "profile"}))

    app = make_app(fxa_settings(oauth, **{"fxa-oauth.required_scope": APP_SCOPE}))
    token = oauth.issue_jwt_token(USER, scope=f"profile {APP_SCOPE}", client_id=OTHER_CLIENT_ID)
    assert app.get("/v1/", headers=bearer(token)).json["user"]["id"] == f"fxa:{USER}"
    profile_only = oauth.issue_jwt_token(USER, scope="profile", client_id=OTHER_CLIENT_ID)
    assert "user" not in app.get("/v1/", headers=bearer(profile_only)).json


# --- the login flow's code and state in the request log --------------------------------------


@pytest.fixture
def relier(make_app: Any, oauth: OAuthStandIn) -> Any:
    return make_app(fxa_settings(oauth, **{"fxa-oauth.client_id": CLIENT_ID, "fxa-oauth.required_scope": "profile"}))


def login(app: Any, oauth: OAuthStandIn) -> tuple[str, str]:
    """Start a login and approve it at the OAuth server: the ``(code, state)`` the browser brings back."""
    response = app.get("/v1/fxa-oauth/login", params={"redirect": "https://app.example.com/#"}, status=302)
    query = {key: values[0] for key, values in parse_qs(urlsplit(response.location).query).items()}
    authorize = requests.get(f"{oauth.url}/v1/authorization", params=query, allow_redirects=False, timeout=5)
    callback = parse_qs(urlsplit(authorize.headers["Location"]).query)
    return callback["code"][0], callback["state"][0]


def logged(caplog: Any) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_a_successful_login_logs_neither_code_nor_state(relier: Any, oauth: OAuthStandIn, caplog: Any) -> None:
    code, state = login(relier, oauth)
    with caplog.at_level(logging.DEBUG):
        relier.get("/v1/fxa-oauth/login", params={"redirect": "https://app.example.com/#"}, status=302)
        response = relier.get("/v1/fxa-oauth/token", params={"code": code, "state": state}, status=302)
    assert response.location.startswith("https://app.example.com/#")
    summaries = [record.getMessage() for record in caplog.records if record.name == "request.summary"]
    assert any("/v1/fxa-oauth/token" in line for line in summaries)
    # Other parameters are logged as sent.
    assert any("/v1/fxa-oauth/login" in line and "app.example.com" in line for line in summaries)
    assert code not in logged(caplog)
    assert state not in logged(caplog)


def test_failed_logins_log_neither_code_nor_state(relier: Any, oauth: OAuthStandIn, caplog: Any) -> None:
    code, state = login(relier, oauth)
    other_code, other_state = login(relier, oauth)
    with caplog.at_level(logging.DEBUG):
        relier.get("/v1/fxa-oauth/token", params={"code": "not-" + code, "state": state}, status=400)
        relier.get("/v1/fxa-oauth/token", params={"code": code, "state": state}, status=408)  # used once
        # Spelled otherwise: the view does not read them, the log still must not show them.
        relier.get(f"/v1/fxa-oauth/token?CODE={other_code}&%73tate={other_state}", status=400)
    for secret in (code, state, other_code, other_state):
        assert secret not in logged(caplog)


@pytest.mark.parametrize("path", ["/v1/fxa-oauth/token/", "/fxa-oauth/token"])
def test_redirects_log_neither_code_nor_state(relier: Any, oauth: OAuthStandIn, caplog: Any, path: str) -> None:
    code, state = login(relier, oauth)
    with caplog.at_level(logging.DEBUG):
        response = relier.get(path, params={"code": code, "state": state})
    assert response.status_code in (301, 302, 307, 308)
    summaries = [record.getMessage() for record in caplog.records if record.name == "request.summary"]
    assert summaries
    assert code not in logged(caplog)
    assert state not in logged(caplog)
