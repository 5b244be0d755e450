"""Keys for signing and hashing: the configured secret, and one key derived from it per purpose.

``kinto.userid_hmac_secret`` is the application's only secret. Basic Auth user
ids are ``HMAC-SHA256(secret, "user:password")`` with the secret itself, as
Kinto computes them (databases migrated from Kinto keep their permissions);
``GET /v1/`` answers that HMAC for credentials anyone chooses, so the raw secret
must sign nothing else. Every other use asks ``derived_key(settings, purpose)``:
HKDF-SHA256 (RFC 5869) of the secret with the purpose as ``info``, so that no
user id (nor any key of another purpose) validates anything of this purpose.

An application never starts with an empty secret (``check_secret``, called by
``kinto.core.initialize``): a missing secret would make every key a constant
anyone can compute. ``kinto.core.testing.make_app`` passes a test secret.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from pyramid.exceptions import ConfigurationError

from kinto.core.settings import read_setting

__all__ = ["PAGINATION_TOKENS", "SEARCH_PRINCIPALS", "SECRET_SETTING", "check_secret", "derived_key", "hkdf_sha256"]

SECRET_SETTING = "userid_hmac_secret"

#: Purposes of the core and of the plugins shipped here; any other non-empty text is a purpose too.
PAGINATION_TOKENS = "kinto.core.pagination-token"
SEARCH_PRINCIPALS = "kinto_elasticsearch.principals"

_HASH_LENGTH = hashlib.sha256().digest_size


def check_secret(settings: Mapping[str, Any]) -> str:
    """``ConfigurationError`` naming the setting when the secret is missing or blank; else the secret.

    Either spelling is read (``kinto.userid_hmac_secret``), for settings the defaults have not
    been applied to.
    """
    value = read_setting(settings, SECRET_SETTING)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"Setting 'kinto.{SECRET_SETTING}' is empty: set it to a long random value "
            "(`kinto init` writes one; `python -c 'import secrets; print(secrets.token_hex(32))'` makes one). "
            "It keys user ids, pagination tokens and search permissions; keep it across restarts."
        )
    return value


def derived_key(settings_or_registry: Mapping[str, Any] | Any, purpose: str) -> bytes:
    """The 32-byte key of ``purpose`` derived from the configured secret.

    ``settings_or_registry`` is the settings mapping or a registry (its
    ``settings``). Raises ``ConfigurationError`` when the secret is empty,
    ``ValueError`` for an empty purpose. Keys are computed once per
    (secret, purpose).
    """
    settings = settings_or_registry if isinstance(settings_or_registry, Mapping) else settings_or_registry.settings
    secret = check_secret(settings)
    if not purpose:
        raise ValueError("A key purpose is required")
    return _derive(secret, purpose)


@functools.lru_cache(maxsize=64)
def _derive(secret: str, purpose: str) -> bytes:
    return hkdf_sha256(secret.encode("utf-8"), info=purpose.encode("utf-8"))


def hkdf_sha256(key_material: bytes, info: bytes, length: int = _HASH_LENGTH, salt: bytes = b"") -> bytes:
    """RFC 5869 HKDF with SHA-256: extract a pseudo-random key, expand it to ``length`` bytes for ``info``."""
    if not 0 < length <= 255 * _HASH_LENGTH:
        raise ValueError(f"HKDF-SHA256 cannot produce {length} bytes")
    pseudo_random_key = hmac.new(salt or bytes(_HASH_LENGTH), key_material, hashlib.sha256).digest()
    output, block = b"", b""
    counter = 1
    while len(output) < length:
        block = hmac.new(pseudo_random_key, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
        counter += 1
    return output[:length]
