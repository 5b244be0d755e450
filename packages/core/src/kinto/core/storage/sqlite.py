"""SQLite storage: the embedded, persistent default (one file, WAL, safe with several processes).

Enable with::

    kinto.storage_backend = kinto.core.storage.sqlite
    kinto.storage_url = sqlite:///var/kinto.sqlite

Write transactions take the file's write lock up front (``BEGIN IMMEDIATE``),
so writers, threads or processes, run one at a time and ``lock_for_write``
needs nothing more; readers are never blocked (WAL).

Declared fields (:meth:`~kinto.core.storage.StorageBase.index_fields`) get a partial index per
collection on ``(resource_name, kinto_sort_key(json_type(data, path), json_extract(data, path)),
id)`` (``-field``: the key and the id descending, as the API's ``_sort=-field`` orders its pages),
built in one write transaction: the other writers wait for it, for its whole duration (seconds at
a million records); readers do not. ``kinto_sort_key``
is a deterministic function this module registers on every connection: the bytes of
:func:`sort_key`, whose order is the contract's. One expression, not the rank and the value side
by side: SQLite 3.40 neither seeks a row value ``(rank, value) >= (?, ?)`` on expression columns
nor sees that such a column pinned by ``=`` is ordered, and sorted every match instead of reading
the first page from the index. SQLite matches an indexed expression to the same text only, so the
queries write the field's path literally (the index's partial condition is matched to bound
values). The field is the end of the index's name (hex), so the schema alone says what is
declared. A connection without the function (the ``sqlite3`` shell) reads the file but cannot
write ``objects`` while a declaration exists.
"""

from __future__ import annotations

import json
import math
import sqlite3
import struct
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from kinto.core.database.schema import Schema
from kinto.core.database.sqlite import SQLiteClient, client_from_config
from kinto.core.settings import typed_setting
from kinto.core.storage import MISSING
from kinto.core.storage import query as q
from kinto.core.storage.indexes import DeclaredFields, DeclaredIndexes, collection_prefix
from kinto.core.storage.relational import RelationalStorage
from kinto.core.storage.sql import Dialect, QueryBuilder

__all__ = ["EXACT_INTEGER_LIMIT", "SQLiteDialect", "Storage", "load_from_config", "sort_key"]

_RANK = (
    "CASE json_type(data, {p}) WHEN 'null' THEN 0 WHEN 'text' THEN 1 WHEN 'integer' THEN 2 WHEN 'real' THEN 2 "
    "WHEN 'true' THEN 3 WHEN 'false' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 5 ELSE 6 END"
)
_KIND = (
    "CASE json_type(data, {p}) WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' "
    "WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' WHEN 'null' THEN 'null' WHEN 'array' THEN 'array' "
    "WHEN 'object' THEN 'object' END"
)
_ELEMENT_TYPES = {"null": "('null')", "string": "('text')", "number": "('integer', 'real')"}
_ELEMENT_TYPES.update({"array": "('array')", "object": "('object')"})


#: Integers beyond this magnitude share their key (a double) with neighbours: pages sorted on
#: them are sorted again exactly (see ``Dialect.key_is_lossy``).
EXACT_INTEGER_LIMIT = 2**53
# What json_type() says of values whose key carries no more than their type.
_VALUE_OF_JSON_TYPE: dict[str | None, Any] = {"null": None, "true": True, "false": False, "array": [], "object": {}}


def sort_key(value: Any) -> bytes:
    """The key of a JSON value (:data:`~kinto.core.storage.MISSING` included): bytes in the contract's order.

    The type's rank first (one byte), then strings in UTF-8 (byte order is code point order),
    numbers as 8 bytes ordered as their doubles, booleans as one byte; null, arrays, objects and
    missing carry nothing more (all of a rank are equal). No key of a rank reaches its rank byte
    followed by nine 0xFF bytes (UTF-8 never holds 0xFF), the bound ``key_bound`` uses.
    """
    rank = q.type_rank(value)
    head = bytes([rank])
    if rank == q.RANK_STRING:
        return head + value.encode("utf-8", "surrogatepass")
    if rank == q.RANK_NUMBER:
        return head + _number_bytes(value)
    if rank == q.RANK_BOOLEAN:
        return head + (b"\x01" if value else b"\x00")
    return head


def _number_bytes(number: float) -> bytes:
    try:
        as_float = float(number) + 0.0  # -0.0 becomes 0.0
    except OverflowError:  # an integer beyond every double
        as_float = math.inf if number > 0 else -math.inf
    bits = int.from_bytes(struct.pack(">d", as_float), "big")
    # IEEE 754 bits order positive doubles; negative ones reversed, and below every positive one.
    bits = (~bits & 0xFFFF_FFFF_FFFF_FFFF) if bits >> 63 else bits | 1 << 63
    return bits.to_bytes(8, "big")


