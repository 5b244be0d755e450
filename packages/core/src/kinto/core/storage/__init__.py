"""The storage contract.

A storage backend keeps JSON objects identified by ``(resource_name, parent_id,
object id)``; the objects of one ``(resource_name, parent_id)`` pair form a
*collection*. Every write stamps the object with ``last_modified``: a
millisecond timestamp unique and strictly increasing within its collection,
also the collection's timestamp (the ETag of list endpoints).

A backend module exposes ``load_from_config(config) -> StorageBase``; the
setting ``kinto.storage_backend`` names that module. Backends prove
conformance with :class:`kinto.core.testing.storage.StorageContract`.

Query semantics shared by every backend (the contract suite enforces them):

Fields
    ``id_field`` and ``modified_field`` name the object's id and timestamp.
    Any other field is a path into the JSON document: ``a.b.c`` reads key
    ``c`` of object ``b`` of object ``a``; a path through a non-object, or to an
    absent key, is *missing* (:data:`MISSING`).

Filters (``filters=``, combined with AND)
    ``eq``/``not`` and ``in``/``exclude`` compare JSON values by type: ``1``,
    ``"1"``, ``true`` and ``null`` are all different, ``1`` equals ``1.0``.
    ``not`` and ``exclude`` are exact complements of ``eq`` and ``in``: they
    match objects where the field is missing. ``lt``, ``max`` (<=), ``min``
    (>=) and ``gt`` only match values of the same type as the operand (numbers
    numerically, strings by code point, ``false < true``); missing fields,
    arrays and objects never match them. ``has`` (truthy operand) matches
    objects having the field, even ``null``; falsy matches objects lacking it.
    ``like`` matches strings only, case-insensitively, ``*`` standing for any
    sequence; without ``*`` the operand may appear anywhere. ``contains``
    (every listed value is in the array) and ``contains_any`` (at least one is)
    match array fields only, an element being the value exactly as ``eq``
    compares (an object holding more keys, or an array more elements, is not). A value holding a NUL character raises
    :class:`~kinto.core.storage.exceptions.InvalidValueError`.

Sorting
    One total order for every backend: ``null < strings < numbers < booleans
    < arrays < objects < missing``; within a type, numbers numerically,
    strings by code point, ``false < true``; all arrays rank equal, and so do
    all objects. Descending sorts reverse the whole order (missing first).
    Ties are broken by the object id, ascending, unless the sort names it.

Pagination (``pagination_rules=``)
    An OR of AND-ed filters built from the last object of the previous page
    (``EQ`` on the leading sort fields and ``GT``/``LT`` on the next, as
    Kinto builds them). There, comparisons follow the sort order above,
    :data:`MISSING` included, so that keyset pagination neither skips nor
    repeats an object, whatever values or gaps the sort fields hold.

Declared indexes
    :meth:`StorageBase.index_fields` names the data fields of a collection that
    its filters and sorts should find through an index (the SQL backends index
    one *sort key* expression per field, carrying the order above). A
    declaration changes how fast answers come, never what they are.

Parents
    ``parent_id`` may hold ``*`` wildcards in ``list_all``, ``count_all``,
    ``delete_all`` and ``purge_deleted`` (``/buckets/*`` matches every
    bucket's objects); other methods take it literally.

This module is over 500 lines on purpose: it is the contract, the rules above and a
docstring per method, the one file a backend author reads.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import logging
import warnings
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from kinto.core import backend_schema
from kinto.core.storage import generators
from kinto.core.storage.exceptions import (
    BackendError,
    InvalidValueError,
    ObjectChangedError,
    ObjectNotFoundError,
    ReadonlyError,
    RecordNotFoundError,
    UnicityError,
)

__all__ = [
    "COMPARISON",
    "DEFAULT_DELETED_FIELD",
    "DEFAULT_ID_FIELD",
    "DEFAULT_MODIFIED_FIELD",
    "MISSING",
    "BackendError",
    "Filter",
    "InvalidValueError",
    "KintoObject",
    "Missing",
    "ObjectChangedError",
    "ObjectKey",
    "ObjectNotFoundError",
    "PageKey",
    "ReadonlyError",
    "RecordNotFoundError",
    "Sort",
    "StorageBase",
    "UnicityError",
    "heartbeat",
]

logger = logging.getLogger(__name__)

KintoObject = dict[str, Any]
#: ``(resource_name, parent_id, object_id)``: where an object is stored.
ObjectKey = tuple[str, str, str]

DEFAULT_ID_FIELD = "id"
DEFAULT_MODIFIED_FIELD = "last_modified"
DEFAULT_DELETED_FIELD = "deleted"


class Missing:
    """The value of a field an object does not have (distinct from JSON ``null``)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        # Unpickles as the module's single MISSING, so ``is MISSING`` keeps working.
        return "MISSING"


