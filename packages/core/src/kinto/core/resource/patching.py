"""What a PATCH makes of an object: data in, data out, no request, no storage.

Three kinds of PATCH, by ``Content-Type``:

* ``application/json``: Kinto's shallow update, each top-level field sent
  replaces the stored one (``null`` included, stored as such); a ``null``
  permission is ignored;
* ``application/merge-patch+json``: RFC 7396, objects merge recursively and
  ``null`` removes (a ``null`` permission empties it);
* ``application/json-patch+json``: RFC 6902 operations on the document
  ``{"data": {...}, "permissions": {perm: {principal: true}}}``.

Permissions are ``{permission: [principals]}``; ``None`` as the permissions
returned means "unchanged".
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

import jsonpatch

from kinto.core import jsonbody

__all__ = ["InvalidPatch", "changed_fields", "json_patched", "merge_patch", "merged", "same_permissions"]

Permissions = dict[str, list[str]]

_PERMISSION_PATH = re.compile(r"^/permissions/([^/]+)(?:/(.+))?$")


class InvalidPatch(ValueError):
    """The patch cannot apply; ``name`` is the part of the body at fault (None: the whole patch)."""

    def __init__(self, name: str | None, description: str) -> None:
        self.name = name
        self.description = description
        super().__init__(f"{name}: {description}" if name else description)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge recursively, ``null`` removes a key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def merged(
    data: dict[str, Any],
    permissions: Permissions,
    sent_data: dict[str, Any],
    sent_permissions: dict[str, Any] | None,
    merge: bool,
) -> tuple[dict[str, Any], Permissions | None]:
    """The data and permissions of a PATCH sending ``sent_data``/``sent_permissions``, shallow or ``merge``."""
    new_data = merge_patch(data, sent_data) if merge else {**data, **sent_data}
    if sent_permissions is None:
        return new_data, None
    if merge:
        return new_data, {**permissions, **{perm: principals or [] for perm, principals in sent_permissions.items()}}
    return new_data, {**permissions, **{perm: p for perm, p in sent_permissions.items() if p is not None}}


def json_patched(
    data: dict[str, Any],
    permissions: Permissions,
    operations: list[Any],
    permission_names: Sequence[str],
    max_depth: int,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """RFC 6902 ``operations`` applied; ``permission_names`` are the object's (none: it has no permissions).

    The permissions returned are as the patch left them, to be checked as any sent in a body.
    """
    document = {
        "data": copy.deepcopy(data),
        "permissions": {perm: {p: True for p in principals} for perm, principals in permissions.items()},
    }
    for perm in permission_names:
        document["permissions"].setdefault(perm, {})
    operations = [_checked_operation(index, operation, permission_names) for index, operation in enumerate(operations)]
    try:
        patched = jsonpatch.JsonPatch(operations).apply(document)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, ValueError) as error:
        raise InvalidPatch(None, f"Invalid JSON Patch: {error}") from None
    new_data = patched.get("data")
    if not isinstance(new_data, dict):
        raise InvalidPatch("data", "Should stay an object")
    if jsonbody.too_deep(new_data, max_depth):
        # Bodies obey the limit (and so do merge patches of them); operations that add under a
        # deep pointer would not, a request at a time.
        raise InvalidPatch("data", f"Nested deeper than {max_depth} levels (json_max_depth)")
    if not any(operation["path"].startswith("/permissions") for operation in operations):
        return new_data, None
    new_permissions = {
        perm: sorted(principals) if isinstance(principals, dict) else principals
        for perm, principals in (patched.get("permissions") or {}).items()
    }
    return new_data, new_permissions


def _checked_operation(index: int, operation: Any, permission_names: Sequence[str]) -> dict[str, Any]:
    if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
        raise InvalidPatch(str(index), "Each operation needs an op and a path")
    path = operation["path"]
    if path == "/data" or path.startswith("/data/"):
        return operation
    if not path.startswith("/permissions"):
        raise InvalidPatch(path, "Paths start with /data or /permissions")
    if not permission_names:
        raise InvalidPatch(path, "This resource has no object permissions")
    match = _PERMISSION_PATH.match(path)
    if match is None or match.group(1) not in permission_names:
        raise InvalidPatch(path, "Invalid permission path")
    if operation.get("op") == "add" and match.group(2):
        return {**operation, "value": True}  # a principal is a key of the permission's set
    return operation


def same_permissions(a: Permissions, b: Permissions) -> bool:
    """Whether two ACLs grant the same (order and empty permissions aside)."""

    def normal(permissions: Permissions) -> dict[str, set[str]]:
        return {perm: set(principals) for perm, principals in permissions.items() if principals}

    return normal(a) == normal(b)


def changed_fields(
    sent: dict[str, Any], before: dict[str, Any], after: dict[str, Any], behavior: str
) -> dict[str, Any]:
    """The fields a ``Response-Behavior: light`` or ``diff`` PATCH answers with (as Kinto).

    ``light``: the fields the request sent whose value changed; ``diff``: those of them that
    differ from what was sent (the server altered them).
    """
    changed = [key for key in sent if key in after and before.get(key) != after[key]]
    if behavior == "diff":
        changed = [key for key in changed if sent[key] != after[key]]
    return {key: after[key] for key in changed}
