"""The storage implementation shared by the SQL backends (SQLite, PostgreSQL).

Both keep one ``objects`` table (live objects and tombstones, the ``data``
column holding the JSON document without its id and timestamp) and one
``timestamps`` table (one row per collection). Every write bumps its
collection's row with one upsert, which also serialises the writers of a
collection until their transaction ends: stamps are unique and strictly
increasing in commit order.

One class over 500 lines, on purpose: it is the whole contract once for two databases
(the dialects add only what differs). The SQL of filters, sorts and pagination is built
by :mod:`.sql`; the schemas are versioned steps run by :mod:`kinto.core.database.schema`.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from kinto.core import jsontext
from kinto.core.database.schema import Schema
from kinto.core.storage import (
    DEFAULT_DELETED_FIELD,
    DEFAULT_ID_FIELD,
    DEFAULT_MODIFIED_FIELD,
    Filter,
    KintoObject,
    Sort,
    StorageBase,
    generators,
)
from kinto.core.storage import query as q
from kinto.core.storage.exceptions import (
    BackendError,
    InvalidValueError,
    ObjectChangedError,
    ObjectNotFoundError,
    UnicityError,
)
from kinto.core.storage.sql import Dialect, QueryBuilder
from kinto.core.storage.timestamps import now_ms

__all__ = ["RelationalStorage"]

logger = logging.getLogger(__name__)

#: The columns of an object's row, in the order ``_to_object`` reads them.
COLUMNS = "id, last_modified, deleted, data, parent_id, resource_name"
#: Those ``_to_object`` reads: a page's rows, of one collection, need no more (a third fewer values to convert).
OBJECT_COLUMNS = "id, last_modified, deleted, data"
#: Rows written (or ids looked up) per statement by ``create_many``: far below every dialect's
#: limit on parameters (SQLite's is 32,766; six per row).
_ROWS_PER_STATEMENT = 500

#: Writes an object's row (``rows``: VALUES or a SELECT of ``_object_row``), replacing the one stored.
OBJECT_UPSERT = (
    "INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data) {rows} "
    "ON CONFLICT (parent_id, resource_name, id) DO UPDATE SET last_modified = excluded.last_modified, "
    "deleted = excluded.deleted, data = excluded.data"
)


class RelationalStorage(StorageBase):
    """Storage on a SQL database reached through a shared client (``connect()``/``transaction()``)."""

    supports_transactions: ClassVar[bool] = True
    supports_concurrent_processes: ClassVar[bool] = True
    supports_savepoints: ClassVar[bool] = True
    supports_copy: ClassVar[bool] = True
    writes_conditionally: ClassVar[bool] = True
    #: Whether the timestamp's upsert can feed the object's in one statement (PostgreSQL's
    #: data-modifying CTEs): one round trip per write instead of two.
    chained_writes: ClassVar[bool] = False

    dialect: Dialect
    #: The tables and indexes, as versioned steps.
    schema: ClassVar[Schema]

    def __init__(self, client: Any, *, readonly: bool = False) -> None:
        super().__init__(readonly=readonly)
        self.client = client
        self._schema_checked = False

    def _connect(self, *, readonly: bool = False) -> Any:
        """The client's connection, once the schema has been found to be this code's (see ``schema_mismatch``).

        On any other schema every operation is a ``BackendError`` saying why (a 503 naming
        ``kinto migrate``), never a query failing on a column of the wrong type (a 500). Checked
        until it passes once, so a server recovers without a restart once the database is migrated.
        """
        self._check_schema()
        return self.client.connect(readonly=readonly)

    def _check_schema(self) -> None:
        if not self._schema_checked:
            problem = self.schema_mismatch()
            if problem is not None:
                raise BackendError(message=f"Storage schema: {problem}")
            self._schema_checked = True

    # --- helpers -------------------------------------------------------------------------------

    def _builder(self, id_field: str, modified_field: str, indexed: frozenset[str] = frozenset()) -> QueryBuilder:
        return QueryBuilder(self.dialect, id_field, modified_field, indexed)

    def _declared(self, connection: Any, resource_name: str | None, parent_id: str) -> frozenset[str]:
        """The collection's declared fields, as far as this process knows (none by default), read on ``connection``."""
        return frozenset()

    def _execute_planned(self, connection: Any, sql: str, params: Any) -> Any:
        """Run a statement whose best plan depends on its values (filters, pagination, sorting):
        the driver's ``execute`` here; PostgreSQL's storage plans it with its values every time."""
        return connection.execute(sql, params)

    def _json_input(self, placeholder: str) -> str:
        return placeholder

    @staticmethod
    def _load(data: Any) -> dict[str, Any]:
        # A dict is the driver's, read for this row alone (PostgreSQL's jsonb): it becomes the object.
        if isinstance(data, dict):
            return data
        return jsontext.loads(data) if isinstance(data, (str, bytes)) else dict(data)

    @staticmethod
    def _serialize(obj: KintoObject, id_field: str, modified_field: str) -> tuple[dict[str, Any], str]:
        data = {key: value for key, value in obj.items() if key not in (id_field, modified_field)}
        text = q.storable_json(data)
        return jsontext.loads(text), text

    def _to_object(self, row: Any, id_field: str, modified_field: str, deleted_field: str) -> KintoObject:
        object_id, last_modified, deleted, data = row[0], row[1], row[2], row[3]
        if deleted:
            return {id_field: object_id, modified_field: last_modified, deleted_field: True}
        obj = self._load(data)
        obj[id_field] = object_id
        obj[modified_field] = last_modified
        return obj

    def _bump_statement(
        self, b: QueryBuilder, resource_name: str, parent_id: str, requested: int | None, only_if: str | None = None
    ) -> str:
        """The upsert taking the collection's next timestamp (``RETURNING last_modified``); with
        ``only_if`` (SQL), nothing is taken unless it holds."""
        now = now_ms()
        parent, resource = b.add(parent_id), b.add(resource_name)
        initial = self._integer(b.add(requested if requested is not None else now))
        wanted, current = self._integer(b.add(requested)), self._integer(b.add(now))
        rows = f"VALUES ({parent}, {resource}, {initial})"
        if only_if is not None:
            rows = f"SELECT {parent}, {resource}, {initial} WHERE {only_if}"
        return (
            f"INSERT INTO timestamps (parent_id, resource_name, last_modified) {rows} "
            "ON CONFLICT (parent_id, resource_name) DO UPDATE SET last_modified = CASE "
            f"WHEN {wanted} IS NOT NULL AND {wanted} > timestamps.last_modified THEN {wanted} "
            f"ELSE {self.dialect_greatest(current, 'timestamps.last_modified + 1')} END "
            "RETURNING last_modified"
        )

    def _bump(self, connection: Any, resource_name: str, parent_id: str, requested: int | None = None) -> int:
        b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
        sql = self._bump_statement(b, resource_name, parent_id, requested)
        return int(connection.execute(sql, b.params).fetchone()[0])

    def _stamp_and_store(
        self,
        connection: Any,
        resource_name: str,
        parent_id: str,
        object_id: str,
        requested: int | None,
        text: str,
        deleted: bool = False,
    ) -> int:
        """Take the collection's next timestamp and write the object with it; the timestamp."""
        if self.chained_writes:
            # One statement: the timestamp upsert feeds the object's upsert (a data-modifying CTE).
            b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
            stamp_sql = self._bump_statement(b, resource_name, parent_id, requested)
            row = self._object_row(b, resource_name, parent_id, object_id, "stamp.last_modified", text, deleted)
            upsert = OBJECT_UPSERT.format(rows=f"SELECT {row} FROM stamp")
            sql = f"WITH stamp AS ({stamp_sql}) {upsert} RETURNING last_modified"
            return int(connection.execute(sql, b.params).fetchone()[0])
        stamp = self._bump(connection, resource_name, parent_id, requested)
        self._store(connection, resource_name, parent_id, object_id, stamp, text, deleted)
        return stamp

    def _store_if(
        self,
        connection: Any,
        resource_name: str,
        parent_id: str,
        object_id: str,
        requested: int | None,
        text: str,
        *,
        deleted: bool,
        alive: bool,
        version: int | None = None,
    ) -> tuple[int | None, Any]:
        """``_stamp_and_store`` if a live object holds the id (``alive``; at timestamp ``version``
        when given) or none does (not ``alive``): the timestamp (None when nothing was written)
        and the live object's row found.

        With chained writes, one statement: the check, the timestamp and the object, so that a
        create or a delete needs no read of its own first. The check reads the statement's
        snapshot and the object's upsert the latest row: a writer that raced past the check
        without the collection's lock writes nothing, and answers None without a row.
        """
        if not self.chained_writes:
            row = self._fetch_row(connection, resource_name, parent_id, object_id)
            live = row if row is not None and not row[2] else None
            if (live is not None) != alive or (live is not None and version is not None and live[1] != version):
                return None, live
            return self._stamp_and_store(
                connection, resource_name, parent_id, object_id, requested, text, deleted=deleted
            ), live
        b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
        parent, resource, identifier = b.add(parent_id), b.add(resource_name), b.add(object_id)
        key = f"objects.parent_id = {parent} AND objects.resource_name = {resource} AND objects.id = {identifier}"
        if version is not None:
            key = f"{key} AND objects.last_modified = {self._integer(b.add(version))}"
        found = "EXISTS (SELECT 1 FROM live)"
        stamp_sql = self._bump_statement(b, resource_name, parent_id, requested, found if alive else f"NOT {found}")
        if version is None:
            row = self._object_row(b, resource_name, parent_id, object_id, "stamp.last_modified", text, deleted)
            replaced = "NOT objects.deleted" if alive else "objects.deleted"
            write = f"{OBJECT_UPSERT.format(rows=f'SELECT {row} FROM stamp')} WHERE {replaced}"
        else:
            # An UPDATE, not an upsert: it re-checks its condition on the latest row once a
            # concurrent writer has committed, and writes nothing if that writer removed the row.
            flag = "TRUE" if deleted else "FALSE"
            write = (
                f"UPDATE objects SET last_modified = stamp.last_modified, deleted = {flag}, "
                f"data = {self._json_input(b.add(text))} FROM stamp WHERE {key} AND NOT objects.deleted"
            )
        sql = (
            f"WITH live AS (SELECT id, last_modified, deleted, data FROM objects WHERE {key} AND NOT objects.deleted), "
            f"stamp AS ({stamp_sql}), "
            f"written AS ({write} RETURNING objects.id, objects.last_modified, objects.deleted, objects.data) "
            "SELECT TRUE, id, last_modified, deleted, data FROM written "
            "UNION ALL SELECT FALSE, id, last_modified, deleted, data FROM live"
        )
        rows = connection.execute(sql, b.params).fetchall()
        written = next((int(row[2]) for row in rows if row[0]), None)
        return written, next((row[1:] for row in rows if not row[0]), None)

    def dialect_greatest(self, left: str, right: str) -> str:
        return f"MAX({left}, {right})"

    def _integer(self, placeholder: str) -> str:
        return placeholder

    def _collection(self, b: QueryBuilder, resource_name: str | None, parent_id: str) -> str:
        if "\x00" in parent_id or "\x00" in (resource_name or ""):
            return "1 = 0"  # nothing is ever stored there (see query.check_location)
        conditions = []
        if resource_name is not None:
            conditions.append(f"resource_name = {b.add(resource_name)}")
        if "*" in parent_id:
            conditions.append(self._parent_matches(b, parent_id))
        else:
            conditions.append(f"parent_id = {b.add(parent_id)}")
        return " AND ".join(conditions)

    def _parent_matches(self, b: QueryBuilder, pattern: str) -> str:
        raise NotImplementedError

    # --- lifecycle ------------------------------------------------------------------------------

    def schema_mismatch(self) -> str | None:
        return self.schema.check(self.client)

    def initialize_schema(self, dry_run: bool = False) -> None:
        self.schema.migrate(self.client, dry_run=dry_run)

    def flush(self) -> None:
        with self.client.connect() as connection:
            connection.execute("DELETE FROM objects")
            connection.execute("DELETE FROM timestamps")

    def transaction(self, *, write: bool = True) -> Any:
        return self.client.transaction(write=write)

    def savepoint(self) -> Any:
        return self.client.savepoint()

    # --- timestamps --------------------------------------------------------------------------------

    def resource_timestamp(self, resource_name: str, parent_id: str) -> int:
        q.check_location(resource_name, parent_id)
        b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
        sql = f"SELECT last_modified FROM timestamps WHERE {self._collection(b, resource_name, parent_id)}"
        with self._connect(readonly=True) as connection:
            row = connection.execute(sql, b.params).fetchone()
        if row is not None:
            return int(row[0])
        q.check_writable(self.readonly)
        with self._connect() as connection:
            b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
            parent, resource, now = b.add(parent_id), b.add(resource_name), b.add(now_ms())
            # Another writer may create it meanwhile: keep theirs.
            connection.execute(
                f"INSERT INTO timestamps (parent_id, resource_name, last_modified) VALUES ({parent}, {resource}, {now}) "
                "ON CONFLICT (parent_id, resource_name) DO NOTHING",
                b.params,
            )
            row = connection.execute(
                f"SELECT last_modified FROM timestamps WHERE parent_id = {parent} AND resource_name = {resource}",
                b.params,
            ).fetchone()
        return int(row[0])

    def all_resources_timestamps(self, resource_name: str) -> dict[str, int]:
        b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
        sql = f"SELECT parent_id, last_modified FROM timestamps WHERE resource_name = {b.add(resource_name)}"
        with self._connect(readonly=True) as connection:
            return {row[0]: int(row[1]) for row in connection.execute(sql, b.params).fetchall()}

    def all_timestamps(self) -> dict[tuple[str, str], int]:
        sql = "SELECT resource_name, parent_id, last_modified FROM timestamps"
        with self._connect(readonly=True) as connection:
            return {(row[0], row[1]): int(row[2]) for row in connection.execute(sql).fetchall()}

    def import_objects(
        self,
        resource_name: str,
        parent_id: str,
        objects: list[KintoObject],
        tombstones: list[KintoObject] | None = None,
        timestamp: int | None = None,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        deleted_field: str = DEFAULT_DELETED_FIELD,
    ) -> None:
        q.check_writable(self.readonly)
        q.check_location(resource_name, parent_id)
        tombstone_text = q.canonical_json({deleted_field: True})
        rows = [self._imported_row(obj, id_field, modified_field, None) for obj in objects]
        rows += [self._imported_row(obj, id_field, modified_field, tombstone_text) for obj in tombstones or []]
        highest = max((row["last_modified"] for row in rows), default=None)
        if timestamp is not None:
            timestamp = max(int(timestamp), highest or timestamp)
        with self._connect() as connection:
            if rows:
                self._write_imported(connection, resource_name, parent_id, rows)
            if timestamp is not None or highest is not None:
                self._import_timestamp(connection, resource_name, parent_id, timestamp, highest)

    def _write_imported(self, connection: Any, resource_name: str, parent_id: str, rows: list[dict[str, Any]]) -> None:
        """Upsert the rows of ``import_objects`` (keys: id, last_modified, deleted, data as JSON text)."""
        placeholder = self.dialect.placeholder
        values = ", ".join(
            [
                placeholder("parent_id"),
                placeholder("resource_name"),
                placeholder("id"),
                self._integer(placeholder("last_modified")),
                placeholder("deleted"),
                self._json_input(placeholder("data")),
            ]
        )
        parameters = [{**row, "parent_id": parent_id, "resource_name": resource_name} for row in rows]
        connection.cursor().executemany(OBJECT_UPSERT.format(rows=f"VALUES ({values})"), parameters)

    def _imported_row(
        self, obj: KintoObject, id_field: str, modified_field: str, tombstone_text: str | None
    ) -> dict[str, Any]:
        object_id = q.check_id(obj.get(id_field), id_field)
        stamp = q.requested_timestamp(obj, modified_field)
        if stamp is None:
            raise InvalidValueError(f"An imported object needs an integer {modified_field!r} (object {object_id!r})")
        text = tombstone_text if tombstone_text is not None else self._serialize(obj, id_field, modified_field)[1]
        return {"id": object_id, "last_modified": stamp, "deleted": tombstone_text is not None, "data": text}

    def _import_timestamp(
        self, connection: Any, resource_name: str, parent_id: str, timestamp: int | None, highest: int | None
    ) -> None:
        b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
        value = self._integer(b.add(timestamp if timestamp is not None else highest))
        parent, resource = b.add(parent_id), b.add(resource_name)
        new = "excluded.last_modified"
        if timestamp is None:
            new = self.dialect_greatest("timestamps.last_modified", new)
        connection.execute(
            f"INSERT INTO timestamps (parent_id, resource_name, last_modified) VALUES ({parent}, {resource}, {value}) "
            f"ON CONFLICT (parent_id, resource_name) DO UPDATE SET last_modified = {new}",
            b.params,
        )

    # --- objects -------------------------------------------------------------------------------------

    def _fetch_row(self, connection: Any, resource_name: str, parent_id: str, object_id: str) -> Any:
        if "\x00" in parent_id + resource_name + object_id:
            return None
        b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
        sql = (
            f"SELECT {COLUMNS} FROM objects WHERE parent_id = {b.add(parent_id)} "
            f"AND resource_name = {b.add(resource_name)} AND id = {b.add(object_id)}"
        )
        return connection.execute(sql, b.params).fetchone()

    def _store(
        self,
        connection: Any,
        resource_name: str,
        parent_id: str,
        object_id: str,
        stamp: int,
        text: str,
        deleted: bool = False,
    ) -> None:
        b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
        row = self._object_row(b, resource_name, parent_id, object_id, b.add(stamp), text, deleted)
        connection.execute(OBJECT_UPSERT.format(rows=f"VALUES ({row})"), b.params)

    def _object_row(
        self,
        b: QueryBuilder,
        resource_name: str,
        parent_id: str,
        object_id: str,
        stamp: str,
        text: str,
        deleted: bool,
    ) -> str:
        """The values of an object's row, in ``OBJECT_UPSERT``'s column order (``stamp`` is SQL)."""
        data = self._json_input(b.add(text))
        flag = "TRUE" if deleted else "FALSE"
        return f"{b.add(parent_id)}, {b.add(resource_name)}, {b.add(object_id)}, {stamp}, {flag}, {data}"

    def create(
        self,
        resource_name: str,
        parent_id: str,
        obj: KintoObject,
        id_generator: generators.Generator | None = None,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        auth: Any = None,
    ) -> KintoObject:
        q.check_writable(self.readonly)
        q.check_location(resource_name, parent_id)
        object_id = obj[id_field] if id_field in obj else (id_generator or self.id_generator)()
        object_id = q.check_id(object_id, id_field)
        data, text = self._serialize(obj, id_field, modified_field)
        requested = q.requested_timestamp(obj, modified_field)
        with self._connect() as connection:
            stamp, live = self._store_if(
                connection, resource_name, parent_id, object_id, requested, text, deleted=False, alive=False
            )
        if stamp is None:
            existing = None if live is None else self._to_object(live, id_field, modified_field, DEFAULT_DELETED_FIELD)
            raise UnicityError(id_field, existing)
        return {**data, id_field: object_id, modified_field: stamp}

    def create_many(
        self,
        resource_name: str,
        parent_id: str,
        objects: list[KintoObject],
        id_generator: generators.Generator | None = None,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
    ) -> list[KintoObject]:
        q.check_writable(self.readonly)
        q.check_location(resource_name, parent_id)
        if not objects:
            return []
        prepared = []
        for obj in objects:
            object_id = q.check_id(
                obj[id_field] if id_field in obj else (id_generator or self.id_generator)(), id_field
            )
            data, text = self._serialize(obj, id_field, modified_field)
            prepared.append((object_id, data, text, q.requested_timestamp(obj, modified_field)))
        ids = [object_id for object_id, *_ in prepared]
        if len(set(ids)) < len(ids):
            twice = next(entry for index, entry in enumerate(prepared) if entry[0] in ids[index + 1 :])
            raise UnicityError(id_field, {**twice[1], id_field: twice[0]})
        with self._connect() as connection:
            alive = self._first_alive(connection, resource_name, parent_id, ids)
            if alive is not None:
                raise UnicityError(id_field, self._to_object(alive, id_field, modified_field, DEFAULT_DELETED_FIELD))
            stamps = self._stamps(connection, resource_name, parent_id, [requested for *_, requested in prepared])
            for start in range(0, len(prepared), _ROWS_PER_STATEMENT):
                b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
                rows = ", ".join(
                    f"({self._object_row(b, resource_name, parent_id, object_id, b.add(stamp), text, False)})"
                    for (object_id, _, text, _), stamp in zip(
                        prepared[start : start + _ROWS_PER_STATEMENT], stamps[start:], strict=False
                    )
                )
                self._write_later(connection, OBJECT_UPSERT.format(rows=f"VALUES {rows}"), b.params)
        return [
            {**data, id_field: object_id, modified_field: stamp}
            for (object_id, data, _, _), stamp in zip(prepared, stamps, strict=True)
        ]

    def _first_alive(self, connection: Any, resource_name: str, parent_id: str, ids: list[str]) -> Any:
        """The row of a live object holding one of ``ids``, or None."""
        for start in range(0, len(ids), _ROWS_PER_STATEMENT):
            b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
            listed = ", ".join(b.add(object_id) for object_id in ids[start : start + _ROWS_PER_STATEMENT])
            sql = (
                f"SELECT id, last_modified, deleted, data FROM objects WHERE parent_id = {b.add(parent_id)} "
                f"AND resource_name = {b.add(resource_name)} AND deleted = FALSE AND id IN ({listed}) LIMIT 1"
            )
            row = connection.execute(sql, b.params).fetchone()
            if row is not None:
                return row
        return None

    def _stamps(self, connection: Any, resource_name: str, parent_id: str, requested: list[int | None]) -> list[int]:
        """Timestamps for new objects in a row, as that many bumps would give: one bump, the rest
        computed while the bump holds the collection's row, which then takes the last one."""
        stamps = [self._bump(connection, resource_name, parent_id, requested[0])]
        now = now_ms()
        for wanted in requested[1:]:
            previous = stamps[-1]
            stamps.append(wanted if wanted is not None and wanted > previous else max(now, previous + 1))
        if len(stamps) > 1:
            b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
            sql = (
                f"UPDATE timestamps SET last_modified = {self._integer(b.add(stamps[-1]))} "
                f"WHERE parent_id = {b.add(parent_id)} AND resource_name = {b.add(resource_name)}"
            )
            self._write_later(connection, sql, b.params)
        return stamps

    def _write_later(self, connection: Any, sql: str, params: Any) -> None:
        """Run a write whose rows nobody reads; a dialect may send it with the next statement."""
        connection.execute(sql, params)

    def get(
        self,
        resource_name: str,
        parent_id: str,
        object_id: str,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        auth: Any = None,
    ) -> KintoObject:
        if not isinstance(object_id, str) or "\x00" in object_id:
            raise ObjectNotFoundError(object_id)
        with self._connect(readonly=True) as connection:
            row = self._fetch_row(connection, resource_name, parent_id, object_id)
        if row is None or row[2]:
            raise ObjectNotFoundError(object_id)
        return self._to_object(row, id_field, modified_field, DEFAULT_DELETED_FIELD)

    def update(
        self,
        resource_name: str,
        parent_id: str,
        object_id: str,
        obj: KintoObject,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        auth: Any = None,
        if_last_modified: int | None = None,
    ) -> KintoObject:
        q.check_writable(self.readonly)
        q.check_location(resource_name, parent_id)
        object_id = q.check_id(object_id, id_field)
        data, text = self._serialize(obj, id_field, modified_field)
        requested = q.requested_timestamp(obj, modified_field)
        with self._connect() as connection:
            if if_last_modified is None:
                stamp = self._stamp_and_store(connection, resource_name, parent_id, object_id, requested, text)
            else:
                written, _ = self._store_if(
                    connection,
                    resource_name,
                    parent_id,
                    object_id,
                    requested,
                    text,
                    deleted=False,
                    alive=True,
                    version=q.expected_version(if_last_modified),
                )
                if written is None:
                    raise ObjectChangedError(object_id)
                stamp = written
        return {**data, id_field: object_id, modified_field: stamp}

    def _delete_row(
        self,
        connection: Any,
        resource_name: str,
        parent_id: str,
        object_id: str,
        with_deleted: bool,
        last_modified: int | None,
        deleted_field: str,
    ) -> int:
        if with_deleted:
            tombstone = q.canonical_json({deleted_field: True})
            return self._stamp_and_store(
                connection, resource_name, parent_id, object_id, last_modified, tombstone, deleted=True
            )
        stamp = self._bump(connection, resource_name, parent_id, last_modified)
        b = self._builder(DEFAULT_ID_FIELD, DEFAULT_MODIFIED_FIELD)
        connection.execute(
            f"DELETE FROM objects WHERE parent_id = {b.add(parent_id)} AND resource_name = {b.add(resource_name)} "
            f"AND id = {b.add(object_id)}",
            b.params,
        )
        return stamp

    def delete(
        self,
        resource_name: str,
        parent_id: str,
        object_id: str,
        id_field: str = DEFAULT_ID_FIELD,
        with_deleted: bool = True,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        deleted_field: str = DEFAULT_DELETED_FIELD,
        auth: Any = None,
        last_modified: int | None = None,
        if_last_modified: int | None = None,
    ) -> KintoObject:
        q.check_writable(self.readonly)
        version = None if if_last_modified is None else q.expected_version(if_last_modified)
        if not isinstance(object_id, str) or "\x00" in object_id:
            raise ObjectNotFoundError(object_id) if version is None else ObjectChangedError(object_id)
        with self._connect() as connection:
            if with_deleted:
                tombstone = q.canonical_json({deleted_field: True})
                stamp, _ = self._store_if(
                    connection,
                    resource_name,
                    parent_id,
                    object_id,
                    last_modified,
                    tombstone,
                    deleted=True,
                    alive=True,
                    version=version,
                )
            else:
                row = self._fetch_row(connection, resource_name, parent_id, object_id)
                stamp = None
                if row is not None and not row[2] and version in (None, row[1]):
                    stamp = self._delete_row(
                        connection, resource_name, parent_id, object_id, False, last_modified, deleted_field
                    )
        if stamp is None:
            raise ObjectNotFoundError(object_id) if version is None else ObjectChangedError(object_id)
        return {id_field: object_id, modified_field: stamp, deleted_field: True}

    # --- queries ---------------------------------------------------------------------------------------

    def _select_sql(
        self,
        b: QueryBuilder,
        resource_name: str | None,
        parent_id: str,
        filters: list[Filter] | None,
        sorting: list[Sort] | None,
        pagination_rules: list[list[Filter]] | None,
        limit: int | None,
        include_deleted: bool,
        columns: str = COLUMNS,
    ) -> str:
        where = [self._collection(b, resource_name, parent_id)]
        if not include_deleted:
            where.append("deleted = FALSE")
        where.append(b.filters(filters))
        where.append(b.pagination(pagination_rules))
        sql = f"SELECT {columns} FROM objects WHERE {' AND '.join(where)} ORDER BY {b.order_by(sorting)}"
        if limit is not None:
            sql += f" LIMIT {max(0, int(limit))}"
        return sql

    def list_all(
        self,
        resource_name: str,
        parent_id: str,
        filters: list[Filter] | None = None,
        sorting: list[Sort] | None = None,
        pagination_rules: list[list[Filter]] | None = None,
        limit: int | None = None,
        include_deleted: bool = False,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        deleted_field: str = DEFAULT_DELETED_FIELD,
        auth: Any = None,
    ) -> list[KintoObject]:
        query = (resource_name, parent_id, filters, sorting, pagination_rules, limit, include_deleted)
        with self._connect(readonly=True) as connection:
            rows = self._select_rows(connection, query, id_field, modified_field, OBJECT_COLUMNS)
        return [self._to_object(row, id_field, modified_field, deleted_field) for row in rows]

    def _select_rows(
        self, connection: Any, query: tuple[Any, ...], id_field: str, modified_field: str, columns: str = COLUMNS
    ) -> list[Any]:
        """The rows (``columns``) of ``_select_sql(*query)``, declared fields written through their sort keys.

        A page ordered by lossy keys (see ``Dialect.key_is_lossy``) is read again ordered by the
        exact values: rare (strings of hundreds of characters), and never wrong.
        """
        resource_name, parent_id, _, sorting = query[:4]
        b = self._builder(id_field, modified_field, self._declared(connection, resource_name, parent_id))
        rows = self._execute_planned(connection, self._select_sql(b, *query, columns), b.params).fetchall()
        if not b.indexed or not any(field in b.indexed for field, _ in sorting or []):
            return rows
        listed = [self._to_object(row, id_field, modified_field, DEFAULT_DELETED_FIELD) for row in rows]
        if not b.sorted_by_lossy_keys(listed, sorting):
            return rows
        b = self._builder(id_field, modified_field)
        return self._execute_planned(connection, self._select_sql(b, *query, columns), b.params).fetchall()

    def count_all(
        self,
        resource_name: str,
        parent_id: str,
        filters: list[Filter] | None = None,
        include_deleted: bool = False,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        deleted_field: str = DEFAULT_DELETED_FIELD,
        auth: Any = None,
    ) -> int:
        with self._connect(readonly=True) as connection:
            b = self._builder(id_field, modified_field, self._declared(connection, resource_name, parent_id))
            where = [self._collection(b, resource_name, parent_id), b.filters(filters)]
            if not include_deleted:
                where.append("deleted = FALSE")
            sql = f"SELECT COUNT(*) FROM objects WHERE {' AND '.join(where)}"
            row = self._execute_planned(connection, sql, b.params).fetchone()
        return int(row[0])

    def delete_all(
        self,
        resource_name: str | None,
        parent_id: str,
        filters: list[Filter] | None = None,
        sorting: list[Sort] | None = None,
        pagination_rules: list[list[Filter]] | None = None,
        limit: int | None = None,
        id_field: str = DEFAULT_ID_FIELD,
        with_deleted: bool = True,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        deleted_field: str = DEFAULT_DELETED_FIELD,
        auth: Any = None,
    ) -> list[KintoObject]:
        q.check_writable(self.readonly)
        query = (resource_name, parent_id, filters, sorting, pagination_rules, limit, False)
        tombstones = []
        with self._connect() as connection:
            for row in self._select_rows(connection, query, id_field, modified_field):
                object_id, parent, resource = row[0], row[4], row[5]
                stamp = self._delete_row(connection, resource, parent, object_id, with_deleted, None, deleted_field)
                tombstones.append({id_field: object_id, modified_field: stamp, deleted_field: True})
        return tombstones

    def purge_deleted(
        self,
        resource_name: str | None,
        parent_id: str,
        before: int | None = None,
        max_retained: int | None = None,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        auth: Any = None,
    ) -> int:
        q.check_writable(self.readonly)
        b = self._builder(id_field, modified_field)
        condemned = []
        if before is not None:
            condemned.append(f"last_modified < {b.add(int(before))}")
        if max_retained is not None:
            condemned.append(f"position > {b.add(int(max_retained))}")
        sql = (
            "DELETE FROM objects WHERE (parent_id, resource_name, id) IN ("
            "SELECT parent_id, resource_name, id FROM ("
            "SELECT parent_id, resource_name, id, last_modified, ROW_NUMBER() OVER ("
            "PARTITION BY parent_id, resource_name ORDER BY last_modified DESC) AS position "
            f"FROM objects WHERE deleted = TRUE AND {self._collection(b, resource_name, parent_id)}) AS tombstones "
            f"WHERE {' OR '.join(condemned) or '1 = 1'})"
        )
        with self._connect() as connection:
            return int(connection.execute(sql, b.params).rowcount)

    def heartbeat(self) -> bool:
        try:
            with self.client.connect(readonly=True) as connection:
                connection.execute("SELECT 1").fetchone()
            return True
        except Exception:
            logger.exception("Storage heartbeat failed")
            return False
