"""kinto.plugins.openid through HTTP on every backend, against OpenID providers the tests start on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
import webtest
from pyramid.exceptions import ConfigurationError

from kinto.plugins.openid.testing import OIDCStandIn

from .conftest import ALICE, backend_settings, build_app, close_clients, flush, needs_application_in_process

CALLBACK = "http://localhost:3000/#tokens="


@pytest.fixture
def provider() -> Iterator[OIDCStandIn]:
    with OIDCStandIn() as standin:
        standin.register_client("kinto-client", "kinto-secret")
        standin.add_user("alice-sub", email="alice@example.com", name="Alice")
        yield standin


def policy_settings(name: str, provider: OIDCStandIn, **options: str) -> dict[str, str]:
    settings = {
        f"multiauth.policy.{name}.use": "kinto.plugins.openid.OpenIDConnectPolicy",
        f"multiauth.policy.{name}.issuer": provider.issuer,
        f"multiauth.policy.{name}.client_id": "kinto-client",
        f"multiauth.policy.{name}.client_secret": "kinto-secret",
    }
    settings.update({f"multiauth.policy.{name}.{key}": value for key, value in options.items()})
    return settings


@pytest.fixture
def make_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    needs_application_in_process("settings of its own")
    apps: list[webtest.TestApp] = []

    def make(settings: dict[str, Any]) -> webtest.TestApp:
        app = build_app(
            {
                **backend_settings(backend, tmp_path_factory.mktemp("openid")),
                "kinto.includes": "kinto.plugins.openid",
                **settings,
            }
        )
        flush(app)
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_clients(app)


@pytest.fixture
def app(make_app: Any, provider: OIDCStandIn) -> webtest.TestApp:
    return make_app({"multiauth.policies": "oidc basicauth", **policy_settings("oidc", provider)})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the policy ------------------------------------------------------------------------------------


def test_a_bearer_token_is_verified_by_the_provider_and_identifies_the_user(app, provider):
    token = provider.issue_token("alice-sub")
    root = app.get("/v1/", headers=bearer(token)).json
    assert root["user"]["id"] == "oidc:alice-sub"
    assert root["user"]["profile"] == {"sub": "alice-sub", "email": "alice@example.com", "name": "Alice"}
    # A real identity: the user creates a bucket of its own.
    bucket = app.put_json("/v1/buckets/b1", {"data": {}}, headers=bearer(token), status=201).json
    assert bucket["permissions"]["write"] == ["oidc:alice-sub"]
    # Basic Auth users keep working, with an empty profile.
    assert app.get("/v1/", headers=ALICE).json["user"]["profile"] == {}


def test_the_user_id_comes_from_userid_field(make_app, provider):
    app = make_app({"multiauth.policies": "google", **policy_settings("google", provider, userid_field="email")})
    token = provider.issue_token("alice-sub")
    assert app.get("/v1/", headers=bearer(token)).json["user"]["id"] == "google:alice@example.com"


def test_verifications_are_cached_for_verification_ttl_seconds(make_app, provider):
    app = make_app({"multiauth.policies": "oidc", **policy_settings("oidc", provider)})
    token = provider.issue_token("alice-sub")
    for _ in range(3):
        assert app.get("/v1/", headers=bearer(token)).json["user"]["id"] == "oidc:alice-sub"
    assert provider.hits["/userinfo"] == 1
    # The cached verification outlives what the provider knows, for the TTL (as in Kinto).
    provider.revoke(token)
    assert app.get("/v1/", headers=bearer(token)).json["user"]["id"] == "oidc:alice-sub"

    uncached = make_app(
        {"multiauth.policies": "oidc", **policy_settings("oidc", provider, verification_ttl_seconds="0")}
    )
    other = provider.issue_token("alice-sub")
    for _ in range(2):
        uncached.get("/v1/", headers=bearer(other))
    assert provider.hits["/userinfo"] == 1 + 2


def test_a_token_the_provider_refuses_is_anonymous_and_gets_a_bearer_challenge(app, provider):
    root = app.get("/v1/", headers=bearer("not-a-token")).json
    assert "user" not in root
    response = app.put_json("/v1/buckets/b1", {"data": {}}, headers=bearer("not-a-token"), status=401)
    assert response.json["errno"] == 104
    assert 'Bearer realm="Realm"' in response.headers.getall("WWW-Authenticate")
    # Refusals are not cached: the provider is asked again.
    app.get("/v1/", headers=bearer("not-a-token"))
    assert provider.hits["/userinfo"] == 3


def test_a_failing_provider_is_a_503_not_a_500(app, provider):
    provider.fail_with(502)
    response = app.get("/v1/buckets", headers=bearer(provider.issue_token("alice-sub")), status=503)
    assert response.json["errno"] == 201
    assert "Retry-After" in response.headers
    provider.fail_with(None)
    provider.stop()
    app.get("/v1/buckets", headers=bearer("another-token"), status=503)


def test_several_providers_are_listed_in_the_capability_and_each_verifies_its_tokens(make_app, provider):
    with OIDCStandIn() as second:
        second.register_client("kinto-client", "kinto-secret")
        second.add_user("bob-sub", email="bob@example.com")
        app = make_app(
            {
                "multiauth.policies": "first second",
                **policy_settings("first", provider),
                **policy_settings("second", second, userid_field="email", header_type="OIDC"),
            }
        )
        capability = app.get("/v1/").json["capabilities"]["openid"]
        assert capability["providers"] == [
            {
                "name": "first",
                "issuer": provider.issuer,
                "auth_path": "/openid/first/login",
                "client_id": "kinto-client",
                "audience": "",
                "header_type": "Bearer",
                "userinfo_endpoint": f"{provider.url}/userinfo",
            },
            {
                "name": "second",
                "issuer": second.issuer,
                "auth_path": "/openid/second/login",
                "client_id": "kinto-client",
                "audience": "",
                "header_type": "OIDC",
                "userinfo_endpoint": f"{second.url}/userinfo",
            },
        ]
        assert (
            app.get("/v1/", headers=bearer(provider.issue_token("alice-sub"))).json["user"]["id"] == "first:alice-sub"
        )
        bob = {"Authorization": f"OIDC {second.issue_token('bob-sub')}"}
        assert app.get("/v1/", headers=bob).json["user"]["id"] == "second:bob@example.com"


def test_with_an_audience_tokens_must_be_jwts_for_this_issuer_and_audience(make_app):
    with OIDCStandIn(issue_jwt=True, audience="my-api") as provider:
        provider.register_client("kinto-client", "kinto-secret")
        provider.add_user("alice-sub")
        app = make_app({"multiauth.policies": "oidc", **policy_settings("oidc", provider, audience="my-api")})
        good = provider.issue_token("alice-sub")
        assert app.get("/v1/", headers=bearer(good)).json["user"]["id"] == "oidc:alice-sub"
        for bad in (
            provider.issue_token("alice-sub", aud="another-api"),
            provider.issue_token("alice-sub", iss="http://127.0.0.1:1"),
            provider.issue_token("alice-sub", exp=1000),
            provider.issue_token("alice-sub", expires_in=-3600),
            "an-opaque-token",
        ):
            assert "user" not in app.get("/v1/", headers=bearer(bad)).json
        assert provider.hits["/userinfo"] == 1  # refused locally, never sent to the provider


def test_an_unreachable_issuer_stops_start_up_naming_it(make_app, provider):
    settings = {"multiauth.policies": "oidc", **policy_settings("oidc", provider)}
    provider.stop()
    with pytest.raises(ConfigurationError, match=settings["multiauth.policy.oidc.issuer"]):
        make_app(settings)


# --- the login flow --------------------------------------------------------------------------------


def login(
    app: webtest.TestApp, callback: str = CALLBACK, scope: str = "openid email", provider: str = "oidc", **extra: str
) -> webtest.TestResponse:
    return app.get(f"/v1/openid/{provider}/login", params={"callback": callback, "scope": scope, **extra}, status=307)


def authorize(location: str) -> dict[str, list[str]]:
    """What the provider sends the browser back to our token endpoint with."""
    answer = requests.get(location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/v1/openid/oidc/token"
    return parse_qs(back.query)


def test_login_sends_the_browser_to_the_provider_and_token_back_to_the_callback_with_tokens(app, provider):
    location = login(app, prompt="none").headers["Location"]
    sent = urlsplit(location)
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == f"{provider.url}/authorize"
    query = parse_qs(sent.query)
    assert query["client_id"] == ["kinto-client"]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid email"]
    assert query["prompt"] == ["none"]
    assert query["redirect_uri"] == ["http://localhost/v1/openid/oidc/token"]
    assert len(query["state"][0]) == 64

    back = authorize(location)
    done = app.get("/v1/openid/oidc/token", params={"code": back["code"][0], "state": back["state"][0]}, status=307)
    final = done.headers["Location"]
    assert final.startswith(CALLBACK)
    tokens = json.loads(base64.b64decode(unquote(final[len(CALLBACK) :])))
    assert tokens["token_type"] == "Bearer"
    # The access token is the user's: it authenticates on this server.
    assert app.get("/v1/", headers=bearer(tokens["access_token"])).json["user"]["id"] == "oidc:alice-sub"

    # A state is used once.
    again = app.get("/v1/openid/oidc/token", params={"code": back["code"][0], "state": back["state"][0]}, status=400)
    assert again.json["errno"] == 105


def test_a_refused_authorization_is_sent_back_to_the_callback(app, provider):
    provider.signed_in_user = None  # the user says no
    back = authorize(login(app).headers["Location"])
    assert back["error"] == ["access_denied"]
    params = {"state": back["state"][0], "error": "access_denied", "error_description": "The user said no"}
    done = app.get("/v1/openid/oidc/token", params=params, status=307)
    assert done.headers["Location"] == CALLBACK + "error=access_denied&error_description=The+user+said+no"


def test_a_code_the_provider_refuses_is_a_400(app, provider):
    state = parse_qs(urlsplit(login(app).headers["Location"]).query)["state"][0]
    response = app.get("/v1/openid/oidc/token", params={"code": "forged", "state": state}, status=400)
    assert response.json["errno"] == 107
    assert response.json["details"][0]["name"] == "code"


@pytest.mark.parametrize(
    "path, params, name",
    [
        ("/v1/openid/nobody/login", {"callback": CALLBACK, "scope": "openid"}, "provider"),
        ("/v1/openid/basicauth/login", {"callback": CALLBACK, "scope": "openid"}, "provider"),
        ("/v1/openid/oidc/login", {"scope": "openid"}, "callback"),
        ("/v1/openid/oidc/login", {"callback": CALLBACK}, "scope"),
        ("/v1/openid/oidc/login", {"callback": "https://evil.example.com/#", "scope": "openid"}, "callback"),
        ("/v1/openid/oidc/login", {"callback": "http://localhost:3000\\@evil.com/", "scope": "openid"}, "callback"),
        ("/v1/openid/oidc/login", {"callback": "javascript:alert(1)//", "scope": "openid"}, "callback"),
        ("/v1/openid/oidc/login", {"callback": "http://localhost:3000/../x", "scope": "openid"}, "callback"),
        ("/v1/openid/oidc/login", {"callback": CALLBACK, "scope": "openid offline_access"}, "scope"),
        ("/v1/openid/oidc/login", {"callback": CALLBACK, "scope": "openid", "prompt": "login"}, "prompt"),
        ("/v1/openid/oidc/token", {"state": "abc"}, "code"),
        ("/v1/openid/oidc/token", {"state": "abc", "code": "x", "error": "y"}, "code"),
        ("/v1/openid/oidc/token", {"code": "x"}, "state"),
        ("/v1/openid/oidc/token", {"code": "x", "state": "never-issued"}, "state"),
    ],
)
def test_bad_login_requests_are_400s_in_kintos_format(app, path, params, name):
    response = app.get(path, params=params, status=400)
    assert response.json["code"] == 400
    assert response.json["errno"] in (105, 107)
    assert response.json["details"][0]["name"] == name


def test_trusted_callback_urls_and_allowed_scopes_come_from_settings(make_app, provider):
    app = make_app(
        {
            "multiauth.policies": "oidc",
            **policy_settings(
                "oidc",
                provider,
                trusted_callback_urls="https://*.example.com/app/*",
                allowed_scopes="openid kinto",
                userid_field="email",
            ),
        }
    )
    app.get(
        "/v1/openid/oidc/login",
        params={"callback": "https://admin.example.com/app/#t=", "scope": "openid kinto"},
        status=400,
    )  # userid_field = email needs the email scope, which is not allowed here
    relaxed = make_app(
        {
            "multiauth.policies": "oidc",
            **policy_settings(
                "oidc",
                provider,
                trusted_callback_urls="https://*.example.com/app/*",
                allowed_scopes="openid kinto",
            ),
        }
    )
    login(relaxed, callback="https://admin.example.com/app/#t=", scope="openid kinto")
    relaxed.get("/v1/openid/oidc/login", params={"callback": CALLBACK, "scope": "openid"}, status=400)


def test_the_flows_secrets_stay_out_of_the_request_log(app, provider, caplog):
    back = authorize(login(app).headers["Location"])
    with caplog.at_level("INFO", logger="request.summary"):
        app.get("/v1/openid/oidc/token", params={"code": back["code"][0], "state": back["state"][0]}, status=307)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert back["code"][0] not in logged
    assert back["state"][0] not in logged
