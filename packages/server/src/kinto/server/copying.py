"""``kinto copy``: every object, tombstone, timestamp and permission of one store into another.

A *store* is a storage backend and a permission backend, named by an ini file
(the backends its ``[app:main]`` configures, environment overrides included,
as the server would use them) or by a URL giving both at once
(``sqlite:///path/kinto.sqlite``, ``postgresql://user:pass@host/db``). Any two
persistent backends that declare ``supports_copy`` work (memory backends keep
nothing between processes). The cache is not copied: it holds only what the
server rebuilds on demand.

Everything goes through the contracts: ``StorageBase.all_timestamps`` lists
the source's collections, ``list_all(include_deleted=True)`` reads each one
in pages ordered by ``last_modified``, and ``import_objects`` writes them with
their own ids, timestamps and tombstones, then the collection's exact
timestamp, so that ETags and ``_since`` answer the same on both sides.
Permissions travel with ``export_*`` and ``import_permissions``.

The source must not change meanwhile: its server stopped, or serving with
``kinto.readonly = true``. The copy notices writes all the same (a collection
timestamp that moved) and fails. A target already holding data is refused
unless ``merge``: source objects then replace target objects of the same id,
permissions are added, and collection timestamps become the greater of both.
At the end, every collection is read again on both sides and compared: counts,
a SHA-256 of the objects in order, and the timestamp; every access control
entry and user principal of the source must be in the target.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from kinto.core.backends import close_backends, load_backend, mask_url
from kinto.core.database.sqlite import path_from_url
from kinto.core.permission import PermissionBase
from kinto.core.settings import DEFAULT_SETTINGS, apply_defaults
from kinto.core.storage import COMPARISON, Filter, KintoObject, Sort, StorageBase
from kinto.core.storage.query import canonical_json
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from kinto.server import configuration

__all__ = ["CopyError", "Report", "Store", "copy_store", "location_settings", "open_store", "same_location"]

ID = "id"
MODIFIED = "last_modified"
DELETED = "deleted"
#: A progress line every this many batches of a collection (and of the whole copy).
PROGRESS_BATCHES = 5
#: Mismatches listed in the failure message; the others are counted.
SHOWN_MISMATCHES = 5
_SQL_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}


class CopyError(Exception):
    """A copy that cannot start, or did not end with identical data: one line for the user."""


# --- naming a store ------------------------------------------------------------------------------


def url_backend(location: str) -> str | None:
    """``sqlite`` or ``postgresql`` when ``location`` is such a URL, else None (an ini path)."""
    scheme = location.split("://", 1)[0].split("+", 1)[0].lower() if "://" in location else ""
    return _SQL_SCHEMES.get(scheme)


def store_settings(location: str) -> dict[str, str]:
    """The storage and permission settings a backend URL stands for (both in the same database)."""
    engine = url_backend(location)
    if engine is None:
        raise CopyError(f"{location!r} is neither an ini file nor a sqlite:/// or postgresql:// URL")
    return {
        "storage_backend": f"kinto.core.storage.{engine}",
        "storage_url": location,
        "permission_backend": f"kinto.core.permission.{engine}",
        "permission_url": location,
    }


def location_settings(location: str) -> tuple[dict[str, Any], str]:
    """The settings of a store named by an ini path or a backend URL, and its label for messages."""
    if url_backend(location) is not None:
        return store_settings(location), mask_url(location)
    try:
        return dict(configuration.read_ini(location).settings), location
    except configuration.ConfigurationFileError as error:
        raise CopyError(str(error)) from None


@dataclasses.dataclass
class Store:
    """One side of a copy: its backends, a label for messages, and how to release its connections."""

    label: str
    storage: StorageBase
    permission: PermissionBase
    close: Callable[[], None] = lambda: None


def open_store(settings: dict[str, Any], label: str, *, readonly: bool) -> Store:
    """Build the storage and permission backends of ``settings`` (environment overrides applied).

    Backends that do not declare themselves ``persistent`` (memory) are refused. The
    source is opened ``readonly``: nothing can write to it, and the file of an ``embedded``
    backend (SQLite) that does not exist is an error rather than a new empty file.
    """
    settings = dict(settings)
    try:
        apply_defaults(settings, DEFAULT_SETTINGS, include_unknown=True)
    except ConfigurationError as error:
        raise CopyError(f"invalid settings in {label}: {error}") from None
    if readonly:
        settings["readonly"] = settings["kinto.readonly"] = True
    config = Configurator(settings=settings)
    try:
        backends = {kind: load_backend(config, kind) for kind in ("storage", "permission")}
    except ConfigurationError as error:
        close_backends(config.registry)
        raise CopyError(f"cannot open {label}: {error}") from None
    for kind, backend in backends.items():
        problem = _unusable(backend, kind, settings, readonly=readonly)
        if problem is not None:
            close_backends(config.registry)
            raise CopyError(f"{label}{problem}")
    return Store(
        label=label,
        storage=backends["storage"],
        permission=backends["permission"],  # type: ignore[arg-type]
        close=lambda: close_backends(config.registry),
    )


def _unusable(backend: Any, kind: str, settings: dict[str, Any], *, readonly: bool) -> str | None:
    """Why ``backend`` cannot be one side of a copy (to follow the store's label), or None."""
    if backend is None or not backend.persistent:
        module = getattr(settings[f"{kind}_backend"], "__name__", settings[f"{kind}_backend"]) or "unset"
        return (
            f" keeps its {kind} in memory (kinto.{kind}_backend = {module}): nothing persists there to copy from or to"
        )
    path = path_from_url(str(settings[f"{kind}_url"]))
    if readonly and backend.embedded and not os.path.exists(path):
        return f": the file {path} of its {kind} does not exist"
    return None


# --- reading a collection -----------------------------------------------------------------------


@dataclasses.dataclass
class Page:
    """Consecutive objects of a collection in ``(last_modified, id)`` order, each flagged tombstone or not."""

    entries: list[tuple[KintoObject, bool]]

    @property
    def live(self) -> list[KintoObject]:
        return [obj for obj, tombstone in self.entries if not tombstone]

    @property
    def tombstones(self) -> list[KintoObject]:
        return [obj for obj, tombstone in self.entries if tombstone]


def _tombstone_flags(storage: StorageBase, resource: str, parent: str, objects: list[KintoObject]) -> list[bool]:
    # A live object whose whole content is ``deleted: true`` lists like a tombstone:
    # ask the live objects among the look-alikes (one query per page, when any).
    lookalikes = [obj[ID] for obj in objects if obj.get(DELETED) is True and len(obj) == 3]
    live: set[str] = set()
    if lookalikes:
        found = storage.list_all(resource, parent, filters=[Filter(ID, lookalikes, COMPARISON.IN)])
        live = {obj[ID] for obj in found}
    return [obj.get(DELETED) is True and len(obj) == 3 and obj[ID] not in live for obj in objects]


def read_pages(storage: StorageBase, resource: str, parent: str, size: int) -> Iterator[Page]:
    """Every object and tombstone of a collection, oldest first, ``size`` at a time (keyset pagination)."""
    rules = None
    while True:
        objects = storage.list_all(
            resource,
            parent,
            sorting=[Sort(MODIFIED, 1), Sort(ID, 1)],
            pagination_rules=rules,
            limit=size,
            include_deleted=True,
        )
        if not objects:
            return
        yield Page(list(zip(objects, _tombstone_flags(storage, resource, parent, objects), strict=True)))
        if len(objects) < size:
            return
        last = objects[-1]
        rules = [
            [Filter(MODIFIED, last[MODIFIED], COMPARISON.GT)],
            [Filter(MODIFIED, last[MODIFIED], COMPARISON.EQ), Filter(ID, last[ID], COMPARISON.GT)],
        ]


def _matching(storage: StorageBase, resource: str, parent: str, page: Page) -> Page:
    """The target's objects with the ids of a source page, in the page's order (absent ones left out)."""
    ids = [obj[ID] for obj, _ in page.entries]
    found = storage.list_all(resource, parent, filters=[Filter(ID, ids, COMPARISON.IN)], include_deleted=True)
    flags = dict(zip((obj[ID] for obj in found), _tombstone_flags(storage, resource, parent, found), strict=True))
    by_id = {obj[ID]: obj for obj in found}
    return Page([(by_id[object_id], flags[object_id]) for object_id in ids if object_id in by_id])


def _digest(checksum: Any, page: Page) -> None:
    for obj, tombstone in page.entries:
        checksum.update(canonical_json([tombstone, obj]).encode("utf-8"))
        checksum.update(b"\n")


def collection_name(resource: str, parent: str) -> str:
    """``records of /buckets/b/collections/c``, ``buckets of /``: how progress lines name a collection."""
    return f"{resource}s of {parent or '/'}"


# --- the copy ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    """What a copy did, for the summary line."""

    collections: int = 0
    objects: int = 0
    tombstones: int = 0
    entries: int = 0
    user_principals: int = 0
    seconds: float = 0.0


@dataclasses.dataclass
class _Batcher:
    """Groups the target's writes into transactions of about ``size`` objects."""

    storage: StorageBase
    size: int
    pending: int = 0
    _transaction: Any = None

    def write(self, resource: str, parent: str, page: Page | None, timestamp: int) -> None:
        if self._transaction is None:
            self._transaction = self.storage.transaction()
            self._transaction.__enter__()
        live, tombstones = (page.live, page.tombstones) if page is not None else ([], [])
        self.storage.import_objects(resource, parent, live, tombstones=tombstones, timestamp=timestamp)
        self.pending += len(page.entries) if page is not None else 1
        if self.pending >= self.size:
            self.flush()

    def flush(self) -> None:
        """Commit what is pending."""
        transaction, self._transaction, self.pending = self._transaction, None, 0
        if transaction is not None:
            transaction.__exit__(None, None, None)

    def abort(self, error: BaseException) -> None:
        """Roll back what is pending."""
        transaction, self._transaction, self.pending = self._transaction, None, 0
        if transaction is not None:
            transaction.__exit__(type(error), error, error.__traceback__)


def copy_store(
    source: Store,
    target: Store,
    *,
    merge: bool = False,
    batch_size: int = 2000,
    say: Callable[[str], None] = print,
) -> Report:
    """Copy ``source`` into ``target``, verify, and return what was done; ``CopyError`` on any problem."""
    started = time.monotonic()
    for side, store in (("source", source), ("target", target)):
        for backend in (store.storage, store.permission):
            if not getattr(backend, "supports_copy", False):
                kind = type(backend)
                raise CopyError(
                    f"the {side} backend {kind.__module__}.{kind.__qualname__} cannot be copied "
                    "(it does not declare supports_copy)"
                )
    target.storage.initialize_schema()
    target.permission.initialize_schema()
    timestamps = source.storage.all_timestamps()
    target_timestamps = target.storage.all_timestamps()
    if not merge:
        _require_empty(target, target_timestamps)
    wanted = {
        collection: max(timestamp, target_timestamps.get(collection, timestamp)) if merge else timestamp
        for collection, timestamp in timestamps.items()
    }
    report = Report(collections=len(timestamps))
    _copy_objects(source, target, wanted, batch_size, say, report)
    _copy_permissions(source, target, batch_size, say, report)
    moved = _moved(timestamps, source.storage.all_timestamps())
    if moved:
        raise CopyError(
            f"the source changed during the copy ({moved}): stop its server, or set "
            "kinto.readonly = true there, then copy again into an empty target"
        )
    say("Verifying: every collection read again on both sides (counts, SHA-256, timestamp), then permissions.")
    problems = _verify_objects(source, target, wanted, merge, batch_size)
    problems += _verify_permissions(source, target, merge, batch_size)
    if problems:
        shown = "; ".join(problems[:SHOWN_MISMATCHES])
        more = f" (and {len(problems) - SHOWN_MISMATCHES} more)" if len(problems) > SHOWN_MISMATCHES else ""
        raise CopyError(f"verification failed, the target differs from the source: {shown}{more}")
    report.seconds = time.monotonic() - started
    return report


def _require_empty(target: Store, timestamps: dict[tuple[str, str], int]) -> None:
    for resource, parent in timestamps:
        if target.storage.count_all(resource, parent, include_deleted=True):
            raise CopyError(
                f"the target {target.label} already holds {collection_name(resource, parent)}: "
                "copy into an empty database, or pass --merge to add to what it holds"
            )
    if target.permission.export_user_principals() or target.permission.export_access_control_entries(limit=1):
        raise CopyError(
            f"the target {target.label} already holds permissions: copy into an empty database, "
            "or pass --merge to add to what it holds"
        )


def _copy_objects(
    source: Store,
    target: Store,
    wanted: dict[tuple[str, str], int],
    batch_size: int,
    say: Callable[[str], None],
    report: Report,
) -> None:
    collections = sorted(wanted, key=lambda collection: (collection[1], collection[0]))
    totals = {c: source.storage.count_all(c[0], c[1], include_deleted=True) for c in collections}
    grand_total = sum(totals.values())
    say(
        f"Copying {grand_total:,} objects and tombstones in {len(collections):,} collections "
        f"from {source.label} to {target.label}."
    )
    batcher = _Batcher(target.storage, batch_size)
    try:
        _copy_collections(source, collections, totals, wanted, batch_size, batcher, say, report)
    except BaseException as error:
        batcher.abort(error)
        raise
    batcher.flush()


def _copy_collections(
    source: Store,
    collections: list[tuple[str, str]],
    totals: dict[tuple[str, str], int],
    wanted: dict[tuple[str, str], int],
    batch_size: int,
    batcher: _Batcher,
    say: Callable[[str], None],
    report: Report,
) -> None:
    grand_total = sum(totals.values())
    every = batch_size * PROGRESS_BATCHES
    done = reported = 0
    for index, (resource, parent) in enumerate(collections, start=1):
        total, copied = totals[(resource, parent)], 0
        name = collection_name(resource, parent)
        for page in read_pages(source.storage, resource, parent, batch_size):
            batcher.write(resource, parent, page, wanted[(resource, parent)])
            report.tombstones += len(page.tombstones)
            before, copied = copied, copied + len(page.entries)
            if total >= every and (copied // every > before // every or copied >= total):
                say(f"copied {copied:,}/{total:,} {name}")
        if copied == 0:
            batcher.write(resource, parent, None, wanted[(resource, parent)])  # its timestamp alone
        done += copied
        if done // every > reported // every and total < every:
            say(f"copied {done:,}/{grand_total:,} objects ({index:,}/{len(collections):,} collections)")
        reported = done
    report.objects = done - report.tombstones


def _copy_permissions(
    source: Store, target: Store, batch_size: int, say: Callable[[str], None], report: Report
) -> None:
    principals = source.permission.export_user_principals()
    target.permission.import_permissions(principals, [])
    report.user_principals = len(principals)
    after = None
    while page := source.permission.export_access_control_entries(after=after, limit=batch_size):
        with target.permission.transaction():
            target.permission.import_permissions([], page)
        before = report.entries
        report.entries += len(page)
        if report.entries // (batch_size * PROGRESS_BATCHES) > before // (batch_size * PROGRESS_BATCHES):
            say(f"copied {report.entries:,} access control entries")
        after = page[-1]


def _moved(before: dict[tuple[str, str], int], after: dict[tuple[str, str], int]) -> str:
    changed = sorted(set(before.items()) ^ set(after.items()))
    if not changed:
        return ""
    resource, parent = changed[0][0]
    return f"{collection_name(resource, parent)}, {len({c for c, _ in changed})} collection(s) in all"


# --- verification ----------------------------------------------------------------------------------


def _verify_objects(
    source: Store, target: Store, wanted: dict[tuple[str, str], int], merge: bool, batch_size: int
) -> list[str]:
    problems = []
    target_timestamps = target.storage.all_timestamps()
    if not merge:
        extra = sorted(set(target_timestamps) - set(wanted))
        problems += [f"{collection_name(*collection)}: only in the target" for collection in extra]
    for (resource, parent), timestamp in sorted(wanted.items(), key=lambda item: (item[0][1], item[0][0])):
        name = collection_name(resource, parent)
        source_sum, target_sum = hashlib.sha256(), hashlib.sha256()
        count = found = 0
        for page, matching in _side_by_side(source.storage, target.storage, resource, parent, merge, batch_size):
            _digest(source_sum, page)
            _digest(target_sum, matching)
            count, found = count + len(page.entries), found + len(matching.entries)
        if found != count:
            problems.append(f"{name}: {count:,} objects in the source, {found:,} of them in the target")
        elif source_sum.digest() != target_sum.digest():
            problems.append(f"{name}: same {count:,} ids, different content (SHA-256 differs)")
        if not merge:
            held = target.storage.count_all(resource, parent, include_deleted=True)
            if held != count:
                problems.append(f"{name}: {count:,} objects in the source, {held:,} in the target")
        if target_timestamps.get((resource, parent)) != timestamp:
            problems.append(f"{name}: timestamp {target_timestamps.get((resource, parent))} instead of {timestamp}")
    return problems


def _side_by_side(
    source: StorageBase, target: StorageBase, resource: str, parent: str, merge: bool, size: int
) -> Iterator[tuple[Page, Page]]:
    """Pages of the source's collection, each beside the target's objects that should equal it.

    Without merge both sides hold the same objects in the same order: the target is read with the
    same index-ordered pages. With merge it may hold more: the source's ids are looked up there.
    """
    if merge:
        for page in read_pages(source, resource, parent, size):
            yield page, _matching(target, resource, parent, page)
        return
    empty = Page([])
    pairs = itertools.zip_longest(
        read_pages(source, resource, parent, size), read_pages(target, resource, parent, size)
    )
    for page, matching in pairs:
        yield page or empty, matching or empty


def _verify_permissions(source: Store, target: Store, merge: bool, batch_size: int) -> list[str]:
    problems = []
    wanted = set(source.permission.export_user_principals())
    held = set(target.permission.export_user_principals())
    missing = wanted - held
    if missing:
        problems.append(f"{len(missing):,} user principals missing in the target")
    if not merge and held - wanted:
        problems.append(f"{len(held - wanted):,} user principals only in the target")
    count = absent = 0
    after = None
    while page := source.permission.export_access_control_entries(after=after, limit=batch_size):
        object_ids = list(dict.fromkeys(object_id for object_id, _, _ in page))
        granted = dict(zip(object_ids, target.permission.get_objects_permissions(object_ids), strict=True))
        absent += sum(1 for object_id, name, who in page if who not in granted[object_id].get(name, ()))
        count += len(page)
        after = page[-1]
    if absent:
        problems.append(f"{absent:,} of {count:,} access control entries missing in the target")
    if not merge:
        total = _count_entries(target.permission, batch_size)
        if total != count:
            problems.append(f"{count:,} access control entries in the source, {total:,} in the target")
    return problems


def _count_entries(permission: PermissionBase, batch_size: int) -> int:
    total, after = 0, None
    while page := permission.export_access_control_entries(after=after, limit=batch_size):
        total += len(page)
        after = page[-1]
    return total


def same_location(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Whether two stores' settings name the same storage (a file or a database URL)."""

    def where(settings: dict[str, Any]) -> str:
        url = str(settings.get("storage_url") or settings.get("kinto.storage_url") or "")
        if url_backend(url) == "sqlite" or "://" not in url:
            return os.path.realpath(path_from_url(url))
        return url.rstrip("/")

    return where(left) == where(right)
