"""Databases written by Kinto: which of its storage schemas a database holds, and its conversion to ours.

Kinto (and Cliquet before it) numbered its PostgreSQL storage schema from 1 to 26, adding a
``storage_schema_version`` row to ``metadata`` at each migration (from version 2; version 1 has a
``created_at`` row only). Most versions changed functions, triggers or indexes; the tables, which
are all the conversion reads, changed at these ones:

=======  =========================================================================================
version  tables
=======  =========================================================================================
1        ``records`` (``id`` UUID, ``user_id`` and ``resource_name`` VARCHAR, ``last_modified``
         TIMESTAMP, ``data`` JSON) and ``deleted``, the tombstones (the same less ``data``)
4        ids and names become TEXT
6        ``records.data`` becomes JSONB
7        ``user_id`` becomes ``parent_id``, ``resource_name`` becomes ``collection_id``
10       ``timestamps`` (``parent_id``, ``collection_id``, ``last_modified``): collection timestamps
18       ``records.deleted``: the tombstones move into ``records``; ``deleted`` stays behind, unused
21       ``records`` becomes ``objects``, ``collection_id`` becomes ``resource_name`` (in
         ``timestamps`` too)
=======  =========================================================================================

A database is recognised when its highest ``storage_schema_version`` names a version *and* its
columns are exactly that version's; anything else is refused, never guessed.

Kinto keeps TIMESTAMP values (with microseconds in the versions that stamped with
``clock_timestamp()``) and shows clients ``(EXTRACT(EPOCH FROM last_modified) * 1000)::BIGINT``
(its ``as_epoch``). The conversion stores exactly that number, so the timestamps clients hold
(``_since``, ``ETag``) stay valid; a collection's timestamp is the newest of its objects, its
tombstones and its ``timestamps`` row, as Kinto computes it.

The conversion runs in steps, each one transaction recording its progress in ``metadata``, so that
an interrupted ``kinto migrate`` resumes where it stopped:

1. set Kinto's tables aside (renamed ``kinto_*``, their triggers dropped) and create ours;
2. copy the objects, a range of table pages per transaction;
3. before version 18, copy the tombstones of ``deleted`` (a live object wins over a tombstone of
   the same id, as Kinto's migration to version 12 decided);
4. check that every object arrived, write the collection timestamps, drop Kinto's tables and
   functions, record our schema version.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from psycopg import sql

from kinto.core.database.postgresql import metadata_values, set_metadata

__all__ = [
    "LATEST_VERSION",
    "KintoLayout",
    "copy_pages",
    "count_rows",
    "finish",
    "page_count",
    "set_aside",
]

logger = logging.getLogger(__name__)

#: The last storage schema Kinto shipped (Kinto 26.5.0).
LATEST_VERSION = 26
TIMESTAMP = "timestamp without time zone"
#: Kinto's tables, once set aside, are named with this prefix.
SET_ASIDE = "kinto_"
#: Tables the conversion reads, under their Kinto names.
KINTO_TABLES = ("records", "objects", "deleted", "timestamps")
#: ``metadata`` rows of a conversion under way: the Kinto version converted, the next step, its next page.
SOURCE_KEY = "kinto_storage_conversion_source"
STEP_KEY = "kinto_storage_conversion_step"
PAGE_KEY = "kinto_storage_conversion_page"
COPY_OBJECTS = "copy-objects"
COPY_TOMBSTONES = "copy-tombstones"
FINISH = "finish"
#: Kinto's storage functions, dropped with its tables (the trigger function first: it calls the others).
KINTO_FUNCTIONS = (
    "bump_timestamp()",
    "collection_timestamp(character varying, character varying)",
    "resource_timestamp(character varying, character varying)",
    "as_epoch(timestamp without time zone)",
    "from_epoch(bigint)",
)
# Kinto's ``as_epoch``: what its API showed for a TIMESTAMP, rounding included.
_EPOCH_MS = "(EXTRACT(EPOCH FROM {column}) * 1000)::BIGINT"
_TOMBSTONE_DATA = "'{\"deleted\": true}'::jsonb"


@dataclasses.dataclass(frozen=True)
class KintoLayout:
    """The tables of one Kinto storage schema version, by their names at that version."""

    version: int

    @property
    def objects_table(self) -> str:
        return "records" if self.version < 21 else "objects"

    @property
    def parent_column(self) -> str:
        return "user_id" if self.version < 7 else "parent_id"

    @property
    def resource_column(self) -> str:
        return "collection_id" if 7 <= self.version < 21 else "resource_name"

    @property
    def has_tombstones_table(self) -> bool:
        return self.version < 18

    @property
    def has_timestamps_table(self) -> bool:
        return self.version >= 10

    def tables(self) -> dict[str, dict[str, str]]:
        """``{table: {column: type}}`` as ``information_schema`` shows them at this version."""
        id_type = "uuid" if self.version < 4 else "text"
        name_type = "character varying" if self.version < 4 else "text"
        keys = {
            "id": id_type,
            self.parent_column: name_type,
            self.resource_column: name_type,
            "last_modified": TIMESTAMP,
        }
        objects = {**keys, "data": "json" if self.version < 6 else "jsonb"}
        if self.version >= 18:
            objects["deleted"] = "boolean"
        tables = {self.objects_table: objects}
        if self.has_tombstones_table:
            tables["deleted"] = keys
        if self.has_timestamps_table:
            timestamps_resource = "collection_id" if self.version < 21 else "resource_name"
            tables["timestamps"] = {"parent_id": "text", timestamps_resource: "text", "last_modified": TIMESTAMP}
        return tables

    def leftover_tombstones(self) -> dict[str, str] | None:
        """Columns of the ``deleted`` table left behind by the migration to 18 (None before 18)."""
        if self.has_tombstones_table:
            return None
        return {"id": "text", "parent_id": "text", "collection_id": "text", "last_modified": TIMESTAMP}

    def mismatch(self, found: dict[str, dict[str, str]], prefix: str = "") -> str | None:
        """How the tables ``found`` (named with ``prefix``) differ from this version's, or None."""
        expected = self.tables()
        for table in KINTO_TABLES:
            name = prefix + table
            if table == "deleted" and table not in expected and name in found:
                if found[name] != self.leftover_tombstones():
                    return f"table {name} has columns {_describe(found[name])}"
                continue
            if table not in expected:
                if name in found:
                    return f"table {name} exists, Kinto's storage schema {self.version} has none"
                continue
            if name not in found:
                return f"table {name} is missing"
            if found[name] != expected[table]:
                return f"table {name} has columns {_describe(found[name])}, expected {_describe(expected[table])}"
        return None

    def set_aside_tables(self, found: dict[str, dict[str, str]], prefix: str = "") -> list[str]:
        """Kinto's tables the conversion renames, copies and drops (the leftover ``deleted`` too), by Kinto's names."""
        return [table for table in (self.objects_table, "deleted", "timestamps") if prefix + table in found]


