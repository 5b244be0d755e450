"""In-memory storage: the reference implementation of the contract (tests, development).

Nothing persists across restarts. Write transactions are serialised by one
lock and undone from an undo log on rollback (a savepoint is a position in that
log); reads wait for a running write transaction of another thread, so they
never see uncommitted writes.

One class over 500 lines, on purpose: it is the whole contract in one place, each method
beside the undo log it writes to. The query semantics it applies (filters, the sort order,
pagination) live in :mod:`.query`, shared with the SQL backends.
"""

from __future__ import annotations

import contextvars
import dataclasses
import heapq
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from kinto.core import jsontext
from kinto.core.patterns import glob_matcher
from kinto.core.settings import typed_setting
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
from kinto.core.storage.exceptions import InvalidValueError, ObjectChangedError, ObjectNotFoundError, UnicityError
from kinto.core.storage.timestamps import next_timestamp

__all__ = ["Storage", "load_from_config"]

Collection = tuple[str, str]  # (parent_id, resource_name)
_ABSENT = object()


def parent_matcher(parent_id: str) -> Callable[[str], bool]:
    """Whether a parent id matches ``parent_id``, where ``*`` stands for any sequence."""
    return glob_matcher(parent_id)


_CONTAINERS = (dict, list)


def copy_json(value: Any) -> Any:
    """A deep copy of a stored (JSON-decoded) value: callers never share the store's dicts and lists.

    Stored values went through ``jsontext.loads`` (see ``_prepare``): only dicts and lists nest, the
    rest is immutable. Four times faster than a JSON round trip, which listings paid per object.
    """
    kind = type(value)
    if kind is dict:
        return {key: copy_json(item) if type(item) in _CONTAINERS else item for key, item in value.items()}
    if kind is list:
        return [copy_json(item) if type(item) in _CONTAINERS else item for item in value]
    return value


@dataclasses.dataclass
class _Transaction:
    write: bool
    undo: list[Callable[[], None]] = dataclasses.field(default_factory=list)


