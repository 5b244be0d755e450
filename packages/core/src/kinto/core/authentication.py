"""Authentication: a list of policies from settings, and the built-in Basic Auth.

::

    multiauth.policies = fxa basicauth
    multiauth.policy.fxa.use = kinto_fxa.authentication.FxAOAuthAuthenticationPolicy
    multiauth.policy.fxa.realm = Kinto

Each ``use`` names a factory called with the policy's other settings as keyword
arguments; it returns a Pyramid authentication policy (``authenticated_userid``,
``forget``). Policies are asked in order, as pyramid_multiauth asks them: the
first ``authenticated_userid`` that is not ``None`` wins and is prefixed with the
policy's name (``fxa:<uid>``, ``basicauth:<hmac>``). A policy that refuses the
credentials (a password check failing) answers ``None`` there, so the next
policy is asked; ``unauthenticated_userid`` is never enough to identify someone.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyramid.authentication import extract_http_basic_credentials
from pyramid.exceptions import ConfigurationError

__all__ = [
    "BasicAuthAuthenticationPolicy",
    "Identity",
    "build_policies",
    "hmac_digest",
]


@functools.lru_cache(maxsize=4096)
def hmac_digest(secret: str, message: str, algorithm: str = "sha256") -> str:
    """Hex HMAC of ``message``; cached because the same credentials arrive on every request."""
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), getattr(hashlib, algorithm)).hexdigest()


class BasicAuthAuthenticationPolicy:
    """Account-less Basic Auth: any user:password pair is an identity.

    The user id is the HMAC of ``user:password`` with ``userid_hmac_secret``,
    so the password is never stored and two passwords are two users.
    """

    def __init__(self, realm: str = "Realm", **kwargs: Any) -> None:
        self.realm = realm

    def unauthenticated_userid(self, request: Any) -> str | None:
        credentials = extract_http_basic_credentials(request)
        if credentials is None or not credentials.username:
            return None
        secret = request.registry.settings["userid_hmac_secret"]
        return hmac_digest(secret, f"{credentials.username}:{credentials.password}")

    def authenticated_userid(self, request: Any) -> str | None:
        return self.unauthenticated_userid(request)

    def effective_principals(self, request: Any) -> list[str]:
        return []

    def remember(self, request: Any, userid: str, **kw: Any) -> list[tuple[str, str]]:
        return []

    def forget(self, request: Any) -> list[tuple[str, str]]:
        return [("WWW-Authenticate", f'Basic realm="{self.realm}"')]


@dataclass(frozen=True)
class Identity:
    """Who made the request: the raw id from its policy and the prefixed one."""

    userid: str
    policy_name: str
    prefixed_userid: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefixed_userid", f"{self.policy_name}:{self.userid}")


def build_policies(config: Any) -> list[tuple[str, Any]]:
    """Instantiate the policies listed in ``multiauth.policies``, in order."""
    settings = config.get_settings()
    policies = []
    for name in settings["multiauth.policies"]:
        prefix = f"multiauth.policy.{name}."
        options = {}
        for key, value in settings.items():
            if key.startswith(prefix):
                options[key[len(prefix) :]] = value
        use = options.pop("use", None)
        if not use:
            raise ConfigurationError(f"Setting 'multiauth.policy.{name}.use' is missing for policy {name!r}")
        try:
            factory = config.maybe_dotted(use)
        except ImportError as error:
            raise ConfigurationError(f"Setting 'multiauth.policy.{name}.use = {use}': {error}") from error
        policies.append((name, factory(**options)))
    return policies


def identify(policies: Sequence[tuple[str, Any]], request: Any) -> Identity | None:
    """The identity of the first policy that authenticates the request, or ``None`` (anonymous)."""
    for name, policy in policies:
        # Not unauthenticated_userid: it skips the policy's own checks (password, callback).
        userid = policy.authenticated_userid(request)
        if userid:
            return Identity(userid=str(userid), policy_name=name)
    return None