def _describe(columns: dict[str, str]) -> str:
    return "(" + ", ".join(f"{name} {kind}" for name, kind in sorted(columns.items())) + ")"


def recognise(found: dict[str, dict[str, str]], versions: list[str], created_at: bool) -> KintoLayout:
    """The Kinto schema of tables ``found``, given the ``storage_schema_version`` values; ValueError if none fits."""
    try:
        numbers = [int(value) for value in versions]
    except ValueError:
        raise ValueError(f"storage_schema_version values {versions} are not numbers") from None
    if numbers:
        version = max(numbers)  # Kinto adds a row per migration and reads the highest
    elif created_at and "records" in found:
        version = 1  # Cliquet's first schema, before versions were recorded
    else:
        tables = ", ".join(f"{table} {_describe(columns)}" for table, columns in sorted(found.items()))
        raise ValueError(
            f"tables {tables} and no storage_schema_version row: neither this schema nor one Kinto shipped"
        )
    if not 1 <= version <= LATEST_VERSION:
        raise ValueError(f"Kinto's storage schema {version} is not one Kinto shipped (1 to {LATEST_VERSION})")
    layout = KintoLayout(version)
    problem = layout.mismatch(found)
    if problem:
        raise ValueError(f"metadata says Kinto's storage schema {version}, but {problem}")
    return layout


