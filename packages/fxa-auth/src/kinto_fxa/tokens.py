"""What a verified access token says, whichever way it was verified."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kinto_fxa.scopes import parse_scopes

__all__ = ["InsufficientScope", "InvalidToken", "TokenClaims"]


class InvalidToken(Exception):
    """The token is not valid (forged, expired, revoked, unknown, or of the wrong kind).

    ``reason`` is short and safe to log; the client is told nothing more than 401.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InsufficientScope(InvalidToken):
    """A valid token that does not carry the scopes any accepted client requires."""


@dataclass(frozen=True)
class TokenClaims:
    """The user, client, scopes and expiry of a valid access token."""

    user: str
    client_id: str | None
    audiences: tuple[str, ...]
    scopes: tuple[str, ...]
    expires_at: float | None  # epoch seconds; None when the server did not say

    @classmethod
    def from_verify(cls, body: Mapping[str, Any]) -> TokenClaims:
        """From FxA's ``/v1/verify`` answer (``user``, ``client_id``, ``scope`` as a list)."""
        return cls(
            user=str(body["user"]),
            client_id=_optional_string(body.get("client_id")),
            audiences=(),
            scopes=parse_scopes(body.get("scope")),
            expires_at=_optional_time(body.get("exp")),
        )

    @classmethod
    def from_introspection(cls, body: Mapping[str, Any]) -> TokenClaims:
        """From an RFC 7662 answer of an active token (``sub``, ``client_id``, ``scope`` string, ``exp``)."""
        if str(body.get("token_type", "")).lower() == "refresh_token":
            raise InvalidToken("a refresh token is not an access token")
        return cls(
            user=str(body["sub"]),
            client_id=_optional_string(body.get("client_id")),
            audiences=_audiences(body.get("aud")),
            scopes=parse_scopes(body.get("scope")),
            expires_at=_optional_time(body.get("exp")),
        )

    @classmethod
    def from_jwt(cls, claims: Mapping[str, Any]) -> TokenClaims:
        """From the claims of a JWT access token (RFC 9068) whose signature was checked."""
        user = claims.get("sub")
        if not isinstance(user, str) or not user:
            raise InvalidToken("no subject")
        return cls(
            user=user,
            client_id=_optional_string(claims.get("client_id")),
            audiences=_audiences(claims.get("aud")),
            scopes=parse_scopes(claims.get("scope")),
            expires_at=_optional_time(claims.get("exp")),
        )

    def issued_to(self, client_id: str) -> bool:
        """Whether the token names ``client_id`` as its client or among its audiences."""
        return self.client_id == client_id or client_id in self.audiences


def _optional_string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _optional_time(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _audiences(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
