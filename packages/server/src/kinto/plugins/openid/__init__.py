"""OpenID Connect: users who log in with an identity provider (``pip install 'kinto-server[openid]'``).

Enabled as Kinto's is, with one policy per provider::

    kinto.includes = kinto.plugins.openid
    multiauth.policies = google auth0
    multiauth.policy.google.use = kinto.plugins.openid.OpenIDConnectPolicy
    multiauth.policy.google.issuer = https://accounts.google.com
    multiauth.policy.google.client_id = 1234.apps.googleusercontent.com
    multiauth.policy.google.client_secret = ...
    multiauth.policy.google.userid_field = email

Requests carry ``Authorization: Bearer <access token>``. The token is verified
by the provider's ``userinfo_endpoint`` (with ``audience`` set, it must also be
a JWT signed by one of the provider's keys, for this issuer and audience); the
user's claims are remembered in the cache for ``verification_ttl_seconds`` under
an HMAC of the provider's settings and the token (never the token itself), and
the user id is the claim ``userid_field`` (``sub``), prefixed by the policy's
name: ``google:alice@example.com``. ``GET /v1/`` shows the claims under
``user.profile``.

The login flow, for clients that cannot talk to the provider themselves:
``GET /v1/openid/<name>/login?callback=<url>&scope=openid email`` sends the
browser to the provider; the provider sends it back to
``GET /v1/openid/<name>/token``, which trades the code for tokens and sends the
browser on to ``<callback><base64 of the provider's JSON answer>``.

Settings, per policy (Kinto's names): ``issuer`` and ``client_id`` (required),
``client_secret``, ``audience``, ``userid_field`` (``sub``), ``header_type``
(``Bearer``), ``realm``, ``verification_ttl_seconds`` (86400),
``state_ttl_seconds`` (3600), ``state_length`` (32), ``allowed_scopes``
(``openid email profile``), ``trusted_callback_urls`` (see
:mod:`kinto.plugins.openid.callbacks`); ours: ``requests_timeout_seconds`` (10).

Differences with Kinto 26.5: a provider that fails (down, 5xx, garbage) gives
503 with ``Retry-After`` rather than 500; a cached verification is not extended
each time the token is used, and never outlives a JWT's ``exp``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kinto.core.authentication import hmac_digest
from kinto.core.settings import as_list
from pyramid.exceptions import ConfigurationError

from kinto.plugins.openid.provider import Provider, ProviderError, discover

__all__ = ["OpenIDConnectPolicy", "get_user_profile", "includeme", "openid_policies"]

logger = logging.getLogger(__name__)

DOCS = "https://kinto.readthedocs.io/en/stable/api/1.x/authentication.html"
PROFILE_KEY = "user_profile"
_CACHE_PREFIX = "openid:verify:"


class OpenIDConnectPolicy:
    """The authentication policy of one OpenID Connect provider (see the module docstring)."""

    def __init__(self, issuer: str = "", client_id: str = "", realm: str = "Realm", **kwargs: Any) -> None:
        if not issuer or not client_id:
            raise ConfigurationError("OpenIDConnectPolicy needs multiauth.policy.<name>.issuer and .client_id")
        self.issuer = issuer
        self.client_id = client_id
        self.realm = realm
        self.client_secret = str(kwargs.get("client_secret", ""))
        self.audience = str(kwargs.get("audience", ""))
        self.header_type = str(kwargs.get("header_type", "Bearer"))
        self.userid_field = str(kwargs.get("userid_field", "sub"))
        self.state_ttl = _integer(kwargs, "state_ttl_seconds", 3600)
        self.state_length = _integer(kwargs, "state_length", 32)
        self.verification_ttl = _integer(kwargs, "verification_ttl_seconds", 86400)
        self.allowed_scopes = frozenset(as_list(kwargs.get("allowed_scopes", "openid email profile")))
        self.trusted_callback_urls = as_list(kwargs.get("trusted_callback_urls", ""))
        timeout = float(kwargs.get("requests_timeout_seconds", 10))
        try:
            self.provider = Provider(issuer, timeout=timeout)
        except ProviderError as error:
            raise ConfigurationError(f"OpenID provider {issuer}: {error}") from error

    # --- Pyramid's authentication policy --------------------------------------------------------

    def authenticated_userid(self, request: Any) -> str | None:
        return self.unauthenticated_userid(request)

    def unauthenticated_userid(self, request: Any) -> str | None:
        """The ``userid_field`` claim of the bearer token's user, or ``None`` (no token, or refused)."""
        token = self._token(request)
        if token is None:
            return None
        claims = self._verified_claims(request, token)
        if claims is None:
            return None
        request.bound_data[PROFILE_KEY] = claims
        userid = claims.get(self.userid_field)
        return str(userid) if userid not in (None, "") else None

    def effective_principals(self, request: Any) -> list[str]:
        return []

    def remember(self, request: Any, userid: str, **kw: Any) -> list[tuple[str, str]]:
        return []

    def forget(self, request: Any) -> list[tuple[str, str]]:
        return [("WWW-Authenticate", f'{self.header_type} realm="{self.realm}"')]

    # --- verification ---------------------------------------------------------------------------

    def _token(self, request: Any) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != self.header_type.lower() or not token:
            return None
        return token

    def _verified_claims(self, request: Any, token: str) -> dict[str, Any] | None:
        verified = request.bound_data.setdefault("openid_verified", {})
        key = _CACHE_PREFIX + hmac_digest(
            request.registry.settings["userid_hmac_secret"],
            f"{self.issuer}:{self.client_id}:{self.audience}:{token}",
        )
        if key in verified:
            return verified[key]
        cache = request.registry.cache
        claims = cache.get(key)
        if claims is None:
            claims, ttl = self._verify(token)
            if claims is not None and ttl > 0:
                cache.set(key, claims, ttl=ttl)
        verified[key] = claims
        return claims

    def _verify(self, token: str) -> tuple[dict[str, Any] | None, int]:
        """The user's claims and how long they may be remembered, or ``(None, 0)``."""
        ttl = self.verification_ttl
        if self.audience:
            from kinto.plugins.openid.jwt import decode_access_token

            jwt_claims = decode_access_token(self.provider, token, issuer=self.issuer, audience=self.audience)
            if jwt_claims is None:
                return None, 0
            expires = jwt_claims.get("exp")
            if isinstance(expires, (int, float)):
                ttl = min(ttl, int(expires - time.time()))
        return self.provider.userinfo(token), ttl


