"""The login flow: params, login (state, authorized redirects), token (single-use state, code exchange)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from kinto.core.testing import make_wsgi_app

from kinto_fxa.testing import OAuthStandIn

from .conftest import CLIENT_ID, USER, bearer, include_test_views


def login_redirect(app: Any, redirect: str = "https://app.example.com/#") -> dict[str, str]:
    response = app.get("/v1/fxa-oauth/login", params={"redirect": redirect}, status=302)
    return {key: values[0] for key, values in parse_qs(urlsplit(response.location).query).items()}


def test_params_tell_how_to_start_the_flow(app: Any, oauth_server: OAuthStandIn) -> None:
    assert app.get("/v1/fxa-oauth/params").json == {
        "client_id": CLIENT_ID,
        "oauth_uri": f"{oauth_server.url}/v1",
        "scope": "profile kinto",
    }


def test_login_sends_the_browser_to_the_authorization_page(app: Any, oauth_server: OAuthStandIn) -> None:
    response = app.get("/v1/fxa-oauth/login", params={"redirect": "https://app.example.com/#"}, status=302)
    assert response.location.startswith(f"{oauth_server.url}/v1/authorization?")
    query = login_redirect(app)
    assert query["client_id"] == CLIENT_ID
    assert query["scope"] == "profile kinto"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://localhost/v1/fxa-oauth/token"
    assert len(query["state"]) >= 32


def test_each_login_gets_its_own_state(app: Any) -> None:
    assert login_redirect(app)["state"] != login_redirect(app)["state"]


def test_login_requires_a_redirect(app: Any) -> None:
    response = app.get("/v1/fxa-oauth/login", status=400)
    assert response.json["details"][0]["name"] == "redirect"


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.com/#",
        "https://app.example.com.evil.com/",
        "javascript:alert(1)//app.example.com",
        "https://app.example.com@evil.com/",
        "//app.example.com/",
        "https://evil.com\\@app.example.com/",
    ],
)
def test_login_refuses_redirects_outside_the_authorized_domains(app: Any, redirect: str) -> None:
    response = app.get("/v1/fxa-oauth/login", params={"redirect": redirect}, status=400)
    assert response.json["errno"] == 107
    assert response.json["details"][0]["name"] == "redirect"


def test_login_refuses_unknown_clients(app: Any) -> None:
    params = {"redirect": "https://app.example.com/#", "client_id": "unknown"}
    assert app.get("/v1/fxa-oauth/login", params=params, status=400).json["details"][0]["name"] == "client_id"


def test_an_unknown_state_means_logging_in_again(app: Any) -> None:
    response = app.get("/v1/fxa-oauth/token", params={"code": "abc", "state": "never-issued"}, status=408)
    assert response.json["errno"] == 104


def test_a_state_expires(app: Any, cache_clock: Any) -> None:
    state = login_redirect(app)["state"]
    cache_clock.advance(3601)
    app.get("/v1/fxa-oauth/token", params={"code": "abc", "state": state}, status=408)


def test_a_code_the_server_refuses_is_a_400(app: Any) -> None:
    state = login_redirect(app)["state"]
    response = app.get("/v1/fxa-oauth/token", params={"code": "forged", "state": state}, status=400)
    assert response.json["details"][0]["name"] == "code"


def test_a_state_is_used_once(app: Any) -> None:
    state = login_redirect(app)["state"]
    app.get("/v1/fxa-oauth/token", params={"code": "forged", "state": state}, status=400)
    app.get("/v1/fxa-oauth/token", params={"code": "forged", "state": state}, status=408)


def test_the_code_is_traded_with_the_client_secret(app: Any, oauth_server: OAuthStandIn) -> None:
    query = login_redirect(app)
    authorize = requests.get(f"{oauth_server.url}/v1/authorization", params=query, allow_redirects=False)
    callback = parse_qs(urlsplit(authorize.headers["Location"]).query)
    response = app.get(
        "/v1/fxa-oauth/token", params={"code": callback["code"][0], "state": callback["state"][0]}, status=302
    )
    assert response.location.startswith("https://app.example.com/#")
    token = response.location.split("#", 1)[1]
    assert app.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}


def test_a_failing_server_during_the_exchange_is_a_503(app: Any, oauth_server: OAuthStandIn) -> None:
    state = login_redirect(app)["state"]
    oauth_server.fail_with(502)
    response = app.get("/v1/fxa-oauth/token", params={"code": "abc", "state": state}, status=503)
    assert "Retry-After" in response.headers


def test_the_relier_endpoints_can_be_disabled(make_fxa_app: Any) -> None:
    app = make_fxa_app(**{"fxa-oauth.relier.enabled": "false"})
    app.get("/v1/fxa-oauth/login", params={"redirect": "https://app.example.com/#"}, status=404)
    app.get("/v1/fxa-oauth/params")


@pytest.fixture
def served_kinto(fxa_settings: dict[str, Any]) -> Iterator[str]:
    """The application served over HTTP on 127.0.0.1, for a real HTTP client."""

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, make_wsgi_app(fxa_settings, [include_test_views]), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_full_login_flow_through_redirects(served_kinto: str, oauth_server: OAuthStandIn) -> None:
    webapp = f"{oauth_server.url}/webapp#token="
    with requests.Session() as browser:
        landing = browser.get(f"{served_kinto}/v1/fxa-oauth/login", params={"redirect": webapp}, timeout=10)
        assert landing.status_code == 200
        assert landing.text == "You are signed in."
        hops = [urlsplit(step.headers["Location"]) for step in landing.history]
        assert [hop.path for hop in hops] == ["/v1/authorization", "/v1/fxa-oauth/token", "/webapp"]
        token = hops[-1].fragment.removeprefix("token=")
        whoami = browser.get(f"{served_kinto}/v1/protected", headers=bearer(token), timeout=10)
    assert whoami.json() == {"userid": f"fxa:{USER}"}


def test_a_user_refusing_consent_gets_no_token(served_kinto: str, oauth_server: OAuthStandIn) -> None:
    oauth_server.signed_in_user = None
    with requests.Session() as browser:
        response = browser.get(
            f"{served_kinto}/v1/fxa-oauth/login", params={"redirect": f"{oauth_server.url}/webapp#"}, timeout=10
        )
    assert response.status_code == 400
    assert response.json()["details"][0]["name"] == "code"
