"""What the SQL permission backends (SQLite, PostgreSQL) share: their capabilities, the shared
client's transactions, and the statements that read the same in both dialects.

The rows they read are shaped into the contract's return values by :mod:`.results`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, ClassVar

from kinto.core.permission import PermissionBase

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

    def flush(self) -> None:
        with self.client.connect() as connection:
            connection.execute("DELETE FROM user_principals")
            connection.execute("DELETE FROM access_control_entries")
