"""JWT access tokens (RFC 9068) verified locally against the OAuth server's JWKS.

The key set is fetched once and kept; a token signed with a key id the set
does not hold triggers one refetch (keys rotate), at most once per
``refresh_interval`` seconds so that forged key ids cannot make every request
call the server. The set is also refreshed after ``max_age`` seconds, so a key
the server withdrew stops being accepted. When a refetch fails but keys are
known, they keep being used; with no key at all, the failure is the server's.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from kinto_fxa.oauth import OAuthServerError
from kinto_fxa.tokens import InvalidToken, TokenClaims

__all__ = ["ALGORITHMS", "KeySetCache", "looks_like_jwt", "verify_jwt"]

logger = logging.getLogger(__name__)

#: Asymmetric algorithms only: the server's public keys must never double as shared secrets.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
#: Tolerated clock difference for ``nbf`` and ``iat`` (never for ``exp``).
_LEEWAY_SECONDS = 60


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts: FxA's opaque tokens are hex strings, its JWTs are not."""
    return token.count(".") == 2


class KeySetCache:
    """The OAuth server's public keys, by key id, refreshed on rotation."""

    def __init__(
        self,
        fetch: Callable[[], dict[str, Any]],
        max_age: float = 3600.0,
        refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.max_age = max_age
        self.refresh_interval = refresh_interval
        self.clock = clock
        self._keys: dict[str | None, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> Any:
        """The key with id ``kid`` (``None``: the only key), or ``None`` if the server has no such key."""
        now = self.clock()
        if self._fetched_at is None or now - self._fetched_at >= self.max_age:
            self._refresh(now, required=not self._keys)
        key = self._keys.get(kid)
        if key is None and now - (self._fetched_at or 0.0) >= self.refresh_interval:
            self._refresh(now, required=False)
            key = self._keys.get(kid)
        return key

    def _refresh(self, now: float, required: bool) -> None:
        with self._lock:
            if self._fetched_at is not None and self._fetched_at > now:
                return  # another thread refreshed while we waited
            try:
                key_set = KeySet.import_key_set(self.fetch())  # type: ignore[arg-type]
            except OAuthServerError:
                if required:
                    raise
                logger.warning(
                    "Could not refresh the OAuth server's keys; keeping the %d known", len(self._keys), exc_info=True
                )
                self._fetched_at = self.clock()
                return
            except (JoseError, ValueError, TypeError, KeyError) as error:
                if required:
                    raise OAuthServerError(error, "The OAuth server's JWKS cannot be read") from error
                logger.warning("Unreadable JWKS from the OAuth server; keeping the known keys", exc_info=True)
                self._fetched_at = self.clock()
                return
            keys: dict[str | None, Any] = {key.kid: key for key in key_set.keys}
            if len(key_set.keys) == 1:
                keys[None] = key_set.keys[0]
            self._keys = keys
            self._fetched_at = self.clock()


def _segment(data: str) -> Any:
    padded = data + "=" * (-len(data) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def read_header(token: str) -> dict[str, Any]:
    try:
        header = _segment(token.split(".", 1)[0])
    except (ValueError, UnicodeError):
        raise InvalidToken("unreadable JWT header") from None
    if not isinstance(header, dict):
        raise InvalidToken("unreadable JWT header")
    return header


def verify_jwt(token: str, keys: KeySetCache, issuer: str, now: float) -> TokenClaims:
    """Check signature, type, issuer, expiry and validity window; return the token's claims.

    Raises ``InvalidToken`` for any token that does not pass, and
    ``OAuthServerError`` when the keys cannot be had at all.
    """
    header = read_header(token)
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidToken(f"algorithm {algorithm!r} not accepted")
    if str(header.get("typ", "")).lower() not in _ACCESS_TOKEN_TYPES:
        raise InvalidToken("not an access token (typ must be at+jwt)")
    kid = header.get("kid")
    key = keys.key_for(kid if isinstance(kid, str) else None)
    if key is None:
        raise InvalidToken("signed with an unknown key")
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm]).claims
    except (JoseError, ValueError, TypeError):
        raise InvalidToken("bad signature") from None
    _check_time_claims(claims, now)
    if issuer and claims.get("iss") != issuer:
        raise InvalidToken(f"issuer {claims.get('iss')!r} not accepted")
    return TokenClaims.from_jwt(claims)


def _check_time_claims(claims: dict[str, Any], now: float) -> None:
    expires_at = claims.get("exp")
    if isinstance(expires_at, bool) or not isinstance(expires_at, (int, float)):
        raise InvalidToken("no expiry")
    if now >= expires_at:
        raise InvalidToken("expired")
    not_before = claims.get("nbf")
    if isinstance(not_before, (int, float)) and now + _LEEWAY_SECONDS < not_before:
        raise InvalidToken("not valid yet")
    issued_at = claims.get("iat")
    if isinstance(issued_at, (int, float)) and now + _LEEWAY_SECONDS < issued_at:
        raise InvalidToken("issued in the future")
