"""The SQLite permission backend: one file, shared with the storage when they
name the same ``sqlite:///`` URL (one client, one transaction per request).

Settings: ``permission_url`` (``sqlite:///path/kinto.sqlite`` or a plain path)
and ``permission_pool_timeout`` (seconds a writer waits for the file's lock).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

from kinto.core.database.schema import Schema
from kinto.core.database.sqlite import SQLiteClient, client_from_config
from kinto.core.permission import AUTHENTICATED_USER, BoundPermission
from kinto.core.permission.patterns import glob_pattern, is_pattern
from kinto.core.permission.relational import RelationalPermission
from kinto.core.permission.results import (
    BOUNDED_USER_PRINCIPALS,
    bounded_from_rows,
    export_entries_query,
    permissions_by_object,
)

__all__ = ["Permission", "load_from_config"]

SCHEMA = Schema(
    "permission",
    steps=(
        (
            """CREATE TABLE IF NOT EXISTS user_principals (
                   user_id TEXT NOT NULL,
                   principal TEXT NOT NULL,
                   PRIMARY KEY (user_id, principal)
               ) WITHOUT ROWID""",
            "CREATE INDEX IF NOT EXISTS idx_user_principals_principal ON user_principals (principal)",
            """CREATE TABLE IF NOT EXISTS access_control_entries (
                   object_id TEXT NOT NULL,
                   permission TEXT NOT NULL,
                   principal TEXT NOT NULL,
                   PRIMARY KEY (object_id, permission, principal)
               ) WITHOUT ROWID""",
            """CREATE INDEX IF NOT EXISTS idx_access_control_entries_principal
                   ON access_control_entries (principal, permission)""",
        ),
    ),
)


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


_BOUNDED_USER_PRINCIPALS = BOUNDED_USER_PRINCIPALS.format(p="?")


class Permission(RelationalPermission):
    """Principals and access control entries in two tables of a SQLite file."""

    embedded: ClassVar[bool] = True

    client: SQLiteClient

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.Permission {self.client.path}>"

    def initialize_schema(self, dry_run: bool = False) -> None:
        SCHEMA.migrate(self.client, dry_run=dry_run)

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self.client.connect(readonly=True) as connection:
            yield connection

    def add_user_principal(self, user_id: str, principal: str) -> None:
        with self.client.connect() as connection:
            connection.execute(
                "INSERT INTO user_principals (user_id, principal) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (user_id, principal),
            )

    def remove_user_principal(self, user_id: str, principal: str) -> None:
        with self.client.connect() as connection:
            connection.execute("DELETE FROM user_principals WHERE user_id = ? AND principal = ?", (user_id, principal))

    def remove_principal(self, principal: str) -> None:
        with self.client.connect() as connection:
            connection.execute("DELETE FROM user_principals WHERE principal = ?", (principal,))

    def get_user_principals(self, user_id: str) -> set[str]:
        with self._read() as connection:
            rows = connection.execute(
                "SELECT principal FROM user_principals WHERE user_id IN (?, ?)", (user_id, AUTHENTICATED_USER)
            ).fetchall()
        return {principal for (principal,) in rows}

    def get_user_principals_bounded(self, user_id: str, limit: int) -> list[str]:
        if limit <= 0:
            return []
        own_limit = 0 if user_id == AUTHENTICATED_USER else limit
        with self._read() as connection:
            rows = connection.execute(
                _BOUNDED_USER_PRINCIPALS, (user_id, own_limit, AUTHENTICATED_USER, limit)
            ).fetchall()
        return bounded_from_rows(rows, limit)

    def add_principal_to_ace(self, object_id: str, permission: str, principal: str) -> None:
        with self.client.connect() as connection:
            connection.execute(
                "INSERT INTO access_control_entries (object_id, permission, principal) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (object_id, permission, principal),
            )

    def remove_principal_from_ace(self, object_id: str, permission: str, principal: str) -> None:
        with self.client.connect() as connection:
            connection.execute(
                "DELETE FROM access_control_entries WHERE object_id = ? AND permission = ? AND principal = ?",
                (object_id, permission, principal),
            )

    def get_object_permission_principals(self, object_id: str, permission: str) -> set[str]:
        with self._read() as connection:
            rows = connection.execute(
                "SELECT principal FROM access_control_entries WHERE object_id = ? AND permission = ?",
                (object_id, permission),
            ).fetchall()
        return {principal for (principal,) in rows}

    def _accessible_rows(
        self, principals: list[str], bound_permissions: Sequence[BoundPermission] | None
    ) -> list[tuple[str, str]]:
        query = (
            "SELECT object_id, permission FROM access_control_entries"
            f" WHERE principal IN ({_placeholders(len(principals))})"
        )
        params: list[str] = list(principals)
        if bound_permissions is not None:
            conditions = []
            for pattern, permission in bound_permissions:
                operator = "GLOB" if is_pattern(pattern) else "="
                conditions.append(f"(object_id {operator} ? AND permission = ?)")
                params += [glob_pattern(pattern) if is_pattern(pattern) else pattern, permission]
            query += f" AND ({' OR '.join(conditions)})"
        with self._read() as connection:
            return connection.execute(query, params).fetchall()

    def get_authorized_principals(self, bound_permissions: Sequence[BoundPermission]) -> set[str]:
        if not bound_permissions:
            return set()
        conditions = " OR ".join(["(object_id = ? AND permission = ?)"] * len(bound_permissions))
        params = [value for pair in bound_permissions for value in pair]
        with self._read() as connection:
            rows = connection.execute(
                f"SELECT DISTINCT principal FROM access_control_entries WHERE {conditions}", params
            ).fetchall()
        return {principal for (principal,) in rows}

    def _holds_any(self, principals: list[str], bound_permissions: Sequence[BoundPermission]) -> bool:
        conditions = " OR ".join(["(object_id = ? AND permission = ?)"] * len(bound_permissions))
        params = [value for pair in bound_permissions for value in pair] + principals
        with self._read() as connection:
            row = connection.execute(
                f"SELECT 1 FROM access_control_entries WHERE ({conditions})"
                f" AND principal IN ({_placeholders(len(principals))}) LIMIT 1",
                params,
            ).fetchone()
        return row is not None

    def get_objects_permissions(
        self, objects_ids: Sequence[str], permissions: Iterable[str] | None = None
    ) -> list[dict[str, set[str]]]:
        unique_ids = list(dict.fromkeys(objects_ids))
        if not unique_ids:
            return []
        query = (
            "SELECT object_id, permission, principal FROM access_control_entries"
            f" WHERE object_id IN ({_placeholders(len(unique_ids))})"
        )
        params = list(unique_ids)
        if permissions is not None:
            wanted = list(set(permissions))
            if not wanted:
                return [{} for _ in objects_ids]
            query += f" AND permission IN ({_placeholders(len(wanted))})"
            params += wanted
        with self._read() as connection:
            rows = connection.execute(query, params).fetchall()
        return permissions_by_object(rows, objects_ids)

    def _replace(self, object_id: str, names: list[str], pairs: list[tuple[str, str]]) -> None:
        with self.client.connect() as connection:
            connection.execute(
                "DELETE FROM access_control_entries"
                f" WHERE object_id = ? AND permission IN ({_placeholders(len(names))})",
                [object_id, *names],
            )
            connection.executemany(
                "INSERT INTO access_control_entries (object_id, permission, principal) VALUES (?, ?, ?)",
                [(object_id, name, principal) for name, principal in pairs],
            )

    def delete_object_permissions(self, *object_id_list: str) -> None:
        if not object_id_list:
            return
        conditions = " OR ".join("object_id GLOB ?" if is_pattern(oid) else "object_id = ?" for oid in object_id_list)
        params = [glob_pattern(oid) if is_pattern(oid) else oid for oid in object_id_list]
        with self.client.connect() as connection:
            connection.execute(f"DELETE FROM access_control_entries WHERE {conditions}", params)

    def export_user_principals(self) -> list[tuple[str, str]]:
        with self._read() as connection:
            rows = connection.execute("SELECT user_id, principal FROM user_principals ORDER BY user_id, principal")
            return [(user_id, principal) for user_id, principal in rows.fetchall()]

    def export_access_control_entries(
        self, after: tuple[str, str, str] | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str]]:
        query, params = export_entries_query("?", after, limit)
        with self._read() as connection:
            return [tuple(row) for row in connection.execute(query, params).fetchall()]

    def import_permissions(
        self,
        user_principals: Iterable[tuple[str, str]] = (),
        access_control_entries: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        with self.client.connect() as connection:
            connection.executemany(
                "INSERT INTO user_principals (user_id, principal) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(str(user_id), str(principal)) for user_id, principal in user_principals],
            )
            connection.executemany(
                "INSERT INTO access_control_entries (object_id, permission, principal) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [(str(o), str(p), str(who)) for o, p, who in access_control_entries],
            )

    def heartbeat(self) -> bool:
        return self.client.answers("SELECT 1 FROM access_control_entries LIMIT 1")


def load_from_config(config: Any) -> Permission:
    """Build the SQLite permission backend on the client shared for ``permission_url``."""
    return Permission(client_from_config(config, "permission"))
