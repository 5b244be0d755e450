"""The variants of ``Resource``: objects private to their user, and objects carrying permissions.

``UserResource`` scopes every object to the caller (the parent id is the user
id). ``ShareableResource`` stores each object's ACL in the permission backend
and decides, per request, what the caller may do: the route context
(``context.py``) records what it found (the ids shared one by one, a ``PUT``
let in to create, a ``POST`` let in to read) for the handlers to act on.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pyramid import httpexceptions
from pyramid.authorization import Authenticated

from kinto.core import errors
from kinto.core.errors import ERRORS, http_error
from kinto.core.resource.context import SELF
from kinto.core.resource.model import ShareableModel
from kinto.core.resource.resource import Resource

__all__ = ["ShareableResource", "UserResource"]


class UserResource(Resource):
    """Objects private to their user: the parent id is the caller's user id."""

    def get_parent_id(self, request: Any) -> str:
        userid = request.prefixed_userid
        if not userid:
            raise http_error(
                httpexceptions.HTTPUnauthorized(),
                errno=ERRORS.MISSING_AUTH_TOKEN,
                message="Please authenticate yourself to use this endpoint",
            )
        return userid

    @classmethod
    def check_permission(cls, context: Any, principals: list[str], permission: str) -> bool:
        return Authenticated in principals and super().check_permission(context, principals, permission)


class ShareableResource(Resource):
    """Objects carrying permissions, inherited along ``permission_inheritance``.

    A caller may read an object when it holds ``read`` or ``write`` on it (or
    what the inheritance grants); write needs ``write``; creating needs
    ``create`` from the settings or the inheritance (e.g. a parent's
    ``record:create``). Plural reads without list-wide ``read`` show the
    objects the caller may read one by one; with none of those, only a
    caller who may create gets the (empty) list, others a 401/403.
    """

    shareable = True
    default_model = ShareableModel
    default_principals: ClassVar[dict[str, tuple[str, ...]]] = {"create": (Authenticated,)}
    permission_inheritance: ClassVar[dict[str, dict[str, list[str]]]] = {
        "read": {SELF: ["read", "write"]},
        "write": {SELF: ["write"]},
        "create": {},
    }

    @classmethod
    def check_permission(cls, context: Any, principals: list[str], permission: str) -> bool:
        if set(principals) & cls.allowed_principals(context, permission):
            return True
        endpoint, method = context.endpoint, context.request.method
        if endpoint == "plural":
            if context.has_permission(principals, permission, None):
                return True
            if permission in ("read", "write"):
                # Objects shared one by one: the list is filtered down to them. A caller with
                # none of them, who may not create any either, is refused (401/403, as Kinto).
                context.shared_ids = context.accessible_ids(principals, permission)
                return bool(context.shared_ids) or cls._may_create(context, principals)
            if method == "POST":
                return cls._may_read_posted_object(context, principals)
            return False
        object_id = context.request.matchdict.get("id")
        if object_id is not None and not cls.valid_id(context.request.registry.settings, object_id):
            # Such ids never reach a backend (a NUL would upset PostgreSQL). As Kinto, the
            # permission comes first: who could not reach such an object gets a 401/403, not a 400.
            if not cls.allowed_without_object(context, principals, permission, context.parent_uris()):
                return False
            raise errors.invalid("Invalid object id", location="path", name="id")
        uri = context.object_uri()
        if context.has_permission(principals, permission, uri):
            return True
        if method == "PUT" and cls._may_create(context, principals):
            context.allowed_by_create = True
            return True
        if method != "PUT":  # creating where one may not: 403, as Kinto, even on a missing object
            cls.not_found_if_parent_readable(context, principals)
        return False

    @classmethod
    def allowed_without_object(
        cls, context: Any, principals: list[str], permission: str, parents: dict[str, str]
    ) -> bool:
        """The permission of a request whose object cannot exist (its id is invalid): what the
        settings and the ``parents`` grant, creating included for a ``PUT``."""
        if set(principals) & cls.allowed_principals(context, permission):
            return True
        if context.has_inherited_permission(principals, permission, parents):
            return True
        if context.endpoint == "object" and context.request.method == "PUT":
            return bool(
                set(principals) & cls.allowed_principals(context, "create")
            ) or context.has_inherited_permission(principals, "create", parents)
        return False

    @classmethod
    def not_found_if_parent_readable(cls, context: Any, principals: list[str]) -> None:
        """Hook: a caller who may read the parent learns that a missing object is missing (404, as Kinto)."""
        if not context.has_permission(principals, "read", None):
            return
        resource = cls(context.request, context=context)
        object_id = resource._object_id()  # an invalid id is a 400
        if resource._get_or_none(object_id) is None:
            raise resource._not_found()

    @classmethod
    def _may_read_posted_object(cls, context: Any, principals: list[str]) -> bool:
        """As Kinto: a POST naming an existing object reads it, so ``read`` on it suffices."""
        request = context.request
        try:
            body = request.json_body if request.body else None
        except httpexceptions.HTTPException:
            return False  # refused as any caller who may not create; the body is not looked at further
        data = body.get("data") if isinstance(body, dict) else None
        object_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(object_id, str) or not cls.valid_id(request.registry.settings, object_id):
            return False
        if not context.has_permission(principals, "read", context.object_uri(object_id)):
            return False
        if cls(request, context=context)._get_or_none(object_id) is None:
            return False
        context.allowed_to_read_only = True
        return True

    @classmethod
    def _may_create(cls, context: Any, principals: list[str]) -> bool:
        if set(principals) & cls.allowed_principals(context, "create"):
            return True
        return context.has_permission(principals, "create", None)