def _sort_key_function(json_type: str | None, value: Any) -> bytes:
    """``kinto_sort_key(json_type(data, path), json_extract(data, path))`` in SQL."""
    if json_type in ("text", "integer", "real"):
        return sort_key(value)
    return sort_key(_VALUE_OF_JSON_TYPE.get(json_type, MISSING))


def _literal(text: str) -> str:
    """A SQL string literal (no NUL: callers refuse it; SQLite has no escapes but the doubled quote)."""
    return "'" + text.replace("'", "''") + "'"


def _key_expression(field: str) -> str:
    """The sort key of a data field, its path written literally: the one text indexes and queries share."""
    path = _literal(SQLiteDialect.path(field))
    return f"kinto_sort_key(json_type(data, {path}), json_extract(data, {path}))"


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _register_functions(connection: sqlite3.Connection) -> None:
    # SQLite's lower() only folds ASCII; the contract folds like Python.
    connection.create_function("kinto_lower", 1, _lower, deterministic=True)
    # Declared indexes are on it: every connection writing objects needs it.
    connection.create_function("kinto_sort_key", 2, _sort_key_function, deterministic=True)


class SQLiteDialect(Dialect):
    """JSON1 functions over a TEXT ``data`` column."""

    def adapt(self, value: Any) -> Any:
        # SQLite integers are 64-bit; JSON numbers beyond are REAL inside json_extract() anyway.
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            return float(value)
        return value

    def placeholder(self, name: str) -> str:
        return f":{name}"

    @staticmethod
    def path(field: str) -> str:
        return "$" + "".join('."' + part.replace('"', '""') + '"' for part in field.split("."))

    def kind(self, path: str) -> str:
        return _KIND.format(p=path)

    def rank(self, path: str) -> str:
        return _RANK.format(p=path)

    def scalar(self, path: str, kind: str) -> str:
        return f"json_extract(data, {path})"

    def sort_parts(self, path: str) -> list[str]:
        return [
            f"CASE WHEN json_type(data, {path}) IN ('array', 'object') THEN NULL ELSE json_extract(data, {path}) END"
        ]

    def json_text(self, path: str) -> str:
        return f"json_extract(data, {path})"

    def json_param(self, value: Any) -> Any:
        return q.canonical_json(value)

    def lower(self, expression: str) -> str:
        return f"kinto_lower({expression})"

    def scalar_equals(self, builder: QueryBuilder, field: str, value: Any) -> str:
        # The value test first: it rejects most rows with one JSON lookup.
        path = builder.add(self.path(field))
        rank = q.type_rank(value)
        if rank == q.RANK_NULL:
            return f"(json_type(data, {path}) = 'null')"
        if rank == q.RANK_BOOLEAN:
            return f"(json_type(data, {path}) = '{'true' if value else 'false'}')"
        types = "('text')" if rank == q.RANK_STRING else "('integer', 'real')"
        return f"(json_extract(data, {path}) = {builder.add(value)} AND json_type(data, {path}) IN {types})"

    def _element(self, builder: QueryBuilder, value: Any) -> str:
        rank = q.type_rank(value)
        if rank == q.RANK_BOOLEAN:
            return f"(element.type = '{'true' if value else 'false'}')"
        kind = {q.RANK_NULL: "null", q.RANK_STRING: "string", q.RANK_NUMBER: "number"}.get(rank)
        kind = kind or ("array" if rank == q.RANK_ARRAY else "object")
        if kind == "null":
            return "(element.type = 'null')"
        parameter = builder.add(q.canonical_json(value) if kind in ("array", "object") else value)
        return f"(element.type IN {_ELEMENT_TYPES[kind]} AND element.value = {parameter})"

    def array_has(self, builder: QueryBuilder, field: str, values: list[Any], every: bool) -> str:
        path = builder.add(self.path(field))
        is_array = f"json_type(data, {path}) = 'array'"
        each = f"SELECT 1 FROM json_each(data, {path}) AS element WHERE"
        if every:
            checks = [f"EXISTS ({each} {self._element(builder, v)})" for v in values]
            return "(" + " AND ".join([is_array, *checks]) + ")"
        anyone = " OR ".join(self._element(builder, v) for v in values)
        return f"({is_array} AND EXISTS ({each} {anyone}))"

    def column_in(self, builder: QueryBuilder, column: str, kind: str, values: list[Any]) -> str:
        # One JSON array parameter, unpacked by json_each: no expression depth, no variable count limit.
        return f"({column} IN (SELECT value FROM json_each({builder.add(json.dumps(values))})))"

    has_sort_key = True

    def sort_key(self, builder: QueryBuilder, field: str) -> str:
        return _key_expression(field)

    def sort_key_of(self, builder: QueryBuilder, value: Any) -> str:
        return builder.add(sort_key(value))

    def key_bound(self, rank: int, upper: bool) -> str:
        return f"X'{rank:02X}{'FF' * 9 if upper else ''}'"

    def key_is_lossy(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) > EXACT_INTEGER_LIMIT


