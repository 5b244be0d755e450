"""Declared indexes: the data fields of a collection that filters and sorts find through an index.

:meth:`~kinto.core.storage.StorageBase.index_fields` declares them; the SQL backends build one
expression index per field, partial to the collection, over the field's *sort key* (one
expression carrying the contract's sort order, see :mod:`kinto.core.storage.sql`), and write
the filters and sorts of declared fields so that the index serves them. What each process
knows of the declarations is refreshed every :data:`REFRESH_SECONDS`: an index another process
has just built is used a little later, never with a different answer (the SQL is correct with or
without the index).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from kinto.core.storage.exceptions import InvalidValueError

__all__ = ["MAX_FIELD_LENGTH", "MAX_KNOWN", "REFRESH_SECONDS", "DeclaredFields", "check_fields", "index_name"]

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
