"""Authorization: principals of a request, and the Pyramid security policy.

Principals are ``system.Everyone``, ``system.Authenticated`` (when a user is
identified), the prefixed user id, and what the application adds (groups):
the permission backend's user principals, through the ``multiauth.groupfinder``
callable. Whether a principal may do something on an object is the context's
business: a context with ``check_permission(principals, permission)`` (the
resource framework's) decides; other contexts use Pyramid's ACLs when they
have ``__acl__`` and are open otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from pyramid.security import NO_PERMISSION_REQUIRED, Allowed, Denied

from kinto.core.authentication import Identity, identify

__all__ = ["AUTHENTICATED", "EVERYONE", "SecurityPolicy", "groupfinder"]

logger = logging.getLogger(__name__)

EVERYONE = Everyone  # "system.Everyone"
AUTHENTICATED = Authenticated  # "system.Authenticated"


def groupfinder(userid: str, request: Any) -> list[str]:
    """Principals the permission backend grants ``userid`` (and every authenticated user).

    At most ``kinto.max_user_principals`` of them: anyone may create groups
    whose members are ``system.Authenticated`` (or a user id they know), and
    every request of every such user would otherwise load, check against and
    (at the root) answer all of them.
    """
    backend = getattr(request.registry, "permission", None)
    if backend is None or not userid:
        return []
    cache = request.bound_data.setdefault("user_principals", {})
    if userid not in cache:
        limit = int(request.registry.settings["max_user_principals"])
        cache[userid] = _bounded_user_principals(backend, userid, limit)
    return cache[userid]


def _bounded_user_principals(backend: Any, userid: str, limit: int) -> list[str]:
    # One more than the limit tells whether some were left out, which the administrator must hear of.
    principals = backend.get_user_principals_bounded(userid, limit + 1)
    if len(principals) > limit:
        logger.warning("%s holds more than %d principals (kinto.max_user_principals): the others are ignored",
                       userid, limit)
        principals = principals[:limit]
    return sorted(principals)


class SecurityPolicy:
    """Pyramid security policy combining the configured authentication policies."""

    def __init__(self, policies: Sequence[tuple[str, Any]], groupfinder: Any = groupfinder) -> None:
        self.policies = list(policies)
        self.groupfinder = groupfinder
        self.acl = ACLHelper()

    def identity(self, request: Any) -> Identity | None:
        return request.kinto_identity

    def authenticated_userid(self, request: Any) -> str | None:
        identity = request.kinto_identity
        return identity.prefixed_userid if identity else None

    def principals(self, request: Any) -> list[str]:
        identity = request.kinto_identity
        if identity is None:
            return [EVERYONE]
        extra = self.groupfinder(identity.prefixed_userid, request) if self.groupfinder else []
        return [EVERYONE, AUTHENTICATED, identity.prefixed_userid, *extra]

    def permits(self, request: Any, context: Any, permission: str | None) -> Allowed | Denied:
        if permission is None or permission == NO_PERMISSION_REQUIRED:
            return Allowed("No permission required")
        check = getattr(context, "check_permission", None)
        principals = request.prefixed_principals
        if check is not None:
            if check(principals, permission):
                return Allowed(f"{permission!r} granted")
            return Denied(f"{permission!r} denied")
        if getattr(context, "__acl__", None) is not None:
            return self.acl.permits(context, principals, permission)
        return Allowed("Context declares no permissions")

    def remember(self, request: Any, userid: str, **kw: Any) -> list[tuple[str, str]]:
        return []

    def forget(self, request: Any, **kw: Any) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        for _, policy in self.policies:
            forget = getattr(policy, "forget", None)
            if forget is not None:
                headers.extend(forget(request))
        return headers


def setup_request_identity(config: Any, policies: Sequence[tuple[str, Any]]) -> None:
    """Add ``request.kinto_identity``, ``prefixed_userid`` and ``prefixed_principals`` (computed once per request)."""

    def kinto_identity(request: Any) -> Identity | None:
        return identify(policies, request)

    def prefixed_userid(request: Any) -> str | None:
        identity = request.kinto_identity
        return identity.prefixed_userid if identity else None

    def prefixed_principals(request: Any) -> list[str]:
        policy = request.registry.queryUtility(ISecurityPolicy)
        if isinstance(policy, SecurityPolicy):
            return policy.principals(request)
        return [EVERYONE]

    config.add_request_method(kinto_identity, "kinto_identity", reify=True)
    config.add_request_method(prefixed_userid, "prefixed_userid", reify=True)
    config.add_request_method(prefixed_principals, "prefixed_principals", reify=True)