SCHEMA = Schema(
    "storage",
    steps=(
        (
            """CREATE TABLE IF NOT EXISTS objects (
                parent_id TEXT NOT NULL,
                resource_name TEXT NOT NULL,
                id TEXT NOT NULL,
                last_modified INTEGER NOT NULL,
                deleted BOOLEAN NOT NULL DEFAULT FALSE,
                data TEXT NOT NULL DEFAULT '{}',
                PRIMARY KEY (parent_id, resource_name, id)
            )""",
            """CREATE INDEX IF NOT EXISTS idx_objects_collection_last_modified
                ON objects (parent_id, resource_name, last_modified DESC)""",
            """CREATE TABLE IF NOT EXISTS timestamps (
                parent_id TEXT NOT NULL,
                resource_name TEXT NOT NULL,
                last_modified INTEGER NOT NULL,
                PRIMARY KEY (parent_id, resource_name)
            )""",
        ),
    ),
)


class FieldIndexes(DeclaredIndexes):
    """The declared indexes of the SQLite storage (a part of its class, see the module docstring)."""

    def _indexes(self, connection: Any, prefix: str) -> dict[str, tuple[str, bool]]:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'objects' "
            "AND substr(name, 1, :length) = :prefix",
            {"length": len(prefix), "prefix": prefix},
        ).fetchall()
        return {name: (_declared_field(name), True) for (name,) in rows}

    def _index_name(self, resource_name: str, parent_id: str, field: str) -> str:
        return collection_prefix(resource_name, parent_id) + field.encode("utf-8").hex()

    def _building(self) -> AbstractContextManager[Any]:
        return self.client.connect()

    def _drop_index(self, connection: Any, name: str, *, in_transaction: bool) -> None:
        connection.execute(f'DROP INDEX IF EXISTS "{name}"')

    def _build_indexes(self, connection: Any, resource_name: str, parent_id: str, missing: dict[str, str]) -> None:
        where = f"parent_id = {_literal(parent_id)} AND resource_name = {_literal(resource_name)} AND deleted = FALSE"
        for name, field in missing.items():
            order = " DESC" if field.startswith("-") else ""
            key = _key_expression(field.removeprefix("-"))
            # resource_name first, pinned by every query: with no statistics, SQLite expects ~10 objects
            # per collection and would rather sort them than read the key in order, unless this
            # index too has an equality to seek.
            connection.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON objects (resource_name, {key}{order}, id{order}) WHERE {where}'
            )


def _declared_field(name: str) -> str:
    """The field an index was declared for, from its name ("" for a name that is not ours)."""
    try:
        return bytes.fromhex(name.rpartition("_")[2]).decode("utf-8")
    except ValueError:
        return ""


class Storage(FieldIndexes, RelationalStorage):
    """Storage in one SQLite file, through the shared :class:`~kinto.core.database.sqlite.SQLiteClient`."""

    embedded: ClassVar[bool] = True
    schema: ClassVar[Schema] = SCHEMA

    def __init__(self, client: SQLiteClient, *, readonly: bool = False) -> None:
        super().__init__(client, readonly=readonly)
        self.dialect = SQLiteDialect()
        self.declared_fields = DeclaredFields(self.read_declared_fields)
        client.add_connection_hook(_register_functions)

    def _declared(self, connection: Any, resource_name: str | None, parent_id: str) -> frozenset[str]:
        return self.declared_fields.get(connection, resource_name, parent_id)

    def flush(self) -> None:
        with self.client.connect() as connection:
            self._drop_all_indexes(connection)
        super().flush()

    def _parent_matches(self, b: QueryBuilder, pattern: str) -> str:
        # GLOB is case-sensitive and uses ``*``; its other wildcards are made literal.
        glob = "".join({"?": "[?]", "[": "[[]"}.get(char, char) for char in pattern)
        return f"parent_id GLOB {b.add(glob)}"


def load_from_config(config: Any) -> Storage:
    """Build the SQLite storage from ``kinto.storage_url`` (and ``kinto.readonly``)."""
    settings = config.get_settings()
    readonly = typed_setting(settings, "readonly")
    return Storage(client_from_config(config, "storage"), readonly=readonly)
