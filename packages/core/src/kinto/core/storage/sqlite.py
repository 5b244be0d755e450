"""SQLite storage: the embedded, persistent default (one file, WAL, safe with several processes).

Enable with::

    kinto.storage_backend = kinto.core.storage.sqlite
    kinto.storage_url = sqlite:///var/kinto.sqlite

Write transactions take the file's write lock up front (``BEGIN IMMEDIATE``),
so writers, threads or processes, run one at a time and ``lock_for_write``
needs nothing more; readers are never blocked (WAL).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, ClassVar

from kinto.core.database.schema import Schema
from kinto.core.database.sqlite import SQLiteClient, client_from_config
from kinto.core.settings import typed_setting
from kinto.core.storage import query as q
from kinto.core.storage.relational import RelationalStorage
from kinto.core.storage.sql import Dialect, QueryBuilder

__all__ = ["SQLiteDialect", "Storage", "load_from_config"]

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


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _register_functions(connection: sqlite3.Connection) -> None:
    # SQLite's lower() only folds ASCII; the contract folds like Python.
    connection.create_function("kinto_lower", 1, _lower, deterministic=True)


class SQLiteDialect(Dialect):
    """JSON1 functions over a TEXT ``data`` column."""

    def adapt(self, value: Any) -> Any:
        # SQLite integers are 64-bit; JSON numbers beyond are REAL inside json_extract() anyway.
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            return float(value)
        return value

    def placeholder(self, name: str) -> str:
        return f":{name}"

    def path(self, field: str) -> str:
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


class Storage(RelationalStorage):
    """Storage in one SQLite file, through the shared :class:`~kinto.core.database.sqlite.SQLiteClient`."""

    embedded: ClassVar[bool] = True
    schema: ClassVar[Schema] = SCHEMA

    def __init__(self, client: SQLiteClient, *, readonly: bool = False) -> None:
        super().__init__(client, readonly=readonly)
        self.dialect = SQLiteDialect()
        client.add_connection_hook(_register_functions)

    def _parent_matches(self, b: QueryBuilder, pattern: str) -> str:
        # GLOB is case-sensitive and uses ``*``; its other wildcards are made literal.
        glob = "".join({"?": "[?]", "[": "[[]"}.get(char, char) for char in pattern)
        return f"parent_id GLOB {b.add(glob)}"


def load_from_config(config: Any) -> Storage:
    """Build the SQLite storage from ``kinto.storage_url`` (and ``kinto.readonly``)."""
    settings = config.get_settings()
    readonly = typed_setting(settings, "readonly")
    return Storage(client_from_config(config, "storage"), readonly=readonly)
