"""PostgreSQL storage: JSONB documents, index-friendly queries, several processes or hosts.

Enable with::

    kinto.storage_backend = kinto.core.storage.postgresql
    kinto.storage_url = postgresql://user:pass@host/db
    kinto.storage_pool_size = 10

Needs ``kinto-core[postgresql]`` (psycopg 3 and psycopg_pool). Run
``initialize_schema()`` (``kinto migrate``) once per deployment.

Writers of one collection are serialised by its row in ``timestamps``: the
upsert that bumps it (``GREATEST(now, last_modified + 1)``) locks the row until
the transaction ends, so stamps are unique and increase in commit order, and
no write ever fails for a timestamp clash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import psycopg
from psycopg.types.json import Jsonb

from kinto.core.database.postgresql import PostgreSQLClient, client_from_config, execute_later, text_array
from kinto.core.database.schema import Schema
from kinto.core.migrations import PostgreSQLPluginMigration  # Kinto's import path, for plugins
from kinto.core.settings import typed_setting
from kinto.core.storage import (
    DEFAULT_DELETED_FIELD,
    DEFAULT_ID_FIELD,
    DEFAULT_MODIFIED_FIELD,
    KintoObject,
    ObjectKey,
    PageKey,
)
from kinto.core.storage import query as q
from kinto.core.storage.exceptions import BackendError
from kinto.core.storage.indexes import DeclaredFields
from kinto.core.storage.postgresql import migration
from kinto.core.storage.postgresql.schema import SCHEMA
from kinto.core.storage.postgresql.sortkey import FieldIndexes, SortKeyDialect
from kinto.core.storage.relational import COLUMNS, OBJECT_COLUMNS, OBJECT_UPSERT, RelationalStorage
from kinto.core.storage.sql import Dialect, QueryBuilder, escape_like
from kinto.core.storage.timestamps import now_ms

#: The rows of ``(parent_id, resource_name, id)`` keys given as three arrays: one primary-key lookup each.
_OBJECTS_BY_KEY = (
    f"SELECT {COLUMNS} FROM objects WHERE (parent_id, resource_name, id) IN"
    " (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))"
)

#: The timestamps of ``(parent_id, resource_name)`` collections given as two arrays.
_TIMESTAMPS_BY_LOCATION = (
    "SELECT parent_id, resource_name, last_modified FROM timestamps WHERE (parent_id, resource_name) IN"
    " (SELECT * FROM unnest(%s::text[], %s::text[]))"
)

__all__ = ["PostgreSQLDialect", "PostgreSQLPluginMigration", "Storage", "load_from_config"]

_RANK = (
    "CASE jsonb_typeof(data #> {p}::text[]) WHEN 'null' THEN 0 WHEN 'string' THEN 1 WHEN 'number' THEN 2 "
    "WHEN 'boolean' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 5 ELSE 6 END"
)
# CASE guards the casts: PostgreSQL does not promise to evaluate AND left to right.
_SCALARS = {
    "number": "(CASE WHEN jsonb_typeof(data #> {p}::text[]) = 'number' THEN (data #> {p}::text[])::numeric END)",
    "string": "(CASE WHEN jsonb_typeof(data #> {p}::text[]) = 'string' THEN data #>> {p}::text[] END) COLLATE \"C\"",
    "boolean": "(CASE WHEN jsonb_typeof(data #> {p}::text[]) = 'boolean' THEN (data #> {p}::text[])::boolean END)",
}


def _nest(field: str, value: Any) -> dict[str, Any]:
    """``a.b`` and ``v`` -> ``{"a": {"b": v}}``, the shape containment needs."""
    for part in reversed(field.split(".")):
        value = {part: value}
    return value


def _is_scalar(value: Any) -> bool:
    return q.type_rank(value) not in (q.RANK_ARRAY, q.RANK_OBJECT)


class PostgreSQLDialect(SortKeyDialect, Dialect):
    """jsonb operators over a JSONB ``data`` column."""

    def placeholder(self, name: str) -> str:
        return f"%({name})s"

    def path(self, field: str) -> list[str]:
        return field.split(".")

    def kind(self, path: str) -> str:
        return f"jsonb_typeof(data #> {path}::text[])"

    def rank(self, path: str) -> str:
        return _RANK.format(p=path)

    def scalar(self, path: str, kind: str) -> str:
        return _SCALARS[kind].format(p=path)

    def sort_parts(self, path: str) -> list[str]:
        return [_SCALARS[kind].format(p=path) for kind in ("number", "string", "boolean")]

    def json_text(self, path: str) -> str:
        return f"(data #> {path}::text[])"

    def json_param(self, value: Any) -> Any:
        return Jsonb(value)

    def lower(self, expression: str) -> str:
        return f"lower({expression})"

    def scalar_equals(self, builder: QueryBuilder, field: str, value: Any) -> str:
        # Containment on the whole document is what the GIN index serves.
        return f"(data @> {builder.add(q.canonical_json(_nest(field, value)))}::jsonb)"

    def array_has(self, builder: QueryBuilder, field: str, values: list[Any], every: bool) -> str:
        # Containment is exact for scalar elements only: ``[{"k": 1, "o": 2}] @> [{"k": 1}]``
        # holds, so object and array elements are compared with jsonb equality instead.
        path = builder.add(self.path(field))
        if every:
            containment = f"(data @> {builder.add(q.canonical_json(_nest(field, list(values))))}::jsonb)"
            exact = [self._element_in(builder, path, v) for v in values if not _is_scalar(v)]
            return "(" + " AND ".join([containment, *exact]) + ")"
        alternatives = " OR ".join(
            f"(data #> {path}::text[]) @> {builder.add(q.canonical_json([v]))}::jsonb"
            if _is_scalar(v)
            else self._element_in(builder, path, v)
            for v in values
        )
        return f"({self.kind(path)} = 'array' AND ({alternatives}))"

    def _element_in(self, builder: QueryBuilder, path: str, value: Any) -> str:
        """Whether the array at ``path`` holds an element equal to ``value`` (CASE guards the set function)."""
        elements = f"jsonb_array_elements(data #> {path}::text[])"
        wanted = builder.add(q.canonical_json(value))
        return (
            f"(CASE WHEN {self.kind(path)} = 'array' "
            f"THEN EXISTS (SELECT 1 FROM {elements} AS element WHERE element = {wanted}::jsonb) ELSE FALSE END)"
        )

    def column_in(self, builder: QueryBuilder, column: str, kind: str, values: list[Any]) -> str:
        # One array parameter. ``= ANY`` over it is planned with the array's value and checked
        # with a hash table (PostgreSQL 14+); ``IN (SELECT unnest(...))`` was planned as a nested
        # loop rescanning the whole list for each row.
        sql_type = "text" if kind == "string" else "bigint"
        return f"({column} = ANY({builder.add(text_array(values))}::{sql_type}[]))"


class Storage(FieldIndexes, RelationalStorage):
    """Storage in PostgreSQL, through the shared :class:`~kinto.core.database.postgresql.PostgreSQLClient`."""

    reads_ahead = True

    schema: ClassVar[Schema] = SCHEMA
    chained_writes: ClassVar[bool] = True

    def __init__(self, client: PostgreSQLClient, *, readonly: bool = False) -> None:
        super().__init__(client, readonly=readonly)
        self.dialect = PostgreSQLDialect()
        self.declared_fields = DeclaredFields(self.read_declared_fields)

    def _declared(self, connection: Any, resource_name: str | None, parent_id: str) -> frozenset[str]:
        return self.declared_fields.get(connection, resource_name, parent_id)

    def _json_input(self, placeholder: str) -> str:
        return f"{placeholder}::jsonb"

    def _integer(self, placeholder: str) -> str:
        return f"{placeholder}::bigint"

    def dialect_greatest(self, left: str, right: str) -> str:
        return f"GREATEST({left}, {right})"

    def _execute_planned(self, connection: Any, sql: str, params: Any) -> Any:
        """The statement with its values written in, as literals (psycopg's client-side binding).

        Pooled connections plan prepared statements once (``plan_cache_mode``, see
        ``kinto.core.database.postgresql``): right for lookups by key, not for a listing, whose
        best plan depends on its filter's values (a ``LIKE`` prefix, how many rows a range keeps).
        With its values in its text, PostgreSQL plans each listing for them, as it did for every
        statement before."""
        return connection.execute(self._with_literals(connection, sql, params))

    @staticmethod
    def _with_literals(connection: Any, sql: str, params: Any) -> str:
        """``sql`` with ``params`` written in by psycopg's client-side binding (the connection's
        encoding and quoting rules): a statement without parameters, planned for its values."""
        raw = getattr(connection, "raw", connection)  # a write's DeferringConnection: the psycopg connection
        return psycopg.ClientCursor(raw).mogrify(sql, params)

    def _parent_matches(self, b: QueryBuilder, pattern: str) -> str:
        like = "%".join(escape_like(part) for part in pattern.split("*"))
        return f"parent_id LIKE {b.add(like)}"

    def prefetch_objects(self, keys: Sequence[ObjectKey]) -> Callable[[], list[KintoObject | None]]:
        wanted = [key for key in keys if "\x00" not in "".join(key)]
        if not wanted:
            return lambda: [None] * len(keys)
        self._check_schema()
        columns = (
            text_array(parent_id for _, parent_id, _ in wanted),
            text_array(name for name, _, _ in wanted),
            text_array(object_id for *_, object_id in wanted),
        )
        read_rows = self.client.fetch_later([(_OBJECTS_BY_KEY, columns)])

        def read() -> list[KintoObject | None]:
            found = {(row[5], row[4], row[0]): row for row in read_rows()[0] if not row[2]}
            rows = [found.get(key) for key in keys]
            defaults = (DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD, DEFAULT_DELETED_FIELD)
            return [None if row is None else self._to_object(row, *defaults) for row in rows]

        return read

    def prefetch_timestamps(self, locations: Sequence[tuple[str, str]]) -> Callable[[], list[int | None]]:
        # A location holding NUL is left to ``resource_timestamp``, which refuses it.
        wanted = [location for location in locations if "\x00" not in "".join(location)]
        if not wanted:
            return lambda: [None] * len(locations)
        self._check_schema()
        columns = (
            text_array(parent_id for _, parent_id in wanted),
            text_array(resource_name for resource_name, _ in wanted),
        )
        read_rows = self.client.fetch_later([(_TIMESTAMPS_BY_LOCATION, columns)])

        def read() -> list[int | None]:
            found = {(row[1], row[0]): int(row[2]) for row in read_rows()[0]}
            return [found.get(location) for location in locations]

        return read

    def prefetch_page(self, page: PageKey) -> Callable[[], tuple[int | None, list[KintoObject]]]:
        resource_name, parent_id, _, sorting = page[:4]
        q.check_location(resource_name, parent_id)
        self._check_schema()
        with self.client.connect(readonly=True) as connection:
            declared = self._declared(connection, resource_name, parent_id)
            if any(field in declared for field, _ in sorting or []):
                return super().prefetch_page(page)  # sort keys may be lossy: list_all reads again then
            stamp = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
            stamp_sql = (
                f"SELECT last_modified FROM timestamps WHERE {self._collection(stamp, resource_name, parent_id)}"
            )
            listed = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD, declared)
            # As every listing (``_execute_planned``): its values as literals, planned for them.
            listed_sql = self._select_sql(listed, *page, OBJECT_COLUMNS)
            listing = self._with_literals(connection, listed_sql, listed.params)
        read_rows = self.client.fetch_later([(stamp_sql, stamp.params), (listing, None)])

        def read() -> tuple[int | None, list[KintoObject]]:
            stamps, rows = read_rows()
            defaults = (DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD, DEFAULT_DELETED_FIELD)
            return (int(stamps[0][0]) if stamps else None), [self._to_object(row, *defaults) for row in rows]

        return read

    def initialize_schema(self, dry_run: bool = False) -> None:
        """Create or upgrade our schema, or convert Kinto's (see :mod:`.migration`); refuse anything else."""
        with self.client.connect(readonly=True) as connection:
            installed = migration.inspect(connection, self.schema.version)
        if installed.refused is not None:
            raise migration.UnknownSchemaError(f"{installed.describe()}: nothing was changed")
        if installed.kinto is not None or installed.conversion is not None:
            migration.convert_from_kinto(self.client, self.schema.statements(), self.schema.version, dry_run=dry_run)
            return
        super().initialize_schema(dry_run=dry_run)

    def schema_mismatch(self) -> str | None:
        try:
            with self.client.connect(readonly=True) as connection:
                installed = migration.inspect(connection, self.schema.version)
        except BackendError:
            return None  # unreachable: the heartbeat says so
        return installed.mismatch(self.schema.version)

    def flush(self) -> None:
        # TRUNCATE leaves no dead rows behind: flushed-and-refilled tables
        # (tests, benchmarks) would otherwise drag every index lookup.
        with self.client.connect() as connection:
            connection.execute("TRUNCATE objects, timestamps")
            self._drop_all_indexes(connection)

    def _write_later(self, connection: Any, sql: str, params: Any) -> None:
        execute_later(connection, sql, params)

    def lock_for_write(self, resource_name: str, parent_id: str) -> None:
        if not self.client.in_transaction():
            return
        b = self._builder("id", "last_modified")
        parent, resource = b.add(parent_id), b.add(resource_name)
        now = self._integer(b.add(now_ms()))
        with self._connect() as connection:
            # One statement locks the row whether it exists or not: the insert, or ON CONFLICT's
            # update to the same value, which waits for a concurrent writer's lock as SELECT FOR
            # UPDATE would (one statement fewer than an insert then a SELECT FOR UPDATE). Nothing
            # is read back: it travels with the next statement (see DeferringConnection).
            execute_later(
                connection,
                f"INSERT INTO timestamps (parent_id, resource_name, last_modified) VALUES ({parent}, {resource}, {now}) "
                "ON CONFLICT (parent_id, resource_name) DO UPDATE SET last_modified = timestamps.last_modified",
                b.params,
            )

    def _write_imported(self, connection: Any, resource_name: str, parent_id: str, rows: list[dict[str, Any]]) -> None:
        # COPY into a session-local staging table, then one upsert: about twice as fast as
        # executemany for the thousands of rows of a copy's batch.
        connection.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS kinto_imported_objects (id TEXT, last_modified BIGINT, "
            "deleted BOOLEAN, data TEXT) ON COMMIT DELETE ROWS"
        )
        connection.execute("DELETE FROM kinto_imported_objects")
        with connection.cursor().copy("COPY kinto_imported_objects FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row["id"], row["last_modified"], row["deleted"], row["data"]))
        b = self._builder("id", "last_modified")
        parent, resource = b.add(parent_id), b.add(resource_name)
        selected = f"SELECT {parent}, {resource}, id, last_modified, deleted, data::jsonb FROM kinto_imported_objects"
        connection.execute(OBJECT_UPSERT.format(rows=selected), b.params)


def load_from_config(config: Any) -> Storage:
    """Build the PostgreSQL storage from ``kinto.storage_url`` and the pool settings (see the client)."""
    settings = config.get_settings()
    readonly = typed_setting(settings, "readonly")
    return Storage(client_from_config(config, "storage"), readonly=readonly)
