"""A Kinto cache backend on Riak KV.

Enable it with::

    kinto.cache_backend = kinto_riak.cache      # or the short name: riak
    kinto.cache_url = http://localhost:8098
    kinto.cache_prefix = stack1_                 # optional, shares one bucket between applications

and optionally the settings of ``DEFAULT_SETTINGS`` (bucket type and bucket, pool
size, timeouts). Riak's open-source KV API has no per-key expiry, so each value is
stored as a JSON entry carrying its absolute expiry; expired entries are never
returned and are deleted when next touched. Concurrent writes may leave siblings:
reads pick the most recent write, and writes that meet siblings resolve them with
the vector clock Riak returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from kinto.core import load_default_settings
from kinto.core.cache import CacheBase, encoding
from kinto.core.cache.encoding import backend_errors, check_key, expiry
from kinto.core.settings import DEFAULT_SETTINGS as CORE_SETTINGS
from pyramid.config import Configurator

from kinto_riak.kv import Fetched, RiakError, RiakKV, Sibling, Timeouts

__all__ = ["DEFAULT_SETTINGS", "DEFAULT_URL", "RiakCache", "load_from_config", "riak_key"]

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://localhost:8098"

#: This backend's settings; ``kinto.cache_url`` (default: ``DEFAULT_URL``) and
#: ``kinto.cache_prefix`` are the core's.
DEFAULT_SETTINGS: dict[str, Any] = {
    "kinto_riak.bucket_type": "default",
    "kinto_riak.bucket": "kinto_cache",
    "kinto_riak.pool_size": 10,
    "kinto_riak.pool_timeout_seconds": 1.0,
    "kinto_riak.connect_timeout_seconds": 1.0,
    "kinto_riak.read_timeout_seconds": 2.0,
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "kinto_riak.bucket_type": "the bucket type",
    "kinto_riak.bucket": "the bucket holding the cache",
    "kinto_riak.pool_size": "HTTP connections kept to Riak per process",
    "kinto_riak.pool_timeout_seconds": "seconds to wait for a free connection before a backend error",
    "kinto_riak.connect_timeout_seconds": "TCP connect timeout",
    "kinto_riak.read_timeout_seconds": "seconds to wait for each answer from Riak",
}

_R = TypeVar("_R")
_backend_errors = backend_errors(RiakError)


# -- keys and values ---------------------------------------------------------------

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_EMPTY_KEY = "_"


def _escape(text: str) -> str:
    return "".join(char if char in _SAFE else "".join(f"_{byte:02X}" for byte in char.encode()) for char in text)


def riak_key(cache_key: str) -> str:
    """The Riak key holding ``cache_key`` (prefix included).

    Only letters, digits and ``-`` are kept; every other character becomes ``_XX``
    per UTF-8 byte. The result needs no escaping in a URL nor in Riak's key
    listing, and it keeps prefixes: ``riak_key(p + k)`` starts with ``riak_key(p)``,
    so a flush can select this prefix's keys from the listing. The empty key,
    whose URL would name the bucket's key list, is stored as ``_``.
    """
    return _escape(cache_key) or _EMPTY_KEY


# -- stored entries --------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """What one Riak object holds: the value, its absolute expiry, and when it was written."""

    value: Any
    expires_at: float | None
    written_at: float

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def encode(self) -> bytes:
        return encoding.encode(
            {"value": self.value, "expires_at": self.expires_at, "written_at": self.written_at}
        ).encode()

    @classmethod
    def decode(cls, sibling: Sibling) -> Entry | None:
        """The entry of a sibling, or None for a tombstone or a body this backend did not write."""
        if sibling.deleted or not sibling.body:
            return None
        try:
            document = encoding.decode(sibling.body.decode())
            return cls(document["value"], document["expires_at"], float(document["written_at"]))
        except (ValueError, KeyError, TypeError):
            return None


def latest_entry(siblings: Iterable[Sibling]) -> Entry | None:
    """Last write wins: the entry written last among the siblings.

    Tombstone siblings are ignored: a delete racing a write leaves the write,
    which for a cache costs at most one stale read until the entry expires.
    """
    entries = [entry for entry in map(Entry.decode, siblings) if entry is not None]
    return max(entries, key=lambda entry: entry.written_at, default=None)


# -- the backend ---------------------------------------------------------------------


class RiakCache(CacheBase):
    supports_concurrent_processes: ClassVar[bool] = True
    supports_delete_prefix: ClassVar[bool] = True
    supports_set_without_ttl: ClassVar[bool] = True

    def __init__(
        self,
        kv: RiakKV,
        *,
        cache_prefix: str = "",
        cache_max_size_bytes: int | None = None,
        flush_concurrency: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(cache_prefix=cache_prefix, cache_max_size_bytes=cache_max_size_bytes)
        self.kv = kv
        self._flush_concurrency = max(1, flush_concurrency)
        # Expiry is absolute wall-clock time because every process sharing Riak must agree on it.
        self._clock = clock

    def initialize_schema(self, dry_run: bool = False) -> None:
        # Buckets need no creation; bucket types are created by an operator with
        # ``riak-admin bucket-type create``, which the HTTP API cannot do.
        logger.debug("Riak cache: nothing to create in %s", self.kv.url)

    def heartbeat(self) -> bool:
        return self.kv.ping()

    @_backend_errors
    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        location = self._riak_key(key)
        now = self._clock()
        entry = Entry(value, expiry(now, ttl), now)
        entry.encode()  # TypeError for a value that is not JSON, before anything is written
        if entry.expired(now):
            self.kv.delete(location)
            return
        self._write(location, entry, vclock=None)

    @_backend_errors
    def get(self, key: str) -> Any:
        entry, _ = self._read_live(self._riak_key(key))
        if entry is None:
            self.metrics_backend.count_miss()
            return None
        self.metrics_backend.count_hit()
        return entry.value

    @_backend_errors
    def ttl(self, key: str) -> float:
        entry, _ = self._read_live(self._riak_key(key))
        if entry is None or entry.expires_at is None:
            return -1
        return entry.expires_at - self._clock()

    @_backend_errors
    def expire(self, key: str, ttl: float) -> None:
        location = self._riak_key(key)
        now = self._clock()
        expires_at = expiry(now, ttl)
        entry, fetched = self._read_live(location)
        if entry is None:
            return
        if expires_at is not None and expires_at <= now:
            self.kv.delete(location, vclock=fetched.vclock)
            return
        self._write(location, Entry(entry.value, expires_at, now), vclock=fetched.vclock)

    @_backend_errors
    def delete(self, key: str) -> Any:
        location = self._riak_key(key)
        entry, fetched = self._read_live(location)
        if fetched.found:
            self.kv.delete(location, vclock=fetched.vclock)
        return None if entry is None else entry.value

    @_backend_errors
    def flush(self) -> None:
        self._in_parallel(self.kv.delete, self._keys_starting_with(self.prefix))

    @_backend_errors
    def delete_prefix(self, key_prefix: str) -> int:
        doomed = self._keys_starting_with(self.prefix + check_key(key_prefix))
        return sum(self._in_parallel(self._delete_live, doomed))

    # -- helpers ---------------------------------------------------------------------

    def _riak_key(self, key: str) -> str:
        return riak_key(self.prefix + check_key(key))

    def _read_live(self, location: str) -> tuple[Entry | None, Fetched]:
        """The live entry at ``location`` (None if missing or expired) and what the fetch returned.

        An expired entry is deleted on the way, best effort: the answer is the same
        whether or not the delete succeeds.
        """
        fetched = self.kv.fetch(location)
        entry = latest_entry(fetched.siblings)
        if entry is None or not entry.expired(self._clock()):
            return entry, fetched
        try:
            self.kv.delete(location, vclock=fetched.vclock)
        except RiakError:
            logger.warning("Riak cache: could not delete the expired key %r", location, exc_info=True)
        return None, fetched

    def _write(self, location: str, entry: Entry, vclock: str | None) -> None:
        body = entry.encode()
        stored = self.kv.store(location, body, vclock=vclock)
        if len(stored.siblings) < 2:
            return
        # Our write met concurrent ones: keep the last written (ours on a tie), and
        # supersede them all with the vector clock Riak returned.
        winner = latest_entry(stored.siblings)
        if winner is None or winner.written_at <= entry.written_at:
            winner = entry
        self.kv.store(location, winner.encode(), vclock=stored.vclock)

    def _keys_starting_with(self, cache_key_prefix: str) -> list[str]:
        start = riak_key(cache_key_prefix) if cache_key_prefix else ""
        return [location for location in self.kv.list_keys() if location.startswith(start)]

    def _delete_live(self, location: str) -> bool:
        """Delete ``location``; True if it held an unexpired entry."""
        entry, fetched = self._read_live(location)
        if entry is not None:
            self.kv.delete(location, vclock=fetched.vclock)
        return entry is not None

    def _in_parallel(self, task: Callable[[str], _R], locations: list[str]) -> list[_R]:
        if len(locations) < 2 * self._flush_concurrency:
            return [task(location) for location in locations]
        with ThreadPoolExecutor(max_workers=self._flush_concurrency, thread_name_prefix="riak-cache") as pool:
            return list(pool.map(task, locations))


def load_from_config(config: Configurator) -> RiakCache:
    """Build the backend from ``kinto.cache_url``, ``kinto.cache_prefix`` and ``DEFAULT_SETTINGS``."""
    core_settings = {name: CORE_SETTINGS[name] for name in ("cache_url", "cache_prefix", "cache_max_size_bytes")}
    load_default_settings(config, {**core_settings, **DEFAULT_SETTINGS})
    settings = config.get_settings()
    pool_size = settings["kinto_riak.pool_size"]
    timeouts = Timeouts(
        connect=settings["kinto_riak.connect_timeout_seconds"],
        read=settings["kinto_riak.read_timeout_seconds"],
        pool=settings["kinto_riak.pool_timeout_seconds"],
    )
    kv = RiakKV(
        settings["cache_url"] or DEFAULT_URL,
        settings["kinto_riak.bucket_type"],
        settings["kinto_riak.bucket"],
        pool_size=pool_size,
        timeouts=timeouts,
    )
    return RiakCache(
        kv,
        cache_prefix=settings["cache_prefix"],
        cache_max_size_bytes=settings["cache_max_size_bytes"],
        flush_concurrency=min(pool_size, 4),
    )
