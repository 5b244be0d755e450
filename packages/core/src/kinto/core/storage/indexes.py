"""Declared indexes: the data fields of a collection that filters and sorts find through an index.

:meth:`~kinto.core.storage.StorageBase.index_fields` declares them; the SQL backends build one
expression index per field, partial to the collection, over the field's *sort key* (one
expression carrying the contract's sort order, see :mod:`kinto.core.storage.sql`), and write
the filters and sorts of declared fields so that the index serves them. What each process
knows of the declarations is refreshed every :data:`REFRESH_SECONDS`: an index another process
has just built is used a little later, never with a different answer (the SQL is correct with or
without the index).

:class:`DeclaredIndexes` is what the backends share: the checks of a declaration, which indexes to
drop and which to build, reading declarations back and counting them; a backend says how its
database lists, builds and drops an index.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from kinto.core.storage.exceptions import InvalidValueError, ReadonlyError

__all__ = [
    "MAX_FIELD_LENGTH",
    "MAX_KNOWN",
    "NAME_PREFIX",
    "REFRESH_SECONDS",
    "DeclaredFields",
    "DeclaredIndexes",
    "check_fields",
    "collection_prefix",
    "index_name",
]

#: How long a process trusts what it read of a collection's declared fields.
REFRESH_SECONDS = 10.0
#: Collections whose declarations one process remembers at most (a bound on its memory).
MAX_KNOWN = 10_000
#: Longest field path accepted in a declaration.
MAX_FIELD_LENGTH = 256
#: Prefix of every declared index's name (and nothing else's).
NAME_PREFIX = "kinto_field_"


def check_fields(fields: Iterable[str], id_field: str, modified_field: str) -> list[str]:
    """The declared fields that need an index of their own (sorted, without duplicates).

    A field is a dotted path, ``-`` first for an index read in descending order (the first page of
    a descending sort then comes straight from it; either serves filters and both directions).
    Ids and timestamps are columns with indexes already: declaring them changes nothing. A field
    that is not a string of at most :data:`MAX_FIELD_LENGTH` characters, or that holds a NUL
    character or an empty path part, raises ``InvalidValueError``.
    """
    wanted = set()
    for field in fields:
        if not isinstance(field, str) or len(field) > MAX_FIELD_LENGTH:
            raise InvalidValueError(f"An indexed field is a path of at most {MAX_FIELD_LENGTH} characters: {field!r}")
        path = field.removeprefix("-")
        if "\x00" in path or "" in path.split("."):
            raise InvalidValueError(f"Not a field path: {field!r}")
        if path not in (id_field, modified_field):
            wanted.add(field)
    return sorted(wanted)


def index_name(resource_name: str, parent_id: str, field: str) -> str:
    """The name of a field's index: the collection's digest, then the field's (fits in 63 bytes).

    Every index of a collection shares the prefix :func:`collection_prefix` gives.
    """
    return collection_prefix(resource_name, parent_id) + _digest(field)


def collection_prefix(resource_name: str, parent_id: str) -> str:
    return f"{NAME_PREFIX}{_digest(resource_name + chr(0) + parent_id)}_"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


class DeclaredFields:
    """What one process knows of each collection's declared fields, read again after a while.

    ``read(connection, resource_name, parent_id)`` returns the fields from the database, on the
    connection of the query being written: a second pooled connection per query would exhaust a
    small pool (one request holding one connection, waiting for another). At most
    :data:`MAX_KNOWN` collections are remembered; beyond, the memory starts again empty.
    """

    def __init__(
        self, read: Callable[[Any, str, str], frozenset[str]], refresh_seconds: float = REFRESH_SECONDS
    ) -> None:
        self._read = read
        self._refresh_seconds = refresh_seconds
        self._known: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def get(self, connection: Any, resource_name: str | None, parent_id: str) -> frozenset[str]:
        """The declared fields of a collection (nothing for wildcard parents or every resource)."""
        if resource_name is None or "*" in parent_id:
            return frozenset()
        key = (resource_name, parent_id)
        known = self._known.get(key)
        now = time.monotonic()
        if known is not None and now - known[0] < self._refresh_seconds:
            return known[1]
        fields = self._read(connection, resource_name, parent_id)
        with self._lock:
            if len(self._known) >= MAX_KNOWN:
                self._known.clear()
            self._known[key] = (now, fields)
        return fields

    def forget(self, resource_name: str | None = None, parent_id: str | None = None) -> None:
        """Read the collection's declaration again next time (every collection's, without arguments)."""
        with self._lock:
            if resource_name is None or parent_id is None:
                self._known.clear()
            else:
                self._known.pop((resource_name, parent_id), None)


class DeclaredIndexes:
    """``index_fields``, ``indexed_fields``, ``drop_indexes_except`` and ``count_indexed_fields`` of a SQL
    storage (a part of its class).

    Every declared index is named with :data:`NAME_PREFIX` then the collection's
    :func:`collection_prefix`, and the backend can tell the field it was declared for from the
    index alone (its name or a comment), so that the database's catalogue is the one record of
    declarations: nothing to keep in step, nothing left behind by a failed build. An index the
    backend reports as invalid (a failed concurrent build) counts for nothing, and is dropped and
    built again by the next declaration of its collection.
    """

    supports_indexes: ClassVar[bool] = True
    client: Any
    readonly: bool
    declared_fields: DeclaredFields

    # --- what each backend says ---------------------------------------------------------------------

    def _indexes(self, connection: Any, prefix: str) -> dict[str, tuple[str, bool]]:
        """``{index name: (field as declared, valid)}`` of the declared indexes named ``prefix...``."""
        raise NotImplementedError

    def _index_name(self, resource_name: str, parent_id: str, field: str) -> str:
        """The name of a field's index, starting with :func:`collection_prefix`."""
        raise NotImplementedError

    def _building(self) -> AbstractContextManager[Any]:
        """The connection indexes are built and dropped on (``RuntimeError`` if the backend cannot there)."""
        raise NotImplementedError

    def _drop_index(self, connection: Any, name: str, *, in_transaction: bool) -> None:
        """Drop the index if it exists (``in_transaction``: inside another statement's transaction)."""
        raise NotImplementedError

    def _build_indexes(self, connection: Any, resource_name: str, parent_id: str, missing: dict[str, str]) -> None:
        """Build ``{name: field}`` for the collection, on the connection of :meth:`_building`."""
        raise NotImplementedError

    # --- shared ---------------------------------------------------------------------------------------------

    def read_declared_fields(self, connection: Any, resource_name: str, parent_id: str) -> frozenset[str]:
        """The paths the collection's valid indexes serve (for the query builder), read on ``connection``."""
        found = self._indexes(connection, collection_prefix(resource_name, parent_id))
        return frozenset(field.removeprefix("-") for field, valid in found.values() if valid and field)

    def indexed_fields(self, resource_name: str, parent_id: str) -> list[str]:
        with self.client.connect(readonly=True) as connection:
            found = self._indexes(connection, collection_prefix(resource_name, parent_id))
        return sorted(field for field, valid in found.values() if valid and field)

    def count_indexed_fields(self) -> int:
        with self.client.connect(readonly=True) as connection:
            found = self._indexes(connection, NAME_PREFIX)
        return sum(1 for field, valid in found.values() if valid and field)

    def index_fields(self, resource_name: str, parent_id: str, fields: list[str]) -> None:
        if self.readonly:
            raise ReadonlyError(message="The storage is read-only")
        if "\x00" in resource_name + parent_id:
            raise InvalidValueError("Parent ids and resource names cannot hold NUL characters")
        declared = check_fields(fields, "id", "last_modified")
        wanted = {self._index_name(resource_name, parent_id, field): field for field in declared}
        with self._building() as connection:
            found = self._indexes(connection, collection_prefix(resource_name, parent_id))
            for name, (_, valid) in found.items():
                if name not in wanted or not valid:
                    self._drop_index(connection, name, in_transaction=False)
            missing = {name: field for name, field in wanted.items() if name not in found or not found[name][1]}
            if missing:
                self._build_indexes(connection, resource_name, parent_id, missing)
        self.declared_fields.forget(resource_name, parent_id)

    def drop_indexes_except(self, collections: Iterable[tuple[str, str]]) -> list[str]:
        kept = {collection_prefix(resource_name, parent_id) for resource_name, parent_id in collections}
        prefix_length = len(collection_prefix("", ""))
        with self._building() as connection:
            orphans = [name for name in self._indexes(connection, NAME_PREFIX) if name[:prefix_length] not in kept]
            for name in orphans:
                self._drop_index(connection, name, in_transaction=False)
        self.declared_fields.forget()
        return orphans

    def _drop_all_indexes(self, connection: Any) -> None:
        """Inside ``flush()``: every declared index goes (a flushed store declares nothing)."""
        for name in self._indexes(connection, NAME_PREFIX):
            self._drop_index(connection, name, in_transaction=True)
        self.declared_fields.forget()