class Storage(StorageBase):
    """Storage in process memory. Enable with ``kinto.storage_backend = kinto.core.storage.memory``."""

    supports_transactions: ClassVar[bool] = True
    supports_concurrent_processes: ClassVar[bool] = False
    supports_savepoints: ClassVar[bool] = True
    supports_copy: ClassVar[bool] = True
    writes_conditionally: ClassVar[bool] = True
    persistent: ClassVar[bool] = False
    embedded: ClassVar[bool] = True

    def __init__(self, *args: Any, readonly: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, readonly=readonly, **kwargs)
        self._lock = threading.RLock()
        self._current: contextvars.ContextVar[_Transaction | None] = contextvars.ContextVar(
            f"kinto_memory_storage_{id(self)}", default=None
        )
        self._live: dict[Collection, dict[str, KintoObject]] = {}
        self._tombstones: dict[Collection, dict[str, KintoObject]] = {}
        self._timestamps: dict[Collection, int] = {}
        #: ids of the object dicts whose order a rollback disturbed (see _by_timestamp).
        self._unordered: set[int] = set()

    # --- transactions and the undo log ------------------------------------------------------------

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[None]:
        if self._current.get() is not None:
            yield
            return
        state = _Transaction(write=write)
        if write:
            self._lock.acquire()
        token = self._current.set(state)
        try:
            yield
        except BaseException:
            for undo in reversed(state.undo):
                undo()
            raise
        finally:
            self._current.reset(token)
            if write:
                self._lock.release()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        state = self._current.get()
        if state is None or not state.write:
            yield
            return
        mark = len(state.undo)
        try:
            yield
        except BaseException:
            with self._lock:
                while len(state.undo) > mark:
                    state.undo.pop()()
            raise

    def _record(self, mapping: dict[Any, Any], key: Any) -> None:
        state = self._current.get()
        # Read transactions do not hold the lock: undoing their writes later
        # could overwrite another thread's newer value, so they auto-commit.
        if state is None or not state.write:
            return
        previous = mapping.get(key, _ABSENT)

        def undo() -> None:
            if previous is _ABSENT:
                mapping.pop(key, None)
            else:
                mapping[key] = previous
                self._unordered.add(id(mapping))  # an older object is back, at the end

        state.undo.append(undo)

    def _set(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        self._record(mapping, key)
        # Re-inserted at the end: a collection's dicts stay in timestamp order (see _by_timestamp).
        mapping.pop(key, None)
        mapping[key] = value

    def _pop(self, mapping: dict[Any, Any], key: Any) -> Any:
        if key not in mapping:
            return None
        self._record(mapping, key)
        return mapping.pop(key)

    def _bucket(self, store: dict[Collection, dict[str, KintoObject]], collection: Collection) -> dict[str, Any]:
        bucket = store.get(collection)
        if bucket is None:
            bucket = {}
            self._set(store, collection, bucket)
        return bucket

    def _bump(self, collection: Collection, requested: int | None = None) -> int:
        timestamp = next_timestamp(self._timestamps.get(collection), requested)
        self._set(self._timestamps, collection, timestamp)
        return timestamp

    # --- lifecycle and timestamps -----------------------------------------------------------------

    def flush(self) -> None:
        with self._lock:
            self._live.clear()
            self._tombstones.clear()
            self._unordered.clear()
            self._timestamps.clear()

    def resource_timestamp(self, resource_name: str, parent_id: str) -> int:
        q.check_location(resource_name, parent_id)
        collection = (parent_id, resource_name)
        with self._lock:
            timestamp = self._timestamps.get(collection)
            if timestamp is not None:
                return timestamp
            q.check_writable(self.readonly)
            return self._bump(collection)

    def all_resources_timestamps(self, resource_name: str) -> dict[str, int]:
        with self._lock:
            return {parent: ts for (parent, resource), ts in self._timestamps.items() if resource == resource_name}

    def all_timestamps(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return {(resource, parent): ts for (parent, resource), ts in self._timestamps.items()}

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
        live = [self._imported(obj, id_field, modified_field) for obj in objects]
        dead = [self._imported(obj, id_field, modified_field) for obj in tombstones or []]
        dead = [{id_field: obj[id_field], modified_field: obj[modified_field], deleted_field: True} for obj in dead]
        highest = max((obj[modified_field] for obj in (*live, *dead)), default=None)
        collection = (parent_id, resource_name)
        with self._lock, self.transaction():
            for obj in live:
                self._pop(self._tombstones.get(collection, {}), obj[id_field])
                self._set(self._bucket(self._live, collection), obj[id_field], obj)
            for obj in dead:
                self._pop(self._live.get(collection, {}), obj[id_field])
                self._set(self._bucket(self._tombstones, collection), obj[id_field], obj)
            for store in (self._live, self._tombstones):
                if collection in store:
                    self._unordered.add(id(store[collection]))  # stamps arrived in any order
            current = self._timestamps.get(collection)
            if timestamp is not None:
                self._set(self._timestamps, collection, max(int(timestamp), highest or timestamp))
            elif highest is not None and (current is None or highest > current):
                self._set(self._timestamps, collection, highest)

    def _imported(self, obj: KintoObject, id_field: str, modified_field: str) -> KintoObject:
        prepared = self._prepare(obj, id_field)
        if not isinstance(prepared.get(id_field), str):
            raise InvalidValueError(f"An imported object needs a string {id_field!r}")
        if q.requested_timestamp(prepared, modified_field) is None:
            raise InvalidValueError(f"An imported object needs an integer {modified_field!r}")
        return prepared

    # --- objects ----------------------------------------------------------------------------------

    @staticmethod
    def _prepare(obj: KintoObject, id_field: str) -> KintoObject:
        # The client's key order is kept: objects come back as they were written.
        prepared = jsontext.loads(q.storable_json(obj, sort_keys=False))
        if id_field in prepared and not isinstance(prepared[id_field], str):
            raise InvalidValueError(f"The {id_field!r} field must be a string")
        return prepared

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
        obj = self._prepare(obj, id_field)
        if id_field not in obj:
            obj[id_field] = (id_generator or self.id_generator)()
        collection = (parent_id, resource_name)
        with self._lock:
            existing = self._live.get(collection, {}).get(obj[id_field])
            if existing is not None:
                raise UnicityError(id_field, copy_json(existing))
            obj[modified_field] = self._bump(collection, q.requested_timestamp(obj, modified_field))
            self._pop(self._tombstones.get(collection, {}), obj[id_field])
            self._set(self._bucket(self._live, collection), obj[id_field], obj)
            return copy_json(obj)

    def get(
        self,
        resource_name: str,
        parent_id: str,
        object_id: str,
        id_field: str = DEFAULT_ID_FIELD,
        modified_field: str = DEFAULT_MODIFIED_FIELD,
        auth: Any = None,
    ) -> KintoObject:
        with self._lock:
            existing = self._live.get((parent_id, resource_name), {}).get(object_id)
            if existing is None:
                raise ObjectNotFoundError(object_id)
            return copy_json(existing)

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
        obj = self._prepare({**obj, id_field: object_id}, id_field)
        collection = (parent_id, resource_name)
        with self._lock:
            if if_last_modified is not None:
                self._check_version(collection, object_id, modified_field, if_last_modified)
            obj[modified_field] = self._bump(collection, q.requested_timestamp(obj, modified_field))
            self._pop(self._tombstones.get(collection, {}), object_id)
            self._set(self._bucket(self._live, collection), object_id, obj)
            return copy_json(obj)

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
        collection = (parent_id, resource_name)
        with self._lock:
            if if_last_modified is not None:
                self._check_version(collection, object_id, modified_field, if_last_modified)
            live = self._live.get(collection, {})
            if object_id not in live:
                raise ObjectNotFoundError(object_id)
            tombstone = {
                id_field: object_id,
                modified_field: self._bump(collection, last_modified),
                deleted_field: True,
            }
            self._pop(live, object_id)
            if with_deleted:
                self._set(self._bucket(self._tombstones, collection), object_id, tombstone)
            return dict(tombstone)

    def _check_version(self, collection: Collection, object_id: str, modified_field: str, expected: int) -> None:
        expected = q.expected_version(expected)
        live = self._live.get(collection, {}).get(object_id)
        if live is None or live.get(modified_field) != expected:
            raise ObjectChangedError(object_id)

    # --- queries ----------------------------------------------------------------------------------

    def _collections(
        self, store: dict[Collection, dict[str, KintoObject]], resource_name: str | None, parent_id: str
    ) -> list[Collection]:
        if "*" not in parent_id:
            candidates = [(parent_id, resource_name)] if resource_name is not None else list(store)
            return [c for c in candidates if c in store and c[0] == parent_id]
        matches_parent = parent_matcher(parent_id)
        return [c for c in store if (resource_name is None or c[1] == resource_name) and matches_parent(c[0])]

    def _select(
        self,
        resource_name: str | None,
        parent_id: str,
        filters: list[Filter] | None,
        pagination_rules: list[list[Filter]] | None,
        include_deleted: bool,
        id_field: str,
        modified_field: str,
    ) -> Iterator[tuple[Collection, KintoObject]]:
        filters = [q.normalize_filter(f, id_field, modified_field) for f in filters or []]
        rules = [[q.normalize_filter(f, id_field, modified_field) for f in rule] for rule in pagination_rules or []]
        accept = self._predicate(filters, rules)
        stores = [self._live, self._tombstones] if include_deleted else [self._live]
        for store in stores:
            for collection in self._collections(store, resource_name, parent_id):
                objects = store[collection].values()
                for obj in objects if accept is None else filter(accept, objects):
                    yield collection, obj

    @staticmethod
    def _predicate(filters: list[Filter], rules: list[list[Filter]]) -> Callable[[KintoObject], bool] | None:
        """What an object must satisfy: the filters, compiled, and one of the pagination rules."""
        matching = q.compile_filters(filters)
        if not rules:
            return matching
        if matching is None:
            return lambda obj: q.matches_any_rule(obj, rules)
        return lambda obj: matching(obj) and q.matches_any_rule(obj, rules)

    def _by_timestamp(
        self,
        collection: Collection,
        descending: bool,
        filters: list[Filter] | None,
        pagination_rules: list[list[Filter]] | None,
        limit: int | None,
        include_deleted: bool,
        id_field: str,
        modified_field: str,
    ) -> list[KintoObject] | None:
        """Objects of one collection sorted by timestamp, walking them in stored order.

        Writes re-insert objects at the end of their collection's dict and take the
        collection's newest, unique timestamp: dict order is timestamp order, and a
        page costs what it returns rather than the collection's size (the newest
        changes for ``_since``, the default ``-last_modified`` sort). None when the
        order does not hold (after a rollback restored older objects): the caller
        sorts instead, and the collection is put back in order for next time.
        """
        filters = [q.normalize_filter(f, id_field, modified_field) for f in filters or []]
        rules = [[q.normalize_filter(f, id_field, modified_field) for f in rule] for rule in pagination_rules or []]
        buckets = [self._live.get(collection, {})]
        if include_deleted:
            buckets.append(self._tombstones.get(collection, {}))
        for bucket in buckets:
            if not self._in_timestamp_order(bucket, modified_field):
                self._restore_timestamp_order(bucket, modified_field)
                return None
        streams = [reversed(bucket.values()) if descending else iter(bucket.values()) for bucket in buckets]
        merged = (
            streams[0]
            if len(streams) == 1
            else heapq.merge(*streams, key=lambda obj: obj[modified_field], reverse=descending)
        )
        # Bounds on the timestamp end the walk early: ``_since`` reads only what changed since.
        lowest, highest = q.timestamp_bounds(filters, modified_field)
        accept = self._predicate(filters, rules)
        found: list[KintoObject] = []
        for obj in merged:
            stamp = obj[modified_field]
            if descending and lowest is not None and stamp < lowest:
                break
            if not descending and highest is not None and stamp > highest:
                break
            if accept is not None and not accept(obj):
                continue
            found.append(obj)
            if limit is not None and len(found) >= limit:
                break
        return found

    def _in_timestamp_order(self, bucket: dict[str, KintoObject], modified_field: str) -> bool:
        # Every write goes through _set (re-insertion at the end, with the newest timestamp);
        # only a rollback restores an older object at the end, and it says so in _unordered.
        if id(bucket) in self._unordered:
            return False
        if bucket:
            newest = next(reversed(bucket.values())).get(modified_field)
            oldest = next(iter(bucket.values())).get(modified_field)
            if not isinstance(newest, int) or not isinstance(oldest, int) or oldest > newest:
                return False
        return True

    def _restore_timestamp_order(self, bucket: dict[str, KintoObject], modified_field: str) -> None:
        if all(isinstance(obj.get(modified_field), int) for obj in bucket.values()):
            ordered = sorted(bucket.items(), key=lambda item: item[1][modified_field])
            bucket.clear()
            bucket.update(ordered)
            self._unordered.discard(id(bucket))

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
        with self._lock:
            if "*" not in parent_id and sorting and sorting[0].field == modified_field:
                found = self._by_timestamp(
                    (parent_id, resource_name),
                    sorting[0].direction < 0,
                    filters,
                    pagination_rules,
                    limit,
                    include_deleted,
                    id_field,
                    modified_field,
                )
                if found is not None:
                    return [copy_json(obj) for obj in found]
            rows = self._select(
                resource_name, parent_id, filters, pagination_rules, include_deleted, id_field, modified_field
            )
            ordered = q.sort_rows(rows, sorting, limit, id_field, modified_field, "*" not in parent_id)
            return [copy_json(obj) for _, obj in ordered]

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
        with self._lock:
            rows = self._select(resource_name, parent_id, filters, None, include_deleted, id_field, modified_field)
            return sum(1 for _ in rows)

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
        with self._lock:
            rows = self._select(resource_name, parent_id, filters, pagination_rules, False, id_field, modified_field)
            selected = q.sort_rows(rows, sorting, limit, id_field)
            return [
                self.delete(
                    resource,
                    parent,
                    obj[id_field],
                    id_field=id_field,
                    with_deleted=with_deleted,
                    modified_field=modified_field,
                    deleted_field=deleted_field,
                )
                for (parent, resource), obj in selected
            ]

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
        purged = 0
        with self._lock:
            for collection in self._collections(self._tombstones, resource_name, parent_id):
                tombstones = self._tombstones[collection]
                newest_first = sorted(tombstones.values(), key=lambda t: t[modified_field], reverse=True)
                for position, tombstone in enumerate(newest_first):
                    too_old = before is not None and tombstone[modified_field] < before
                    beyond = max_retained is not None and position >= max_retained
                    if too_old or beyond or (before is None and max_retained is None):
                        self._pop(tombstones, tombstone[id_field])
                        purged += 1
        return purged


def load_from_config(config: Any) -> Storage:
    """Build the memory storage (``kinto.readonly`` is honoured)."""
    settings = config.get_settings()
    readonly = typed_setting(settings, "readonly")
    return Storage(readonly=readonly)