# --- the steps ----------------------------------------------------------------------------------------


def set_aside(connection: Any, layout: KintoLayout, found: dict[str, dict[str, str]], create_ours: list[str]) -> None:
    """Step 1: rename Kinto's tables (and their indexes) ``kinto_*``, drop their triggers, create our tables."""
    for table in layout.set_aside_tables(found):
        triggers = connection.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", (table,)
        ).fetchall()
        for (trigger,) in triggers:
            connection.execute(sql.SQL("DROP TRIGGER {} ON {}").format(sql.Identifier(trigger), sql.Identifier(table)))
        indexes = connection.execute(
            "SELECT index.relname FROM pg_index JOIN pg_class AS index ON index.oid = pg_index.indexrelid"
            " WHERE pg_index.indrelid = %s::regclass",
            (table,),
        ).fetchall()
        for (index,) in indexes:
            # Our tables' primary keys would take the same names (objects_pkey, timestamps_pkey).
            renamed = (SET_ASIDE + index)[:63]
            connection.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(sql.Identifier(index), sql.Identifier(renamed))
            )
        connection.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(table), sql.Identifier(SET_ASIDE + table))
        )
    for statement in create_ours:
        connection.execute(statement)
    set_metadata(connection, "storage_schema_version", None)
    set_metadata(connection, SOURCE_KEY, str(layout.version))
    set_metadata(connection, STEP_KEY, COPY_OBJECTS)
    set_metadata(connection, PAGE_KEY, "0")


def conversion_state(connection: Any) -> tuple[int, str, int] | None:
    """``(Kinto version, step, next page)`` of a conversion under way, or None."""
    source = metadata_values(connection, SOURCE_KEY)
    if not source:
        return None
    step = metadata_values(connection, STEP_KEY)
    page = metadata_values(connection, PAGE_KEY)
    try:
        return int(source[0]), step[0] if step else "", int(page[0]) if page else 0
    except ValueError:
        raise ValueError(f"conversion rows of metadata are unreadable: {source} {step} {page}") from None


def page_count(connection: Any, table: str) -> int:
    row = connection.execute(
        "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", (SET_ASIDE + table,)
    ).fetchone()
    return int(row[0])


def count_rows(connection: Any, table: str) -> int:
    return int(connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0])


def _copy_statement(layout: KintoLayout, step: str) -> sql.Composed:
    parent, resource = sql.Identifier(layout.parent_column), sql.Identifier(layout.resource_column)
    epoch = sql.SQL(_EPOCH_MS.format(column="last_modified"))
    if step == COPY_OBJECTS:
        source = sql.Identifier(SET_ASIDE + layout.objects_table)
        deleted = sql.SQL("deleted" if layout.version >= 18 else "FALSE")
        data = sql.SQL("data::jsonb")
        conflict, extra = sql.SQL(""), sql.SQL("")
    else:
        source = sql.Identifier(SET_ASIDE + "deleted")
        deleted, data = sql.SQL("TRUE"), sql.SQL(_TOMBSTONE_DATA)
        conflict = sql.SQL(" ON CONFLICT (parent_id, resource_name, id) DO NOTHING")
        extra = sql.SQL(" AND id IS NOT NULL")  # Cliquet's tombstone ids could be NULL: nothing to show
    # A range of pages of a table nobody writes to any more: resuming at a page never copies a row twice.
    return sql.SQL(
        "INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)"
        " SELECT {parent}::text, {resource}::text, id::text, {epoch}, {deleted}, {data} FROM {source}"
        " WHERE ctid >= %s::tid AND ctid < %s::tid{extra}{conflict}"
    ).format(
        parent=parent,
        resource=resource,
        epoch=epoch,
        deleted=deleted,
        data=data,
        source=source,
        extra=extra,
        conflict=conflict,
    )


