"""Authorization: principals of a request, and the Pyramid security policy.

Principals are ``system.Everyone``, ``system.Authenticated`` (when a user is
identified), the prefixed user id, and what the application adds (groups):
the permission backend's user principals, through the ``multiauth.groupfinder``
callable. Whether a principal may do something on an object is the context's
business: a context with ``check_permission(principals, permission)`` (the
resource framework's) decides; other contexts use Pyramid's ACLs when they
have ``__acl__`` and are open otherwise.

``RouteFactory`` is Kinto's route context, kept for plugin views written for
Kinto 26.5 (stable API): a plugin sets ``resource_name``,
``permission_object_id`` and ``required_permission`` on it, and views declared
with ``permission=DYNAMIC`` are allowed when the caller holds that permission,
inherited as the named resource declares it. ``PRIVATE`` (any authenticated
user) and ``DYNAMIC`` are Kinto's permission names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from pyramid.security import NO_PERMISSION_REQUIRED, Allowed, Denied

from kinto.core.authentication import Identity, identify
from kinto.core.resource.context import DYNAMIC, ResourceContext
from kinto.core.settings import principals_of

__all__ = [
    "AUTHENTICATED",
    "DYNAMIC",
    "EVERYONE",
    "PRIVATE",
    "RouteFactory",
    "SecurityPolicy",
    "groupfinder",
    "keep_user_principals",
    "knows_user_principals",
    "principals_to_read",
]

logger = logging.getLogger(__name__)

EVERYONE = Everyone  # "system.Everyone"
AUTHENTICATED = Authenticated  # "system.Authenticated"

#: A view permission granted to every authenticated user, whatever the permission backend holds.
PRIVATE = "private"

#: Kinto's permission of each method when a ``RouteFactory`` serves a resource route.
_METHOD_PERMISSIONS = {
    "GET": "read",
    "HEAD": "read",
    "POST": "create",
    "PUT": "write",
    "PATCH": "write",
    "DELETE": "write",
}


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
        keep_user_principals(request, userid, backend.get_user_principals_bounded(userid, principals_to_read(request)))
    return cache[userid]


def principals_to_read(request: Any) -> int:
    """How many user principals to ask the backend for: one more than ``kinto.max_user_principals``
    tells whether some were left out, which the administrator must hear of."""
    return int(request.registry.settings["max_user_principals"]) + 1


def keep_user_principals(request: Any, userid: str, principals: list[str]) -> None:
    """What ``groupfinder`` answers for ``userid`` in this request: ``principals``, as
    ``get_user_principals_bounded(userid, principals_to_read(request))`` gave them (read ahead
    of the permission check by a route context, or by ``groupfinder`` itself)."""
    limit = principals_to_read(request) - 1
    request.bound_data.setdefault("user_principals", {})[userid] = _bounded_user_principals(userid, principals, limit)


def knows_user_principals(request: Any, userid: str) -> bool:
    """Whether ``groupfinder`` already holds the principals of ``userid`` for this request."""
    return userid in request.bound_data.get("user_principals", {})


def _bounded_user_principals(userid: str, principals: list[str], limit: int) -> list[str]:
    if len(principals) > limit:
        logger.warning(
            "%s holds more than %d principals (kinto.max_user_principals): the others are ignored", userid, limit
        )
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
        read_ahead = getattr(context, "prefetch", None)
        if check is not None and read_ahead is not None:
            read_ahead()  # the principals may come with what the check reads (see ResourceContext.prefetch)
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


class RouteFactory:
    """Kinto's route context: the permission a plugin view needs, on which object.

    Built per request (``Service(..., factory=RouteFactory)``, or a subclass that
    sets the attributes below in its ``__init__``, as kinto-attachment does):

    * ``resource_name``: the registered resource whose permission rules apply
      (``"record"``): the inheritance it declares (a record's ``write`` is granted
      by ``write`` on the record, its collection or its bucket) and its
      ``<resource>_<permission>_principals`` settings;
    * ``permission_object_id``: the object's URI without the version prefix;
    * ``required_permission``: what a view declared with ``permission=DYNAMIC``
      needs. ``"create"`` is checked on the parents the request's route names
      (a record's collection and bucket), as creating through the resource does.

    On a resource route the three are filled in from the route and the method.
    ``check_permission`` takes a permission name (what the security policy
    asks) or, as Kinto's did, a list of ``(object URI, permission)`` pairs.
    """

    resource_name: str | None = None
    on_plural_endpoint: bool = False
    required_permission: str | None = None
    permission_object_id: str | None = None
    current_object: dict[str, Any] | None = None
    shared_ids: list[str] | None = None

    def __init__(self, request: Any) -> None:
        from kinto.core.utils import current_resource_name, strip_uri_prefix

        self.request = request
        self._settings = request.registry.settings
        name = current_resource_name(request)
        if name is not None:
            route = request.matched_route
            self.resource_name = name
            self.on_plural_endpoint = route.name.endswith("-plural")
            self.required_permission = _METHOD_PERMISSIONS.get(request.method)
            self.permission_object_id = strip_uri_prefix(request.path)

    def get_prefixed_principals(self) -> list[str]:
        return list(self.request.prefixed_principals)

    def check_permission(self, principals: Sequence[str], permission: Any) -> bool:
        """Whether ``principals`` hold ``permission`` (a name, ``DYNAMIC``, or Kinto's bound pairs)."""
        if permission is None or isinstance(permission, str):
            if permission == PRIVATE:
                return AUTHENTICATED in principals
            wanted = self.required_permission if permission in (DYNAMIC, None) else permission
            if wanted is None:
                return False
            context = self._resource_context()
            if context is None:
                bound = [(self.permission_object_id or "", wanted)]
                if wanted == "read":
                    bound.append((self.permission_object_id or "", "write"))
                return self._holds_any(principals, bound)
            if set(principals) & context.resource_class.allowed_principals(context, wanted):
                return True
            uri = None if wanted == "create" else self.permission_object_id
            return context.has_permission(list(principals), wanted, uri)
        return self._holds_any(principals, list(permission))

    def has_permission(self, principals: Sequence[str], permission: str, object_uri: str | None) -> bool:
        """What resources ask while serving a plugin view (may the caller write this object?)."""
        context = self._resource_context()
        if context is None:
            return self._holds_any(principals, [(object_uri or "", permission)])
        return context.has_permission(list(principals), permission, object_uri)

    def _resource_context(self) -> ResourceContext | None:
        from kinto.core.resource.registration import registered_resources

        info = registered_resources(self.request.registry).get(self.resource_name or "")
        if info is None:
            return None
        cached = getattr(self, "_context", None)
        if cached is None or cached.resource_class is not info.resource_class:
            endpoint = "plural" if self.on_plural_endpoint else "object"
            cached = self._context = ResourceContext(self.request, info.resource_class, endpoint)
        return cached

    def _holds_any(self, principals: Sequence[str], bound: list[tuple[str, str]]) -> bool:
        held = set(principals)
        for _, permission in bound:
            # ``record:create`` reads ``record_create_principals``, ``write`` reads ``<resource>_write_principals``.
            if self.resource_name and permission.startswith(self.resource_name + ":"):
                key = permission.replace(":", "_") + "_principals"
            else:
                key = f"{self.resource_name}_{permission}_principals"
            if held & principals_of(self._settings.get(key)):
                return True
        backend = getattr(self.request.registry, "permission", None)
        return bool(backend is not None and bound and backend.check_permission(list(held), bound))
