"""``FxAOAuthAuthenticationPolicy``: Firefox Accounts bearer tokens as a kinto.core authentication policy.

::

    kinto.includes = kinto_fxa
    multiauth.policies = fxa
    multiauth.policy.fxa.use = kinto_fxa.authentication.FxAOAuthAuthenticationPolicy
    multiauth.policy.fxa.realm = Kinto

The policy answers the raw FxA user id (the core prefixes it: ``fxa:<uid>``;
``fxa:<uid>-<client>`` for a token of a named client). A missing, invalid,
expired or wrongly scoped token gives no user id, so other policies may still
recognise the request and protected views answer 401 with this policy's
``WWW-Authenticate: Bearer realm="..."`` challenge. An OAuth server that fails
raises ``BackendError``: 503 with ``Retry-After``, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from kinto.core.authorization import groupfinder as core_groupfinder
from zope.interface import Interface

from kinto_fxa.settings import FxAConfig
from kinto_fxa.verification import BOUND_DATA_KEY, TokenVerifier

__all__ = ["FxAOAuthAuthenticationPolicy", "ITokenVerifier", "bearer_token", "groupfinder", "token_verifier"]

logger = logging.getLogger(__name__)


class ITokenVerifier(Interface):
    """Marker under which ``includeme`` registers the application's ``TokenVerifier``."""


def bearer_token(request: Any) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else ``None``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def token_verifier(registry: Any) -> TokenVerifier:
    """The application's verifier (built from its settings if ``includeme`` did not run)."""
    verifier = registry.queryUtility(ITokenVerifier)
    if verifier is None:
        logger.warning("kinto_fxa is not included (kinto.includes = kinto_fxa): using its default settings")
        verifier = TokenVerifier(FxAConfig.from_settings(registry.settings))
        registry.registerUtility(verifier, ITokenVerifier)
    return verifier


class FxAOAuthAuthenticationPolicy:
    """Authenticates requests bearing a Firefox Accounts OAuth token."""

    def __init__(self, realm: str = "Realm") -> None:
        self.realm = realm

    def unauthenticated_userid(self, request: Any) -> str | None:
        token = bearer_token(request)
        if token is None:
            return None
        return token_verifier(request.registry).verdict(token, request).userid

    def authenticated_userid(self, request: Any) -> str | None:
        return self.unauthenticated_userid(request)

    def effective_principals(self, request: Any) -> list[str]:
        return []

    def remember(self, request: Any, userid: str, **kw: Any) -> list[tuple[str, str]]:
        return []

    def forget(self, request: Any) -> list[tuple[str, str]]:
        """The Bearer challenge, with RFC 6750's ``error`` when a presented token was refused."""
        challenge = f'Bearer realm="{self.realm}"'
        token = bearer_token(request)
        verdict = request.bound_data.get(BOUND_DATA_KEY, {}).get(token) if token else None
        if verdict is not None and verdict.error:
            challenge += f', error="{verdict.error}"'
            if verdict.error == "insufficient_scope":
                scopes = token_verifier(request.registry).config.default_client.required_scopes
                challenge += f', scope="{" ".join(scopes)}"'
        return [("WWW-Authenticate", challenge)]


def groupfinder(userid: str, request: Any) -> list[str]:
    """The core's principals, plus ``fxa:<uid>`` for a user of a named client (``fxa:<uid>-notes``).

    With ``multiauth.groupfinder = kinto_fxa.authentication.groupfinder``, data shared with
    ``fxa:<uid>`` is reachable from every client of that Firefox Account.
    """
    principals = list(core_groupfinder(userid, request))
    token = bearer_token(request)
    verdict = request.bound_data.get(BOUND_DATA_KEY, {}).get(token) if token else None
    suffix = verdict.account_suffix if verdict is not None and verdict.userid else ""
    if suffix and userid.endswith(suffix):
        principals.append(userid[: -len(suffix)])
    return principals