MISSING = Missing()

Filter = namedtuple("Filter", ["field", "value", "operator"])
Filter.__doc__ = "One condition: ``field`` compared with ``value`` by ``operator`` (a :class:`COMPARISON`)."

Sort = namedtuple("Sort", ["field", "direction"])
Sort.__doc__ = "One sort key: ``field`` ascending (``direction`` 1) or descending (-1)."

#: ``(resource_name, parent_id, filters, sorting, pagination_rules, limit, include_deleted)``: the
#: arguments of a ``list_all`` (and of ``prefetch_page``).
PageKey = tuple[str, str, list[Filter] | None, list[Sort] | None, list[list[Filter]] | None, int | None, bool]


class COMPARISON(enum.Enum):
    """Filter operators, with the values Kinto uses."""

    LT = "<"
    MIN = ">="
    MAX = "<="
    NOT = "!="
    EQ = "=="
    GT = ">"
    IN = "in"
    EXCLUDE = "exclude"
    LIKE = "like"
    HAS = "has"
    # contains_any before contains: querystring prefixes are matched in this order.
    CONTAINS_ANY = "contains_any"
    CONTAINS = "contains"


_HEARTBEAT_RESOURCE = "__heartbeat__"


class StorageBase(abc.ABC):
    """Abstract base class of storage backends.

    Keyword arguments and defaults match Kinto's, so a backend written for
    Kinto works unchanged. Any method may raise
    :class:`~kinto.core.storage.exceptions.BackendError` when the underlying
    service fails (answered 503 by the core); a backend built with
    ``readonly=True`` raises :class:`~kinto.core.storage.exceptions.ReadonlyError`
    on writes.
    """

    #: The backend's ``transaction()`` really commits or rolls back.
    supports_transactions: ClassVar[bool] = False
    #: Several processes may use one store at once (same file or server); ``kinto start`` serves
    #: with one worker process when a backend does not.
    supports_concurrent_processes: ClassVar[bool] = False
    #: The backend's ``savepoint()`` really undoes its block's writes.
    supports_savepoints: ClassVar[bool] = False
    #: The backend implements :meth:`all_timestamps` and :meth:`import_objects`: ``kinto copy``
    #: can read a whole store out of it and write one into it, timestamps and tombstones included.
    supports_copy: ClassVar[bool] = False
    #: The backend builds the indexes :meth:`index_fields` declares, and :meth:`indexed_fields` reports them.
    supports_indexes: ClassVar[bool] = False
    #: :meth:`prefetch_objects` and :meth:`prefetch_page` send their reads without waiting for the
    #: answers (so reading ahead saves round trips): the resources read ahead only when the storage
    #: or the permission backend says so; otherwise reading ahead would only repeat the reads.
    reads_ahead: ClassVar[bool] = False
    #: :meth:`update` and :meth:`delete` take ``if_last_modified``: the write happens only if the
    #: live object is still at that timestamp (else ``ObjectChangedError``, the object untouched).
    #: The resources then write without taking the collection's lock first (see
    #: :mod:`kinto.core.resource.resource`); otherwise they lock, read, then write.
    writes_conditionally: ClassVar[bool] = False
    #: What is stored survives a restart of the application (False for a store in memory,
    #: which ``kinto copy`` refuses as a source or a target).
    persistent: ClassVar[bool] = True
    #: The store lives inside the application (its memory or a local file), with no administrator:
    #: ``kinto start`` creates its tables itself (``initialize_schema``) instead of asking for
    #: ``kinto migrate``. A backend on a database server leaves this False.
    embedded: ClassVar[bool] = False

    id_generator: generators.Generator = generators.UUID4()
    id_field: str = DEFAULT_ID_FIELD
    modified_field: str = DEFAULT_MODIFIED_FIELD

    def __init__(self, *args: Any, readonly: bool = False, **kwargs: Any) -> None:
        self.readonly = readonly

    # --- lifecycle ---------------------------------------------------------------------------

    # Written once for every backend contract (see kinto.core.backend_schema).
    initialize_schema = backend_schema.initialize_schema
    schema_mismatch = backend_schema.schema_mismatch

    @abc.abstractmethod
    def flush(self) -> None:
        """Remove every object, tombstone and collection timestamp of every collection."""

    def transaction(self, *, write: bool = True) -> AbstractContextManager[None]:
        """Run the block in one transaction: commit on normal exit, roll back on exception.

        The core opens one per HTTP request (``write=False`` for GET, HEAD and
        OPTIONS) around the storage and permission backends. Re-entrant: a
        nested call joins the outer transaction. A read transaction may still
        write (e.g. the first ``resource_timestamp`` of an empty collection); a
        backend may run a read transaction's statements one by one when that
        reads the same (PostgreSQL does: under READ COMMITTED each statement
        takes its own snapshot anyway), so such a write must be one statement.
        The default does nothing: each call is then its own transaction;
        backends that roll back for real set ``supports_transactions``.
        """
        return contextlib.nullcontext()

    def savepoint(self) -> AbstractContextManager[None]:
        """Inside a write transaction, make the block undoable on its own.

        An exception leaving the block undoes the writes made in it, and only
        those (objects, tombstones, collection timestamps), then propagates; the
        transaction stays open with its earlier writes. Normal exit keeps the
        block's writes, which then commit or roll back with the transaction.
        Savepoints nest. Outside a write transaction the block simply runs. The
        core gives each batch sub-request one, rolled back when it answers an
        error. The default does nothing (a sub-request answering an error then
        keeps what it wrote); backends that undo for real set
        ``supports_savepoints``.
        """
        return contextlib.nullcontext()

    def lock_for_write(self, resource_name: str, parent_id: str) -> None:  # noqa: B027 -- optional hook
        """Inside a write transaction, make other writers of this collection wait for its end.

        Called before a read-then-write (If-Match, PATCH, merge) so that the
        checked version is the one overwritten: no acknowledged update is
        lost. Outside a transaction it has no lasting effect. The default does
        nothing.
        """

    def heartbeat(self) -> bool:
        """Return True when the backend answers a cheap query; never raises."""
        try:
            self.resource_timestamp(_HEARTBEAT_RESOURCE, _HEARTBEAT_RESOURCE)
            return True
        except Exception:
            logger.exception("Storage heartbeat failed")
            return False

    # --- timestamps ----------------------------------------------------------------------------

    @abc.abstractmethod
    def resource_timestamp(self, resource_name: str, parent_id: str) -> int:
        """Return the collection's timestamp: the highest ``last_modified`` it ever gave,
        tombstones and deletions included.

        For a collection never written, a timestamp of the current time is
        created and stored, so repeated calls answer the same value
        (``ReadonlyError`` in read-only mode).
        """

    @abc.abstractmethod
    def all_resources_timestamps(self, resource_name: str) -> dict[str, int]:
        """Return ``{parent_id: timestamp}`` for every collection of ``resource_name`` that has one."""

    def collection_timestamp(self, collection_id: str, parent_id: str) -> int:
        """Kinto's former name of :meth:`resource_timestamp`."""
        return self.resource_timestamp(collection_id, parent_id)

    # --- objects ---------------------------------------------------------------------------------

    @abc.abstractmethod
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
        """Store a new object and return it with its id and ``last_modified``.

        Without ``obj[id_field]`` an id is drawn from ``id_generator`` (default
        :attr:`id_generator`). A live object with the same id raises
        ``UnicityError`` carrying it as ``existing``; a tombstone with that id is
        replaced. ``obj[modified_field]`` is kept only if greater than the
        collection timestamp (otherwise a new timestamp is assigned: stamps stay
        unique and increasing). ``obj`` is not modified; strings or keys holding
        NUL raise ``InvalidValueError``.
        """

    def create_many(
        self,
        resource_name: str,
        parent_id: str,
        objects: list[KintoObject],
        id_generator: generators.Generator | None = None,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
    ) -> list[KintoObject]:
        """Store new objects of one collection and return them, in order, as :meth:`create` would
        have, one after the other.

        Each object gets what :meth:`create` gives it: its id (drawn when missing), a
        ``last_modified`` greater than the collection's timestamp and than the previous
        object's (or its own requested one, when greater), so stamps increase in the
        order of ``objects``; the collection's timestamp ends as the last one's. A live
        object with the id of one of them, or two of them sharing an id, raise
        ``UnicityError`` (the existing, or the first, as ``existing``); values
        :meth:`create` refuses raise ``InvalidValueError``. When it raises, some of the
        objects may have been stored: inside a transaction or a savepoint the caller
        undoes them. An empty list stores nothing. The default calls :meth:`create`
        for each object; SQL backends write them all with one multi-row statement.
        """
        return [
            self.create(
                resource_name,
                parent_id,
                obj,
                id_generator=id_generator,
                id_field=id_field,
                modified_field=modified_field,
            )
            for obj in objects
        ]

    @abc.abstractmethod
    def get(
        self,
        resource_name: str,
        parent_id: str,
        object_id: str,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        auth: Any = None,
    ) -> KintoObject:
        """Return a copy of the live object, or raise ``ObjectNotFoundError`` (tombstones are not found)."""

    @abc.abstractmethod
    def update(
        self,
        resource_name: str,
        parent_id: str,
        object_id: str,
        obj: KintoObject,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        auth: Any = None,
    ) -> KintoObject:
        """Replace the object ``object_id`` by ``obj``, creating it if missing (upsert), and return it.

        ``obj[id_field]`` is set to ``object_id``; the timestamp follows the
        rule of :meth:`create`. A tombstone with that id is replaced.

        A backend declaring :attr:`writes_conditionally` also takes ``if_last_modified`` (an
        int, by keyword): then it writes only over a live object whose timestamp is exactly
        that one, and otherwise raises ``ObjectChangedError`` having written no object (the
        collection's timestamp may have advanced). The check and the write are one step for
        every concurrent writer: of two updates expecting one version, one at most succeeds.
        """

    @abc.abstractmethod
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
    ) -> KintoObject:
        """Delete a live object and return its tombstone ``{id, last_modified, deleted: True}``.

        The tombstone gets a new timestamp (``last_modified`` is honoured only
        if greater than the collection timestamp) and is kept for
        synchronisation unless ``with_deleted`` is false. A missing object (or
        a tombstone) raises ``ObjectNotFoundError``. With ``if_last_modified`` (backends declaring
        :attr:`writes_conditionally`), as :meth:`update`: a live object at another timestamp, or
        none, raises ``ObjectChangedError`` and nothing is deleted.
        """

    def prefetch_objects(self, keys: Sequence[ObjectKey]) -> Callable[[], list[KintoObject | None]]:
        """Start reading the objects of ``keys`` and return a callable giving them, in order.

        Each key is ``(resource_name, parent_id, object_id)``; the callable answers what ``get``
        would (default id and modified fields), ``None`` where it would raise
        ``ObjectNotFoundError``. It is called at most once, within the transaction ``prefetch_objects``
        ran in, and may answer what the store held when ``prefetch_objects`` was called. Meant for
        reads before a permission check: a backend may send its statements now and read their rows
        when the callable is called, so that they share one round trip with the permission
        backend's (``PermissionBase.prefetch``). The default reads with ``get`` when called.
        """

        def read() -> list[KintoObject | None]:
            found: list[KintoObject | None] = []
            for resource_name, parent_id, object_id in keys:
                try:
                    found.append(self.get(resource_name, parent_id, object_id))
                except ObjectNotFoundError:
                    found.append(None)
            return found

        return read

    @abc.abstractmethod
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
        """Delete the live objects ``list_all`` would return with the same arguments; return their tombstones.

        Each deletion is stamped like :meth:`delete`, in the order listed.
        ``parent_id`` may hold wildcards; ``resource_name`` ``None`` means
        every resource under the matching parents.
        """

    @abc.abstractmethod
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
        """Remove tombstones, never live objects, and return how many were removed.

        Without arguments every tombstone of the matching collections goes;
        ``before`` keeps those with ``last_modified >= before``;
        ``max_retained`` keeps the newest N of each collection; with both, a
        tombstone goes when either says so. ``parent_id`` may hold wildcards;
        ``resource_name`` ``None`` means every resource.
        """

    def prefetch_timestamps(self, locations: Sequence[tuple[str, str]]) -> Callable[[], list[int | None]]:
        """Start reading the timestamps of the collections ``locations`` (``(resource_name,
        parent_id)`` pairs); return a callable giving them, in order.

        Each is what ``resource_timestamp`` would answer, or None where it would have to create the
        collection's timestamp (nothing is written ahead). The terms of ``prefetch_objects`` apply:
        called at most once in the same transaction, it may answer what the store held when
        ``prefetch_timestamps`` was called. The default reads with ``resource_timestamp`` when called.
        """

        def read() -> list[int | None]:
            return [self.resource_timestamp(resource_name, parent_id) for resource_name, parent_id in locations]

        return read

    def prefetch_page(self, page: PageKey) -> Callable[[], tuple[int | None, list[KintoObject]]]:
        """Start reading a collection's timestamp and a page of it; return a callable giving both.

        ``page`` holds the first seven arguments of ``list_all``. The callable answers what
        ``resource_timestamp`` would (or None where it would have to create the collection's
        timestamp: nothing is written ahead) and what ``list_all(*page)`` would. The terms of
        ``prefetch_objects`` apply: called at most once in the same transaction, it may answer what
        the store held when ``prefetch_page`` was called. Errors of the arguments
        (``InvalidValueError``) are raised by ``prefetch_page`` or by the callable. The default
        reads with those two methods when called.
        """

        def read() -> tuple[int | None, list[KintoObject]]:
            timestamp = self.resource_timestamp(*page[:2])
            return timestamp, self.list_all(*page)

        return read

    @abc.abstractmethod
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
        """Return the objects matching ``filters`` and one of ``pagination_rules``, sorted, at most ``limit``.

        Tombstones are included (and filtered like the others) only with
        ``include_deleted``. Never counts: see :meth:`count_all`. Semantics of
        filters, sorting and pagination are in this module's docstring.
        """

    @abc.abstractmethod
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
        """Return how many objects ``list_all`` would return without pagination nor limit."""

    # --- copying a whole store (optional: ``supports_copy``) -----------------------------------

    def all_timestamps(self) -> dict[tuple[str, str], int]:
        """Return ``{(resource_name, parent_id): timestamp}`` for every collection that has a timestamp.

        Every collection holding objects or tombstones has one (each write sets
        it), and so has an empty collection whose timestamp was read. With
        ``list_all(..., include_deleted=True)`` on each, this reads a whole store
        out (a live object holding ``deleted: true`` looks like a tombstone
        there: ``include_deleted=False`` tells them apart). The default raises
        ``NotImplementedError`` (``supports_copy`` false).
        """
        raise NotImplementedError(f"{type(self).__qualname__} does not support copying (supports_copy = False)")

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
        """Store ``objects`` and ``tombstones`` exactly as given: the write half of copying a store.

        Each live object and each tombstone must carry its id and an integer
        ``last_modified``, both kept as they are (``InvalidValueError``
        otherwise, or for what :meth:`create` refuses); a live object keeps every
        field, ``deleted_field`` included, while a tombstone is stored as
        ``{id, last_modified, deleted: True}`` whatever else it holds. Whatever
        had the same id, live or tombstone, is replaced. Afterwards the
        collection's timestamp is ``timestamp`` when given (raised to the highest
        imported stamp if lower), else the greater of its current value and the
        highest imported stamp; a ``timestamp`` is set even with nothing to
        import. Unlike the other writes, stamps are not drawn from the
        collection's: keeping them unique is the caller's job (copying a
        consistent store does). All or nothing; ``ReadonlyError`` in read-only
        mode. Never used to serve requests. The default raises
        ``NotImplementedError``.
        """
        raise NotImplementedError(f"{type(self).__qualname__} does not support copying (supports_copy = False)")

    # --- declared indexes (optional: ``supports_indexes``) --------------------------------------

    def index_fields(self, resource_name: str, parent_id: str, fields: list[str]) -> None:  # noqa: B027 -- optional
        """Declare the data fields of the collection whose filters and sorts an index should serve.

        The declaration replaces the collection's previous one: fields absent from ``fields`` lose
        their index (``[]`` drops them all). A field is a dotted path, ``-`` first for an index
        kept in descending order (a descending sort's first page then comes straight from it).
        Declaring the id or the timestamp changes nothing (they are always indexed). Answers
        never depend on declarations. A field that is not a string path of at most 256
        characters, or that holds NUL, raises ``InvalidValueError``; ``ReadonlyError`` in
        read-only mode. Building an index may take as long as reading the collection; backends
        that build without blocking writers (PostgreSQL: concurrently) need to be called outside
        any :meth:`transaction` (``RuntimeError`` otherwise). Calls at once, from any threads or
        processes, take turns: the later one finds the index the earlier one built, never builds it
        a second time. ``parent_id`` is literal. The default does nothing (``supports_indexes`` false).
        """

    def indexed_fields(self, resource_name: str, parent_id: str) -> list[str]:
        """The fields (as declared, sorted) whose index :meth:`index_fields` built for the collection.

        A flushed store declares nothing. The default returns ``[]``.
        """
        return []

    def drop_indexes_except(self, collections: Iterable[tuple[str, str]]) -> list[str]:
        """Drop the indexes :meth:`index_fields` built for any collection but ``collections``
        (``(resource_name, parent_id)`` pairs); return their names.

        What ``kinto migrate`` calls with every live collection, for the indexes a deletion left
        behind (a process stopped before dropping them). The same transaction rules as
        :meth:`index_fields`. The default drops nothing and returns ``[]``.
        """
        return []

    def count_indexed_fields(self) -> int:
        """How many indexes :meth:`index_fields` has built in the whole store, every collection's.

        One cheap query on the database's catalogue, for a server-wide cap on declarations (each
        index costs every write of its collection, and disk). An index still being built, or whose
        build failed, is not counted: two declarations at once may both pass a cap, by one each.
        The default returns ``0``.
        """
        return 0

    # --- conveniences built on the abstract methods ---------------------------------------------

    def trim_objects(
        self,
        resource_name: str,
        parent_id: str,
        filters: list[Filter],
        max_objects: int,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
    ) -> int:
        """Delete (without tombstones) all but the ``max_objects`` newest objects matching ``filters``.

        Returns how many were deleted.
        """
        newest_first = self.list_all(
            resource_name, parent_id, filters=filters, sorting=[Sort(modified_field, -1)], id_field=id_field
        )
        surplus = newest_first[max_objects:]
        for obj in surplus:
            self.delete(resource_name, parent_id, obj[id_field], id_field=id_field, with_deleted=False)
        return len(surplus)

    def get_all(self, *args: Any, **kwargs: Any) -> tuple[list[KintoObject], int]:
        """Kinto's former listing, returning ``(objects, count)``; deprecated, counting costs."""
        warnings.warn("get_all() is deprecated: use list_all() and count_all()", DeprecationWarning, stacklevel=2)
        objects = self.list_all(*args, **kwargs)
        for name in ("pagination_rules", "limit", "sorting"):
            kwargs.pop(name, None)
        return objects, self.count_all(*args, **kwargs)


def heartbeat(backend: StorageBase) -> Callable[[Any], bool]:
    """Kinto's heartbeat factory: a ``fn(request) -> bool`` calling ``backend.heartbeat()``."""

    def ping(request: Any) -> bool:
        return backend.heartbeat()

    return ping
