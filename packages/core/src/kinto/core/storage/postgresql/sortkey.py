"""PostgreSQL's sort key: one indexable expression per field carrying the contract's sort order.

``kinto_sort_key(jsonb)`` maps a JSON value (SQL NULL for a missing field) to a composite
``(rank, number, string, flag)`` whose composite comparison is the contract's order: the type's
rank first (null < strings < numbers < booleans < arrays < objects < missing), then numbers as
``numeric``, strings under the C collation (code point order, whatever the database's collation),
booleans; arrays and objects carry nothing, so all of a rank are equal. PostgreSQL's own jsonb
ordering has the same ranks but compares strings with the database's collation and arrays and
objects by content, so it cannot serve.

A btree entry must stay under about 2,700 bytes, so the key holds at most
:data:`STRING_PREFIX` characters of a string and clamps numbers beyond :data:`NUMBER_LIMIT`:
such values are *lossy*. Their keys stay in order (a longer string with the same prefix, or a
clamped number, sorts after the exact ones) but may tie; :func:`is_lossy` tells which values
those are, so that a page holding one is sorted again exactly (see ``RelationalStorage``).

Declared fields get a partial index per collection on ``(kinto_sort_key(data #> path), id)``
(``-field``: both descending, for descending sorts read straight from it: the API's id tie-breaker
follows the last sort's direction), built with ``CREATE INDEX CONCURRENTLY``, which cannot run in a
transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from psycopg import sql

from kinto.core.storage import MISSING
from kinto.core.storage import query as q
from kinto.core.storage.indexes import DeclaredIndexes, index_name

__all__ = ["FUNCTION_STATEMENTS", "NUMBER_LIMIT", "STRING_PREFIX", "FieldIndexes", "SortKeyDialect", "is_lossy"]

#: Characters of a string the key holds (4 bytes each at most in UTF-8: 2,000 bytes).
STRING_PREFIX = 500
#: Numbers beyond this magnitude share one key per sign.
NUMBER_LIMIT = 10**300

_CLAMP = f"1e{len(str(NUMBER_LIMIT))}"  # the key of numbers beyond the limit, above every exact key
_BOUND = f"1e{len(str(NUMBER_LIMIT)) + 1}"  # beyond every key
#: The composite type and the function, created once (idempotent), before the first declared index.
FUNCTION_STATEMENTS = [
    """DO $$ BEGIN
        CREATE TYPE kinto_sort_key AS (rank SMALLINT, number NUMERIC, string TEXT COLLATE "C", flag BOOLEAN);
    EXCEPTION WHEN duplicate_object THEN NULL;
    END $$""",
    # PL/pgSQL with a high COST, not an (inlined) SQL function: the planner has no statistics for
    # ranges of a composite, guesses 0.5% of the rows, and then sorted thousands of rows on the
    # computed key (20 ms at 10,000 records) rather than read the first page in index order
    # (0.3 ms). At this cost, computing the key per row is what it avoids.
    f"""CREATE OR REPLACE FUNCTION kinto_sort_key(value JSONB) RETURNS kinto_sort_key
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 10000 AS $$
    BEGIN
        RETURN CASE jsonb_typeof(value)
            WHEN 'null' THEN ROW(0, 0, '', FALSE)::kinto_sort_key
            WHEN 'string' THEN ROW(1, 0, left(value #>> '{{}}', {STRING_PREFIX}),
                                   length(value #>> '{{}}') > {STRING_PREFIX})::kinto_sort_key
            WHEN 'number' THEN ROW(2, CASE WHEN value::numeric > {NUMBER_LIMIT:.0e} THEN {_CLAMP}
                                           WHEN value::numeric < -{NUMBER_LIMIT:.0e} THEN -{_CLAMP}
                                           ELSE value::numeric END, '', FALSE)::kinto_sort_key
            WHEN 'boolean' THEN ROW(3, 0, '', value::boolean)::kinto_sort_key
            WHEN 'array' THEN ROW(4, 0, '', FALSE)::kinto_sort_key
            WHEN 'object' THEN ROW(5, 0, '', FALSE)::kinto_sort_key
            ELSE ROW(6, 0, '', FALSE)::kinto_sort_key
        END;
    END
    $$""",
]


def is_lossy(value: Any) -> bool:
    """Whether the key of ``value`` may tie with the key of a different value (see the module)."""
    if isinstance(value, str):
        return len(value) > STRING_PREFIX
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return abs(value) > NUMBER_LIMIT
    return False


class SortKeyDialect:
    """The PostgreSQL dialect's sort-key expressions (see :class:`kinto.core.storage.sql.Dialect`)."""

    has_sort_key = True

    def sort_key(self, builder: Any, field: str) -> str:
        return f"kinto_sort_key(data #> {builder.add(self.path(field))}::text[])"

    def sort_key_of(self, builder: Any, value: Any) -> str:
        if value is MISSING:
            return "kinto_sort_key(NULL::jsonb)"
        return f"kinto_sort_key({builder.add(q.canonical_json(value))}::jsonb)"

    def key_bound(self, rank: int, upper: bool) -> str:
        return f"ROW({rank}, {'' if upper else '-'}{_BOUND}, '', FALSE)::kinto_sort_key"

    def key_is_lossy(self, value: Any) -> bool:
        return is_lossy(value)


# --- declared indexes ------------------------------------------------------------------------------

_DECLARED = (
    "SELECT c.relname, obj_description(c.oid, 'pg_class'), i.indisvalid FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'objects'::regclass "
    "AND starts_with(c.relname, %(prefix)s)"
)


#: The session lock one build at a time holds, in every process sharing the database.
_BUILD_LOCK = "SELECT pg_try_advisory_lock(hashtext('kinto.core.storage.indexes'))"
_BUILD_UNLOCK = "SELECT pg_advisory_unlock(hashtext('kinto.core.storage.indexes'))"
#: Seconds between two tries of the build lock.
LOCK_POLL_SECONDS = 0.2


@contextmanager
def _autocommit(client: Any) -> Iterator[Any]:
    """A connection outside any transaction (``CREATE INDEX CONCURRENTLY`` refuses to run in one), holding
    the build lock, without statement timeout (a build takes as long as reading the table).

    The lock makes a second declaration of the same fields, from another thread or process, wait and
    then find the index built, rather than see it invalid (being built) and drop and build it again.
    It is tried, not waited for: a statement waiting for it would hold a snapshot, which the
    concurrent build in progress waits for in turn (a deadlock).
    """
    if client.in_transaction():
        raise RuntimeError("Indexes are built concurrently, outside any transaction: call index_fields after commit")
    with client.connect() as connection:
        connection.autocommit = True
        try:
            connection.execute("SET statement_timeout = 0")
            while not connection.execute(_BUILD_LOCK).fetchone()[0]:
                time.sleep(LOCK_POLL_SECONDS)
            try:
                yield connection
            finally:
                connection.execute(_BUILD_UNLOCK)
        finally:
            connection.execute("RESET statement_timeout")
            connection.autocommit = False


class FieldIndexes(DeclaredIndexes):
    """The declared indexes of the PostgreSQL storage (a part of its class).

    Each is named by :func:`~kinto.core.storage.indexes.index_name` (it fits in 63 bytes) and
    commented with the field as declared; it is built and dropped concurrently, and a build that
    failed leaves an invalid index behind (see :class:`~kinto.core.storage.indexes.DeclaredIndexes`).
    """

    def _indexes(self, connection: Any, prefix: str) -> dict[str, tuple[str, bool]]:
        rows = connection.execute(_DECLARED, {"prefix": prefix}).fetchall()
        return {name: (comment or "", bool(valid)) for name, comment, valid in rows}

    def _index_name(self, resource_name: str, parent_id: str, field: str) -> str:
        return index_name(resource_name, parent_id, field)

    def _building(self) -> AbstractContextManager[Any]:
        return _autocommit(self.client)

    def _drop_index(self, connection: Any, name: str, *, in_transaction: bool) -> None:
        statement = "DROP INDEX IF EXISTS {}" if in_transaction else "DROP INDEX CONCURRENTLY IF EXISTS {}"
        connection.execute(sql.SQL(statement).format(sql.Identifier(name)))

    def _build_indexes(self, connection: Any, resource_name: str, parent_id: str, missing: dict[str, str]) -> None:
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(hashtext('kinto.core.storage.sortkey'))")
            for statement in FUNCTION_STATEMENTS:
                connection.execute(statement)
        for name, field in missing.items():
            connection.execute(_index_statement(name, resource_name, parent_id, field))
            connection.execute(sql.SQL("COMMENT ON INDEX {} IS {}").format(sql.Identifier(name), sql.Literal(field)))
        # The planner needs the statistics of the new expressions to choose the index.
        connection.execute("ANALYZE objects")


def _index_statement(name: str, resource_name: str, parent_id: str, field: str) -> sql.Composed:
    descending = field.startswith("-")
    path = (
        "{"
        + ",".join(
            '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"' for part in field.removeprefix("-").split(".")
        )
        + "}"
    )
    return sql.SQL(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON objects (kinto_sort_key(data #> {path}::text[]){order}, id{order}) "
        "WHERE parent_id = {parent} AND resource_name = {resource} AND deleted = FALSE"
    ).format(
        name=sql.Identifier(name),
        path=sql.Literal(path),
        order=sql.SQL(" DESC" if descending else ""),
        parent=sql.Literal(parent_id),
        resource=sql.Literal(resource_name),
    )
