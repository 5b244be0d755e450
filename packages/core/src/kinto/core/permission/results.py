"""Shaping the rows of the SQL permission backends into the contract's return values."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kinto.core.permission import BoundPermission, bounded_principals
from kinto.core.permission.patterns import id_matcher

__all__ = ["accessible_from_rows", "bounded_from_rows", "export_entries_query", "permissions_by_object"]

#: ``get_user_principals_bounded`` in SQL: at most ``limit`` rows of each part, each read from the
#: primary key ``(user_id, principal)`` in order, part 0 for the user's own, 1 for system.Authenticated's.
BOUNDED_USER_PRINCIPALS = (
    "SELECT principal, 0 FROM (SELECT principal FROM user_principals WHERE user_id = {p}"
    " ORDER BY principal LIMIT {p}) AS own"
    " UNION ALL "
    "SELECT principal, 1 FROM (SELECT principal FROM user_principals WHERE user_id = {p}"
    " ORDER BY principal LIMIT {p}) AS shared"
)


def export_entries_query(
    placeholder: str, after: tuple[str, str, str] | None, limit: int | None
) -> tuple[str, list[Any]]:
    """``export_access_control_entries`` in SQL and its parameters (``placeholder``: the driver's ``?`` or ``%s``).

    Ordered by the primary key (its columns' own collations): each page is an index range.
    """
    query = "SELECT object_id, permission, principal FROM access_control_entries"
    params: list[Any] = []
    if after is not None:
        query += f" WHERE (object_id, permission, principal) > ({placeholder}, {placeholder}, {placeholder})"
        params += list(after)
    query += " ORDER BY object_id, permission, principal"
    if limit is not None:
        query += f" LIMIT {placeholder}"
        params.append(max(0, int(limit)))
    return query, params


def bounded_from_rows(rows: Iterable[tuple[str, int]], limit: int) -> list[str]:
    """The rows of ``BOUNDED_USER_PRINCIPALS`` as ``get_user_principals_bounded`` answers them."""
    ordered = sorted(rows, key=lambda row: (row[1], row[0]))
    own = [principal for principal, part in ordered if part == 0]
    shared = [principal for principal, part in ordered if part == 1]
    return bounded_principals(own, shared, limit)


def accessible_from_rows(
    rows: Iterable[tuple[str, str]], bound_permissions: Sequence[BoundPermission] | None, with_children: bool
) -> dict[str, set[str]]:
    """Group ``(object_id, permission)`` rows into ``{object_id: {permission}}``.

    Without children, SQL patterns select a superset (``*`` crosses ``/``
    there), so each row is kept only if a bound permission matches it.
    """
    accessible: dict[str, set[str]] = {}
    if bound_permissions is None or with_children:
        for object_id, permission in rows:
            accessible.setdefault(object_id, set()).add(permission)
        return accessible
    # Rows come by the hundred thousand (every record shared with a user): one lookup
    # per row finds the patterns of its permission.
    matchers: dict[str, list[Callable[[str], bool]]] = {}
    for pattern, permission in bound_permissions:
        matchers.setdefault(permission, []).append(id_matcher(pattern, False))
    for object_id, permission in rows:
        candidates = matchers.get(permission)
        if candidates is not None and any(match(object_id) for match in candidates):
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
