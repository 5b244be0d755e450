"""Fixtures: the OAuth stand-in, and kinto.core applications with the plugin and a protected view."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kinto.core import Service
from kinto.core.testing import make_app
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto_fxa.authentication import token_verifier
from kinto_fxa.jwt_access_tokens import KeySetCache
from kinto_fxa.testing import OAuthStandIn

from . import clocked_cache

CLIENT_ID = "a1b2c3d4e5f60718"
CLIENT_SECRET = "s3cr3t-of-the-relier"
USER = "0f2e6ad1c7b84bd7a1c3e5f7a9b0c2d4"


class FakeClock:
    """A monotonic clock the tests move by hand, so TTLs are tested without sleeping."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Protected:
    """A context granting ``read`` to any authenticated user, as a resource would."""

    def __init__(self, request: Any) -> None:
        self.request = request

    def check_permission(self, principals: list[str], permission: str) -> bool:
        return permission == "read" and "system.Authenticated" in principals


protected = Service(name="protected", path="/protected", factory=Protected)
public = Service(name="public", path="/public")


@protected.get(permission="read")
def get_protected(request: Any) -> dict[str, Any]:
    return {"userid": request.prefixed_userid}


@public.get(permission=NO_PERMISSION_REQUIRED)
def get_public(request: Any) -> dict[str, Any]:
    return {"userid": request.prefixed_userid}


def include_test_views(config: Any) -> None:
    config.scan(__name__)


@pytest.fixture
def oauth_server() -> Iterator[OAuthStandIn]:
    with OAuthStandIn() as server:
        server.register_client(CLIENT_ID, CLIENT_SECRET)
        yield server


@pytest.fixture
def cache_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fxa_settings(oauth_server: OAuthStandIn, cache_clock: FakeClock) -> dict[str, Any]:
    return {
        "multiauth.policies": "fxa",
        "multiauth.policy.fxa.use": "kinto_fxa.authentication.FxAOAuthAuthenticationPolicy",
        "multiauth.policy.fxa.realm": "Kinto",
        "includes": "kinto_fxa",
        "fxa-oauth.oauth_uri": f"{oauth_server.url}/v1",
        "fxa-oauth.jwt_issuer": oauth_server.issuer,
        "fxa-oauth.client_id": CLIENT_ID,
        "fxa-oauth.client_secret": CLIENT_SECRET,
        "fxa-oauth.required_scope": "kinto",
        "fxa-oauth.requested_scope": "profile kinto",
        "fxa-oauth.requests_timeout_seconds": 2.0,
        "fxa-oauth.webapp.authorized_domains": "*.example.com localhost 127.0.0.1:*",
        "kinto.cache_backend": clocked_cache.__name__,  # however pytest imported it
        "fxa_tests.clock": cache_clock,
    }


@pytest.fixture
def make_fxa_app(fxa_settings: dict[str, Any]) -> Callable[..., Any]:
    """``make_fxa_app(**overrides)``: a WebTest app with the plugin, ``/v1/protected`` and ``/v1/public``."""

    def build(**overrides: Any) -> Any:
        settings = {**fxa_settings, **overrides}
        app = make_app({key: value for key, value in settings.items() if value is not None}, [include_test_views])
        verifier = token_verifier(app.app.registry)
        # Rotation tests need the key set refetched at once on an unknown key id.
        verifier.keys = KeySetCache(verifier.oauth.jwks, refresh_interval=0.0)
        return app

    return build


@pytest.fixture
def app(make_fxa_app: Callable[..., Any]) -> Any:
    return make_fxa_app()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# Loaded machines (CI shares two cores) make data generation slow: speed is not what these tests check.
from hypothesis import HealthCheck as _HealthCheck
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("kinto", deadline=None, suppress_health_check=[_HealthCheck.too_slow])
_hypothesis_settings.load_profile("kinto")
