"""The ``account`` authentication policy: Basic Auth checked against the stored accounts.

A password is compared with its bcrypt hash once; then, for
``account_cache_ttl_seconds`` (30 by default), the same username and password
are recognised from the cache without bcrypt. The cache holds neither: its key
is an HMAC of the username and its value an HMAC of the password, both under
``userid_hmac_secret``, so a cache dump reveals no credential. Changing or
deleting an account forgets its cached login at once.
"""

from __future__ import annotations

from typing import Any

import bcrypt
from kinto.core.authentication import BasicAuthAuthenticationPolicy, hmac_digest
from kinto.core.storage import ObjectNotFoundError
from pyramid.authentication import extract_http_basic_credentials

__all__ = [
    "ACCOUNT_CACHE_KEY",
    "ACCOUNT_POLICY_NAME",
    "MAX_PASSWORD_BYTES",
    "AccountsPolicy",
    "bcrypt_rounds",
    "cache_key",
    "forget_login",
    "hash_password",
]

ACCOUNT_CACHE_KEY = "accounts:{}:verified"
ACCOUNT_POLICY_NAME = "account"
DEFAULT_CACHE_TTL = 30
#: bcrypt's cost (2^rounds iterations), as Kinto's; ``account_bcrypt_rounds`` changes it for new hashes.
DEFAULT_BCRYPT_ROUNDS = 12
#: bcrypt reads this many bytes of a password (bcrypt 5 refuses more; earlier versions ignored the rest).
MAX_PASSWORD_BYTES = 72


def hash_password(password: str, rounds: int = DEFAULT_BCRYPT_ROUNDS) -> str:
    """The bcrypt hash stored for ``password`` (Kinto's format: ``$2b$...``, readable by either server)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def bcrypt_rounds(settings: dict[str, Any]) -> int:
    """The cost of new hashes: ``account_bcrypt_rounds`` (4 to 31), 12 by default."""
    rounds = int(settings.get("account_bcrypt_rounds", DEFAULT_BCRYPT_ROUNDS))
    return min(max(rounds, 4), 31)


def cache_key(settings: dict[str, Any], username: str) -> str:
    return hmac_digest(str(settings["userid_hmac_secret"]), ACCOUNT_CACHE_KEY.format(username))


def forget_login(registry: Any, username: str) -> None:
    """Drop the cached login of ``username`` (its password changed, or it was deleted)."""
    registry.cache.delete(cache_key(registry.settings, username))


def _password_matches(password: str, hashed: Any) -> bool:
    if not isinstance(hashed, str) or not hashed:
        return False
    try:
        # Hashes written by Kinto (bcrypt < 5) saw only the first 72 bytes of longer passwords.
        return bcrypt.checkpw(password.encode("utf-8")[:MAX_PASSWORD_BYTES], hashed.encode("utf-8"))
    except ValueError:  # not a bcrypt hash
        return False


def account_check(username: str, password: str, request: Any) -> bool:
    """Whether ``username`` exists and ``password`` is its password."""
    registry = request.registry
    settings = registry.settings
    key = cache_key(settings, username)
    expected = hmac_digest(key, password)
    ttl = int(settings.get("account_cache_ttl_seconds", DEFAULT_CACHE_TTL))
    cache = registry.cache
    if cache.get(key) == expected:
        cache.expire(key, ttl)
        return True
    try:
        account = registry.storage.get("account", username, username)
    except ObjectNotFoundError:
        return False
    if not _password_matches(password, account.get("password")):
        return False
    cache.set(key, expected, ttl)
    return True


class AccountsPolicy(BasicAuthAuthenticationPolicy):
    """``multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy``: user ids ``account:<username>``.

    Basic Auth as the core's policy reads it (realm, ``WWW-Authenticate`` on
    401), but the user id is the username, and only once its password checks.
    """

    name = ACCOUNT_POLICY_NAME

    def unauthenticated_userid(self, request: Any) -> str | None:
        credentials = extract_http_basic_credentials(request)
        return credentials.username if credentials and credentials.username else None

    def authenticated_userid(self, request: Any) -> str | None:
        credentials = extract_http_basic_credentials(request)
        if credentials is None or not credentials.username:
            return None
        if account_check(credentials.username, credentials.password, request):
            return credentials.username
        return None


#: Kinto's other name for the policy.
AccountsAuthenticationPolicy = AccountsPolicy