def _integer(options: dict[str, Any], name: str, default: int) -> int:
    value = options.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"OpenIDConnectPolicy: {name} = {value!r} is not an integer") from None


def openid_policies(settings: dict[str, Any]) -> list[str]:
    """The names of the policies of ``multiauth.policies`` that are OpenID Connect ones, in order."""
    return [
        name
        for name in as_list(settings.get("multiauth.policies", ""))
        if str(settings.get(f"multiauth.policy.{name}.use", "")).endswith("OpenIDConnectPolicy")
    ]


def get_user_profile(request: Any) -> dict[str, Any]:
    """The claims of the provider about the request's user (empty when not logged in with OpenID)."""
    return request.bound_data.get(PROFILE_KEY, {})


def includeme(config: Any) -> None:
    from kinto.plugins.openid import views

    config.add_cornice_service(views.login)
    config.add_cornice_service(views.token)
    # The flow carries secrets in URLs: keep them out of the request log.
    config.add_redacted_query_parameters("code", "state")
    config.add_request_method(get_user_profile, "get_user_profile")

    settings = config.get_settings()
    providers = []
    for name in openid_policies(settings):
        prefix = f"multiauth.policy.{name}."
        issuer = settings[prefix + "issuer"]
        try:
            configuration = discover(issuer)
        except ProviderError as error:
            raise ConfigurationError(f"{prefix}issuer = {issuer}: {error}") from error
        providers.append(
            {
                "name": name,
                "issuer": configuration["issuer"],
                "auth_path": f"/openid/{name}/login",
                "client_id": settings[prefix + "client_id"],
                "audience": settings.get(prefix + "audience", ""),
                "header_type": settings.get(prefix + "header_type", "Bearer"),
                "userinfo_endpoint": configuration["userinfo_endpoint"],
            }
        )
    if providers:
        config.add_api_capability("openid", description="OpenID connect support.", url=DOCS, providers=providers)