def copy_pages(connection: Any, layout: KintoLayout, step: str, first_page: int, pages: int) -> int:
    """Steps 2 and 3: copy the rows of ``pages`` pages from ``first_page`` on, record the next page; rows copied."""
    statement = _copy_statement(layout, step)
    cursor = connection.execute(statement, (f"({first_page},0)", f"({first_page + pages},0)"))
    set_metadata(connection, PAGE_KEY, str(first_page + pages))
    return max(cursor.rowcount, 0)


def next_step(connection: Any, layout: KintoLayout, step: str) -> None:
    """Record that ``step`` is done (in the transaction of its last pages)."""
    following = COPY_TOMBSTONES if step == COPY_OBJECTS and layout.has_tombstones_table else FINISH
    set_metadata(connection, STEP_KEY, following)
    set_metadata(connection, PAGE_KEY, "0")


def _keys(layout: KintoLayout, table: str) -> sql.Composed:
    return sql.SQL(
        "SELECT {}::text AS parent_id, {}::text AS resource_name, id::text AS id, last_modified FROM {}"
    ).format(
        sql.Identifier(layout.parent_column), sql.Identifier(layout.resource_column), sql.Identifier(SET_ASIDE + table)
    )


def expected_objects(connection: Any, layout: KintoLayout) -> int:
    """How many objects the conversion must produce: the distinct ids of Kinto's objects and tombstones."""
    sources = [_keys(layout, layout.objects_table)]
    if layout.has_tombstones_table:
        sources.append(sql.SQL("{} WHERE id IS NOT NULL").format(_keys(layout, "deleted")))
    union = sql.SQL(" UNION ").join(
        sql.SQL("SELECT parent_id, resource_name, id FROM ({}) AS source").format(source) for source in sources
    )
    return int(connection.execute(sql.SQL("SELECT count(*) FROM ({}) AS keys").format(union)).fetchone()[0])


def finish(connection: Any, layout: KintoLayout, found: dict[str, dict[str, str]], our_version: int) -> None:
    """Step 4: check the copy, write the collection timestamps, drop Kinto's tables and functions."""
    expected, copied = expected_objects(connection, layout), count_rows(connection, "objects")
    if expected != copied:
        raise RuntimeError(
            f"the conversion copied {copied} objects where Kinto's tables hold {expected}: nothing was dropped; "
            "restore the database from its backup before converting again"
        )
    stamps = [_keys(layout, layout.objects_table)]
    if layout.has_tombstones_table:
        stamps.append(_keys(layout, "deleted"))
    if layout.has_timestamps_table:
        resource = "collection_id" if layout.version < 21 else "resource_name"
        stamps.append(
            sql.SQL("SELECT parent_id::text, {}::text, NULL::text, last_modified FROM {}").format(
                sql.Identifier(resource), sql.Identifier(SET_ASIDE + "timestamps")
            )
        )
    connection.execute(
        sql.SQL(
            "INSERT INTO timestamps (parent_id, resource_name, last_modified)"
            " SELECT parent_id, resource_name, {} FROM ({}) AS stamps GROUP BY parent_id, resource_name"
        ).format(sql.SQL(_EPOCH_MS.format(column="MAX(last_modified)")), sql.SQL(" UNION ALL ").join(stamps))
    )
    for table in layout.set_aside_tables(found, SET_ASIDE):
        connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(SET_ASIDE + table)))
    for function in KINTO_FUNCTIONS:
        connection.execute(f"DROP FUNCTION IF EXISTS {function}")
    for key in (SOURCE_KEY, STEP_KEY, PAGE_KEY):
        set_metadata(connection, key, None)
    set_metadata(connection, "storage_schema_version", str(our_version))
