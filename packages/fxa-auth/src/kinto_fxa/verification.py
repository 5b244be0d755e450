"""From a bearer token to a user id: verification, client matching, and the verification cache.

Where a result comes from, cheapest first:

1. ``request.bound_data`` (one verification per request, shared with batch
   sub-requests);
2. the core's cache backend (``request.registry.cache``), under a key made of a
   hash of the token and of the accepted clients' ids and required scopes, for
   at most ``cache_ttl_seconds`` and never past the token's expiry. Only
   successes are cached: a token refused now may be valid later (clock skew,
   a server that was briefly wrong), and refusing is cheap for JWTs;
3. the token itself: a JWT is verified locally against the server's keys, an
   opaque token by the server (``/v1/verify`` or RFC 7662 introspection).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kinto.core.storage.exceptions import BackendError

from kinto_fxa.jwt_access_tokens import KeySetCache, looks_like_jwt, verify_jwt
from kinto_fxa.oauth import OAuthClient
from kinto_fxa.scopes import satisfies
from kinto_fxa.settings import Client, FxAConfig
from kinto_fxa.tokens import InsufficientScope, InvalidToken, TokenClaims

__all__ = ["BOUND_DATA_KEY", "TokenVerifier", "Verdict"]

logger = logging.getLogger(__name__)

BOUND_DATA_KEY = "fxa_verified_tokens"
_CACHE_KEY_PREFIX = "fxa-oauth.verification."


@dataclass(frozen=True)
class Verdict:
    """The outcome for one token: a user id, or the reason it was refused (for ``WWW-Authenticate``)."""

    userid: str | None
    error: str | None = None  # RFC 6750: "invalid_token" or "insufficient_scope"
    reason: str | None = None
    client: str | None = None  # the named client the token belongs to; None for the default one

    @property
    def account_suffix(self) -> str:
        """What the client appended to the FxA account id (``-notes``), or ``""``."""
        return f"-{self.client}" if self.client else ""


class TokenVerifier:
    """Verifies bearer tokens for one application (one ``FxAConfig``)."""

    def __init__(
        self,
        config: FxAConfig,
        oauth: OAuthClient | None = None,
        keys: KeySetCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.oauth = oauth or OAuthClient(config.oauth_uri, timeout=config.requests_timeout_seconds)
        self.keys = keys or KeySetCache(self.oauth.jwks)
        self.clock = clock

    def verdict(self, token: str, request: Any) -> Verdict:
        """The verdict on ``token`` for this request; raises ``BackendError`` when the server fails."""
        bound = request.bound_data.setdefault(BOUND_DATA_KEY, {})
        known = bound.get(token)
        if known is not None:
            return known
        key = self.cache_key(token)
        cache = getattr(request.registry, "cache", None)
        verdict = self._cached(cache, key)
        if verdict is None:
            verdict = self._verify(token, cache, key)
        bound[token] = verdict
        return verdict

    def cache_key(self, token: str) -> str:
        digest = hashlib.sha256(f"{self.config.fingerprint}\n{token}".encode()).hexdigest()
        return _CACHE_KEY_PREFIX + digest

    def _cached(self, cache: Any, key: str) -> Verdict | None:
        if cache is None:
            return None
        try:
            value = cache.get(key)
        except BackendError:
            # The cache being down must not lock every user out: verify as if it were empty.
            logger.warning("Verification cache unavailable; verifying the token again", exc_info=True)
            return None
        if not isinstance(value, dict) or not isinstance(value.get("userid"), str):
            return None
        expires_at = value.get("expires_at")
        if isinstance(expires_at, (int, float)) and self.clock() >= expires_at:
            return None  # a cache backend with coarse expiry must not outlive the token
        client = value.get("client")
        return Verdict(value["userid"], client=client if isinstance(client, str) else None)

    def _verify(self, token: str, cache: Any, key: str) -> Verdict:
        try:
            claims = self._claims(token)
            client = self._client_for(claims)
        except InvalidToken as refused:
            logger.info("FxA token refused: %s", refused.reason)
            error = "insufficient_scope" if isinstance(refused, InsufficientScope) else "invalid_token"
            return Verdict(None, error, refused.reason)
        named = None if client.is_default else client.name
        verdict = Verdict(f"{claims.user}-{named}" if named else claims.user, client=named)
        self._remember(cache, key, verdict, claims.expires_at)
        return verdict

    def _claims(self, token: str) -> TokenClaims:
        if looks_like_jwt(token):
            return verify_jwt(token, self.keys, self.config.jwt_issuer, self.clock())
        if self.config.opaque_token_verification == "introspect":
            client = self.config.default_client
            body = self.oauth.introspect(token, client.client_id, client.client_secret)
            if body is None:
                raise InvalidToken("inactive token (introspection)")
            claims = TokenClaims.from_introspection(body)
        else:
            body = self.oauth.verify(token)
            if body is None:
                raise InvalidToken("token rejected by the OAuth server")
            claims = TokenClaims.from_verify(body)
        if claims.expires_at is not None and self.clock() >= claims.expires_at:
            raise InvalidToken("expired")
        return claims

    def _client_for(self, claims: TokenClaims) -> Client:
        """The one configured client the token belongs to; a named client wins over the default one."""
        matching = [client for client in self.config.clients if self._belongs_to(claims, client)]
        named = [client for client in matching if not client.is_default]
        if len(named) > 1:
            raise InvalidToken(f"scope matches several clients: {', '.join(client.name for client in named)}")
        if named:
            return named[0]
        if matching:
            return matching[0]
        issued_to_someone = any(
            claims.issued_to(client.client_id) for client in self.config.clients if client.client_id
        )
        if issued_to_someone or not any(client.client_id for client in self.config.clients):
            raise InsufficientScope("scope does not cover the required scope")
        raise InvalidToken("issued to another client")

    @staticmethod
    def _belongs_to(claims: TokenClaims, client: Client) -> bool:
        if client.client_id and not claims.issued_to(client.client_id):
            return False
        return satisfies(claims.scopes, client.required_scopes)

    def _remember(self, cache: Any, key: str, verdict: Verdict, expires_at: float | None) -> None:
        if cache is None:
            return
        ttl = self.config.cache_ttl_seconds
        if expires_at is not None:
            ttl = min(ttl, expires_at - self.clock())
        if ttl <= 0:
            return
        value = {"userid": verdict.userid, "client": verdict.client, "expires_at": expires_at}
        try:
            cache.set(key, value, ttl)
        except BackendError:
            logger.warning("Could not store a verification in the cache", exc_info=True)
