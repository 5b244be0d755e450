"""Shaping the rows of the SQL permission backends into the contract's return values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kinto.core.permission import BoundPermission
from kinto.core.permission.patterns import id_matcher

__all__ = ["accessible_from_rows", "permissions_by_object"]


def accessible_from_rows(
    rows: Iterable[tuple[str, str]], bound_permissions: Sequence[BoundPermission] | None, with_children: bool
) -> dict[str, set[str]]:
    """Group ``(object_id, permission)`` rows into ``{object_id: {permission}}``.

    Without children, SQL patterns select a superset (``*`` crosses ``/``
    there), so each row is kept only if a bound permission matches it.
    """
    matchers = None
    if bound_permissions is not None and not with_children:
        matchers = [(id_matcher(pattern, False), permission) for pattern, permission in bound_permissions]
    accessible: dict[str, set[str]] = {}
    for object_id, permission in rows:
        if matchers is None or any(perm == permission and match(object_id) for match, perm in matchers):
            accessible.setdefault(object_id, set()).add(permission)
    return accessible


def permissions_by_object(
    rows: Iterable[tuple[str, str, str]], objects_ids: Sequence[str]
) -> list[dict[str, set[str]]]:
    """Turn ``(object_id, permission, principal)`` rows into one
    ``{permission: {principal}}`` mapping per id of ``objects_ids``, in order."""
    by_object: dict[str, dict[str, set[str]]] = {}
    for object_id, permission, principal in rows:
        by_object.setdefault(object_id, {}).setdefault(permission, set()).add(principal)
    return [{perm: set(members) for perm, members in by_object.get(oid, {}).items()} for oid in objects_ids]
