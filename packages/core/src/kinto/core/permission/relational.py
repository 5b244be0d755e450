"""What the SQL permission backends (SQLite, PostgreSQL) share: their capabilities, the shared
client's transactions, and the statements that read the same in both dialects.

The rows they read are shaped into the contract's return values by :mod:`.results`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from kinto.core.permission import BoundPermission, PermissionBase
from kinto.core.permission.results import accessible_from_rows

__all__ = ["RelationalPermission"]


class RelationalPermission(PermissionBase):
    """Principals and access control entries in the ``user_principals`` and ``access_control_entries`` tables."""

    supports_transactions: ClassVar[bool] = True
    supports_concurrent_processes: ClassVar[bool] = True
    supports_savepoints: ClassVar[bool] = True
    supports_copy: ClassVar[bool] = True

    def __init__(self, client: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def transaction(self, *, write: bool = True) -> AbstractContextManager[None]:
        return self.client.transaction(write=write)

    def savepoint(self) -> AbstractContextManager[None]:
        return self.client.savepoint()

    def get_accessible_objects(
        self,
        principals: Iterable[str],
        bound_permissions: Sequence[BoundPermission] | None = None,
        with_children: bool = True,
    ) -> dict[str, set[str]]:
        principals = list(set(principals))
        if not principals or (bound_permissions is not None and not bound_permissions):
            return {}
        rows = self._accessible_rows(principals, bound_permissions)
        return accessible_from_rows(rows, bound_permissions, with_children)

    @abc.abstractmethod
    def _accessible_rows(
        self, principals: list[str], bound_permissions: Sequence[BoundPermission] | None
    ) -> list[tuple[str, str]]:
        """``(object_id, permission)`` rows granted to ``principals`` (not empty), matching
        ``bound_permissions`` (not empty; None: every permission of every object)."""

    def check_permission(self, principals: Iterable[str], bound_permissions: Sequence[BoundPermission]) -> bool:
        principals = list(set(principals))
        if not bound_permissions or not principals:
            return False
        return self._holds_any(principals, bound_permissions)

    @abc.abstractmethod
    def _holds_any(self, principals: list[str], bound_permissions: Sequence[BoundPermission]) -> bool:
        """Whether one of ``principals`` (not empty) holds one of ``bound_permissions`` (not empty, literal ids)."""

    def replace_object_permissions(
        self, object_id: str, permissions: Mapping[str, Iterable[str]]
    ) -> Mapping[str, Iterable[str]]:
        if permissions:
            names = list(permissions)
            self._replace(object_id, names, [(name, who) for name in names for who in set(permissions[name])])
        return permissions

    @abc.abstractmethod
    def _replace(self, object_id: str, names: list[str], pairs: list[tuple[str, str]]) -> None:
        """Make ``pairs`` (permission, principal) the only entries of ``object_id`` for the permissions ``names``."""

    def flush(self) -> None:
        with self.client.connect() as connection:
            connection.execute("DELETE FROM user_principals")
            connection.execute("DELETE FROM access_control_entries")
