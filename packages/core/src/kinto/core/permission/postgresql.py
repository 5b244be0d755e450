"""The PostgreSQL permission backend (psycopg 3, pooled through the shared client).

Its tables have the shape of Kinto's permission schema version 2, so a
database migrated by Kinto is used as is. Settings: ``permission_url``,
``permission_pool_size``, ``permission_pool_timeout``,
``permission_connect_timeout``, ``permission_statement_timeout_ms``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from kinto.core.database.postgresql import (
    PostgreSQLClient,
    client_from_config,
    execute_later,
    metadata_values,
    table_columns,
    text_array,
)
from kinto.core.database.schema import Schema
from kinto.core.permission import AUTHENTICATED_USER, BoundPermission
from kinto.core.permission.patterns import is_pattern, like_pattern
from kinto.core.permission.relational import RelationalPermission
from kinto.core.permission.results import (
    BOUNDED_USER_PRINCIPALS,
    bounded_from_rows,
    export_entries_query,
    permissions_by_object,
)
from kinto.core.storage.exceptions import BackendError

__all__ = ["Permission", "load_from_config"]

logger = logging.getLogger(__name__)

#: Object and user ids are URLs and hashes, not prose: the "C" collation compares
#: bytes and lets ``LIKE 'prefix%'`` use the primary key's index.
SCHEMA = Schema(
    "permission",
    steps=(
        (
            """CREATE TABLE IF NOT EXISTS user_principals (
                   user_id TEXT COLLATE "C",
                   principal TEXT,
                   PRIMARY KEY (user_id, principal)
               )""",
            """CREATE TABLE IF NOT EXISTS access_control_entries (
                   object_id TEXT COLLATE "C",
                   permission TEXT,
                   principal TEXT,
                   PRIMARY KEY (object_id, permission, principal)
               )""",
            "CREATE INDEX IF NOT EXISTS idx_access_control_entries_object_id ON access_control_entries (object_id)",
            "CREATE INDEX IF NOT EXISTS idx_access_control_entries_permission ON access_control_entries (permission)",
            "CREATE INDEX IF NOT EXISTS idx_access_control_entries_principal ON access_control_entries (principal)",
        ),
        (
            'ALTER TABLE user_principals ALTER COLUMN user_id TYPE TEXT COLLATE "C"',
            'ALTER TABLE access_control_entries ALTER COLUMN object_id TYPE TEXT COLLATE "C"',
            "CREATE INDEX IF NOT EXISTS idx_user_principals_principal ON user_principals (principal)",
        ),
    ),
)

_PRINCIPAL_INDEX = "CREATE INDEX IF NOT EXISTS idx_user_principals_principal ON user_principals (principal)"
#: The columns of every version's tables, Kinto's (1 and 2) as well as ours.
TABLES = {
    "user_principals": {"user_id": "text", "principal": "text"},
    "access_control_entries": {"object_id": "text", "permission": "text", "principal": "text"},
}


@dataclasses.dataclass(frozen=True)
class Installed:
    """The permission schema a database holds: ``version`` (0: none yet), written by Kinto or not, or refused."""

    version: int = 0
    kinto: bool = False
    refused: str | None = None

    def describe(self) -> str:
        if self.refused is not None:
            return f"unrecognised permission tables: {self.refused}"
        if self.kinto:
            return f"Kinto's permission schema {self.version}"
        return f"permission schema version {self.version}" if self.version else "no permission tables"


def inspect(connection: Any) -> Installed:
    """Which permission schema the database holds, by its metadata row and its tables (nothing is written).

    Kinto's schema 1 has the tables and no ``permission_schema_version`` row (ours always writes
    one with its tables); Kinto's schema 2 is our version 2 less ``idx_user_principals_principal``.
    """
    found = table_columns(connection, TABLES)
    try:
        versions = metadata_values(connection, SCHEMA.key)
    except ValueError as error:
        return Installed(refused=str(error))
    if found and found != TABLES:
        return Installed(refused=f"columns {found}, expected {TABLES}")
    if not versions:
        return Installed(version=1, kinto=True) if found else Installed()
    if len(set(versions)) != 1 or versions[0] not in ("1", "2") or not found:
        return Installed(refused=f"permission_schema_version {versions} with tables {sorted(found)}")
    version = int(versions[0])
    if version == 2:
        indexed = connection.execute("SELECT to_regclass('idx_user_principals_principal') IS NOT NULL").fetchone()[0]
        return Installed(version=2, kinto=not indexed)
    return Installed(version=1)


_WANTED = "unnest(%s::text[], %s::text[])"


def _columns(bound_permissions: Sequence[BoundPermission]) -> tuple[str, str]:
    return text_array(object_id for object_id, _ in bound_permissions), text_array(p for _, p in bound_permissions)


_BOUNDED_USER_PRINCIPALS = BOUNDED_USER_PRINCIPALS.format(p="%s")
_OBJECTS_PERMISSIONS = (
    "SELECT object_id, permission, principal FROM access_control_entries WHERE object_id = ANY(%s::text[])"
)


class Permission(RelationalPermission):
    """Principals and access control entries in two PostgreSQL tables."""

    reads_ahead = True

    client: PostgreSQLClient

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.Permission {self.client!r}>"

    def initialize_schema(self, dry_run: bool = False) -> None:
        with self.client.connect() as connection:
            self.client.lock_schema(connection, SCHEMA.lock_name)
            installed = inspect(connection)
            if installed.refused is not None:
                raise RuntimeError(f"{installed.describe()}: nothing was changed")
            if installed.kinto:
                logger.info("Permission: the database holds %s", installed.describe())
            pending = None
            if installed.kinto and installed.version == SCHEMA.version:
                pending = [(installed.version, (_PRINCIPAL_INDEX,))]  # Kinto's last schema is ours less one index
            SCHEMA.upgrade(self.client, connection, installed.version, dry_run=dry_run, pending=pending)

    def schema_mismatch(self) -> str | None:
        try:
            with self.client.connect(readonly=True) as connection:
                installed = inspect(connection)
        except BackendError:
            return None  # unreachable: the heartbeat says so
        if installed.refused is not None:
            return f"{installed.describe()}; kinto migrate refuses to touch them"
        if installed.kinto:
            return f"the database holds {installed.describe()}: run kinto migrate to convert it"
        return SCHEMA.mismatch(installed.version)

    def _rows(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.client.connect(readonly=True) as connection:
            return connection.execute(query, params).fetchall()

    def _write(self, query: str, params: Sequence[Any] = ()) -> None:
        with self.client.connect() as connection:
            connection.execute(query, params)

    def add_user_principal(self, user_id: str, principal: str) -> None:
        self._write(
            "INSERT INTO user_principals (user_id, principal) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (user_id, principal),
        )

    def remove_user_principal(self, user_id: str, principal: str) -> None:
        self._write("DELETE FROM user_principals WHERE user_id = %s AND principal = %s", (user_id, principal))

    def remove_principal(self, principal: str) -> None:
        self._write("DELETE FROM user_principals WHERE principal = %s", (principal,))

    def get_user_principals(self, user_id: str) -> set[str]:
        rows = self._rows(
            "SELECT principal FROM user_principals WHERE user_id = ANY(%s::text[])",
            (text_array([user_id, AUTHENTICATED_USER]),),
        )
        return {principal for (principal,) in rows}

    def get_user_principals_bounded(self, user_id: str, limit: int) -> list[str]:
        if limit <= 0:
            return []
        own_limit = 0 if user_id == AUTHENTICATED_USER else limit
        rows = self._rows(_BOUNDED_USER_PRINCIPALS, (user_id, own_limit, AUTHENTICATED_USER, limit))
        return bounded_from_rows(rows, limit)

    def add_principal_to_ace(self, object_id: str, permission: str, principal: str) -> None:
        self._write(
            "INSERT INTO access_control_entries (object_id, permission, principal) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (object_id, permission, principal),
        )

    def remove_principal_from_ace(self, object_id: str, permission: str, principal: str) -> None:
        self._write(
            "DELETE FROM access_control_entries WHERE object_id = %s AND permission = %s AND principal = %s",
            (object_id, permission, principal),
        )

    def get_object_permission_principals(self, object_id: str, permission: str) -> set[str]:
        rows = self._rows(
            "SELECT principal FROM access_control_entries WHERE object_id = %s AND permission = %s",
            (object_id, permission),
        )
        return {principal for (principal,) in rows}

    def _accessible_rows(
        self, principals: list[str], bound_permissions: Sequence[BoundPermission] | None
    ) -> list[tuple[str, str]]:
        if bound_permissions is None:
            return self._rows(
                "SELECT DISTINCT object_id, permission FROM access_control_entries WHERE principal = ANY(%s::text[])",
                (text_array(principals),),
            )
        patterns = text_array(like_pattern(pattern) for pattern, _ in bound_permissions)
        permissions = text_array(permission for _, permission in bound_permissions)
        return self._rows(
            "SELECT DISTINCT ace.object_id, ace.permission FROM access_control_entries AS ace"
            f" JOIN {_WANTED} AS wanted (pattern, permission)"
            " ON ace.permission = wanted.permission AND ace.object_id LIKE wanted.pattern"
            " WHERE ace.principal = ANY(%s::text[])",
            (patterns, permissions, text_array(principals)),
        )

    def get_authorized_principals(self, bound_permissions: Sequence[BoundPermission]) -> set[str]:
        if not bound_permissions:
            return set()
        rows = self._rows(
            "SELECT DISTINCT principal FROM access_control_entries"
            f" JOIN {_WANTED} AS wanted (object_id, permission) USING (object_id, permission)",
            _columns(bound_permissions),
        )
        return {principal for (principal,) in rows}

    def _holds_any(self, principals: list[str], bound_permissions: Sequence[BoundPermission]) -> bool:
        rows = self._rows(
            "SELECT EXISTS (SELECT 1 FROM access_control_entries"
            f" JOIN {_WANTED} AS wanted (object_id, permission) USING (object_id, permission)"
            " WHERE principal = ANY(%s::text[]))",
            (*_columns(bound_permissions), text_array(principals)),
        )
        return bool(rows[0][0])

    def get_objects_permissions(
        self, objects_ids: Sequence[str], permissions: Iterable[str] | None = None
    ) -> list[dict[str, set[str]]]:
        if not objects_ids:
            return []
        query = _OBJECTS_PERMISSIONS
        params: list[Any] = [text_array(dict.fromkeys(objects_ids))]
        if permissions is not None:
            query += " AND permission = ANY(%s::text[])"
            params.append(text_array(set(permissions)))
        return permissions_by_object(self._rows(query, params), objects_ids)

    def prefetch(
        self, user_id: str | None, principals_limit: int, object_ids: Sequence[str]
    ) -> Callable[[], tuple[list[str], list[dict[str, set[str]]]]]:
        wants_principals = user_id is not None and principals_limit > 0
        statements: list[tuple[str, Sequence[Any]]] = []
        if wants_principals:
            own_limit = 0 if user_id == AUTHENTICATED_USER else principals_limit
            statements.append((_BOUNDED_USER_PRINCIPALS, (user_id, own_limit, AUTHENTICATED_USER, principals_limit)))
        if object_ids:
            statements.append((_OBJECTS_PERMISSIONS, (text_array(dict.fromkeys(object_ids)),)))
        read_rows = self.client.fetch_later(statements) if statements else list

        def read() -> tuple[list[str], list[dict[str, set[str]]]]:
            rows = iter(read_rows())
            principals = bounded_from_rows(next(rows), principals_limit) if wants_principals else []
            return principals, permissions_by_object(next(rows), object_ids) if object_ids else []

        return read

    def _replace(self, object_id: str, names: list[str], pairs: list[tuple[str, str]]) -> None:
        with self.client.connect() as connection:
            # Nothing is read back: in a write transaction the three statements travel with the next
            # one (see DeferringConnection). Concurrent replacements of one object must not merge:
            # the second waits for the first.
            execute_later(connection, "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"kinto.permission:{object_id}",))
            execute_later(
                connection,
                "DELETE FROM access_control_entries WHERE object_id = %s AND permission = ANY(%s::text[])",
                (object_id, text_array(names)),
            )
            if pairs:
                execute_later(
                    connection,
                    "INSERT INTO access_control_entries (object_id, permission, principal)"
                    " SELECT %s, wanted.permission, wanted.principal"
                    f" FROM {_WANTED} AS wanted (permission, principal) ON CONFLICT DO NOTHING",
                    (object_id, text_array(name for name, _ in pairs), text_array(principal for _, principal in pairs)),
                )

    def delete_object_permissions(self, *object_id_list: str) -> None:
        if not object_id_list:
            return
        literals = [object_id for object_id in object_id_list if not is_pattern(object_id)]
        patterns = [like_pattern(object_id) for object_id in object_id_list if is_pattern(object_id)]
        with self.client.connect() as connection:
            execute_later(
                connection,
                "DELETE FROM access_control_entries WHERE object_id = ANY(%s::text[]) OR object_id LIKE ANY(%s::text[])",
                (text_array(literals), text_array(patterns)),
            )

    def export_user_principals(self) -> list[tuple[str, str]]:
        rows = self._rows("SELECT user_id, principal FROM user_principals ORDER BY user_id, principal", ())
        return [(user_id, principal) for user_id, principal in rows]

    def export_access_control_entries(
        self, after: tuple[str, str, str] | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str]]:
        query, params = export_entries_query("%s", after, limit)
        return [tuple(row) for row in self._rows(query, params)]

    def import_permissions(
        self,
        user_principals: Iterable[tuple[str, str]] = (),
        access_control_entries: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        pairs = [(str(user_id), str(principal)) for user_id, principal in user_principals]
        entries = [(str(o), str(p), str(who)) for o, p, who in access_control_entries]
        with self.client.connect() as connection:
            # Whole columns as array parameters: one statement per table, whatever the count; nothing
            # is read back, so in a write transaction they travel with the next statement.
            if pairs:
                execute_later(
                    connection,
                    "INSERT INTO user_principals (user_id, principal) SELECT * FROM unnest(%s::text[], %s::text[])"
                    " ON CONFLICT DO NOTHING",
                    ([user_id for user_id, _ in pairs], [principal for _, principal in pairs]),
                )
            if entries:
                execute_later(
                    connection,
                    "INSERT INTO access_control_entries (object_id, permission, principal)"
                    " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING",
                    ([o for o, _, _ in entries], [p for _, p, _ in entries], [who for _, _, who in entries]),
                )

    def heartbeat(self) -> bool:
        return self.client.answers("SELECT 1")


def load_from_config(config: Any) -> Permission:
    """Build the PostgreSQL permission backend on the client shared for ``permission_url``."""
    return Permission(client_from_config(config, "permission"))
