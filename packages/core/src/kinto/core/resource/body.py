"""What a resource write reads from the request: the JSON body and the permissions in it, checked.

A body is an object with optional ``data`` (an object) and ``permissions``
(``{permission: [principals]}`` of the resource's permissions, on resources
whose objects carry them). A JSON Patch (``application/json-patch+json``) is a
list of operations, returned as ``{"patch": [...]}``. Responses are JSON only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyramid import httpexceptions

from kinto.core import errors
from kinto.core.resource.querystring import is_valid_text

__all__ = ["JSON_PATCH", "MERGE_TYPES", "check_accept", "checked_body", "checked_permissions", "read_body"]

MERGE_TYPES = ("application/json", "application/merge-patch+json")
JSON_PATCH = "application/json-patch+json"


def check_accept(request: Any) -> None:
    """A 406 unless the client accepts JSON."""
    accept = request.headers.get("Accept")
    if not accept or "json" in accept or "*/*" in accept:
        return
    if not request.accept.acceptable_offers(["application/json"]):
        raise errors.http_error(
            httpexceptions.HTTPNotAcceptable(),
            message="Only application/json responses are available",
            details=[
                {
                    "location": "header",
                    "name": "Accept",
                    "description": "Accept should allow one of ['application/json']",
                }
            ],
        )


def read_body(
    request: Any,
    permission_names: Sequence[str],
    content_types: tuple[str, ...] = ("application/json",),
    nullable_permissions: bool = False,
) -> dict[str, Any]:
    """The body, checked; ``permission_names``: the object's (none: permissions are refused);
    ``nullable_permissions``: a permission may be ``null`` (PATCH)."""
    body = _given_by_view(request)
    if body is None:
        if not request.body:
            return {}
        content_type = (request.content_type or "application/json").lower()
        if content_type not in content_types:
            raise errors.http_error(
                httpexceptions.HTTPUnsupportedMediaType(),
                message=f"Content-Type should be one of {', '.join(content_types)}",
                details=[
                    {
                        "location": "header",
                        "name": "Content-Type",
                        "description": f"Content-Type should be one of {list(content_types)}",
                    }
                ],
            )
        body = request.json_body
        if content_type == JSON_PATCH:
            if not isinstance(body, list):
                description = "A JSON Patch is a list of operations"
                raise errors.invalid(description, location="body", message=description)
            return {"patch": body}
    return checked_body(body, permission_names, nullable_permissions)


def checked_body(body: Any, permission_names: Sequence[str], nullable_permissions: bool = False) -> dict[str, Any]:
    """A parsed body, checked as :func:`read_body` checks it (its ``permissions`` replaced by the cleaned ones)."""
    if not isinstance(body, dict):
        description = "The body must be a JSON object"
        raise errors.invalid(description, location="body", message=description)
    if "data" in body and not isinstance(body["data"], dict):
        raise errors.invalid("Should be an object", location="body", name="data")
    if "permissions" in body:
        body["permissions"] = checked_permissions(body["permissions"], permission_names, nullable_permissions)
    return body


def _given_by_view(request: Any) -> dict[str, Any] | None:
    """The body a plugin view hands to a resource method, as Kinto's API has it.

    A view that calls ``resource.put()`` or ``resource.patch()`` itself (kinto-attachment
    updating a record after an upload) puts the JSON body in ``request.validated["body"]``;
    the request's own body is then something else (a multipart upload). It gets the same
    checks as a body sent as JSON.
    """
    validated = getattr(request, "validated", None)  # Cornice's attribute, absent outside its views
    given = validated.get("body") if isinstance(validated, dict) else None
    return dict(given) if isinstance(given, dict) else None


def checked_permissions(permissions: Any, permission_names: Sequence[str], nullable: bool = False) -> dict[str, Any]:
    """``{permission: sorted principals}`` from what a client sent, or the 400 saying what is wrong."""
    if not permission_names:
        raise errors.invalid("This resource has no object permissions", location="body", name="permissions")
    if not isinstance(permissions, dict):
        raise errors.invalid("Should be an object", location="body", name="permissions")
    cleaned = {}
    for permission, principals in permissions.items():
        name = f"permissions.{permission}"
        if permission not in permission_names:
            raise errors.invalid(f"Unknown permission {permission!r}", location="body", name=name)
        if principals is None and nullable:
            cleaned[permission] = None
            continue
        if not isinstance(principals, list) or not all(isinstance(p, str) and p for p in principals):
            raise errors.invalid("Should be a list of principals", location="body", name=name)
        if not all(is_valid_text(principal) for principal in principals):
            raise errors.invalid("Invalid character (NUL or lone surrogate)", location="body", name=name)
        cleaned[permission] = sorted(set(principals))
    return cleaned
