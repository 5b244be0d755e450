"""JWT access tokens, checked when a policy names an ``audience`` (as Kinto does with PyJWT).

The token must be signed (RS/ES/PS algorithms only, never ``none`` or HMAC) by a
key of the provider's ``jwks_uri`` (fetched again once when the ``kid`` is
unknown, for key rotation), be issued by the policy's issuer for its audience,
and be within its validity window. joserfc is authlib's JOSE engine.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from kinto.plugins.openid.provider import Provider

__all__ = ["decode_access_token"]

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]
_LEEWAY_SECONDS = 30


def decode_access_token(provider: Provider, token: str, issuer: str, audience: str) -> dict[str, Any] | None:
    """The token's claims, or ``None`` when it is not a valid JWT for ``issuer`` and ``audience``.

    Raises ``ProviderError`` when the provider's keys cannot be fetched.
    """
    if token.count(".") != 2:
        return None
    for refresh in (False, True):
        keys = KeySet.import_key_set(provider.jwks(refresh=refresh))  # type: ignore[arg-type]
        try:
            claims = jwt.decode(token, keys, algorithms=ALGORITHMS).claims
        except ValueError as error:  # joserfc: no key of that kid in the set
            if refresh:
                logger.debug("JWT access token of %s with an unknown key: %s", issuer, error)
                return None
            continue
        except JoseError as error:
            logger.debug("Invalid JWT access token of %s: %s", issuer, error)
            return None
        break
    registry = jwt.JWTClaimsRegistry(
        leeway=_LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        logger.debug("JWT access token of %s refused: %s", issuer, error)
        return None
    return claims if time.time() < claims["exp"] + _LEEWAY_SECONDS else None
