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

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, ParamSpec, TypeVar

from kinto.core.cache import CacheBackendError, CacheBase
from pyramid.config import Configurator

from kinto_riak.kv import Fetched, RiakError, RiakKV, Sibling, Timeouts

__all__ = ["DEFAULT_SETTINGS", "DEFAULT_URL", "RiakCache", "load_from_config", "riak_key"]

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://localhost:8098"

#: This backend's settings; ``kinto.cache_url`` and ``kinto.cache_prefix`` are the core's.
DEFAULT_SETTINGS: dict[str, Any] = {
    "cache_url": "",
    "cache_prefix": "",
    "kinto_riak.bucket_type": "default",
    "kinto_riak.bucket": "kinto_cache",
    "kinto_riak.pool_size": 10,
    "kinto_riak.pool_timeout_seconds": 1.0,
    "kinto_riak.connect_timeout_seconds": 1.0,
    "kinto_riak.read_timeout_seconds": 2.0,
}

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _backend_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(method)
    def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except RiakError as error:
            raise CacheBackendError(original=error, message=str(error)) from error

    return wrapped


# -- keys ----------------------------------------------------------------------------

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
        document = {"value": self.value, "expires_at": self.expires_at, "written_at": self.written_at}
        return json.dumps(document, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, sibling: Sibling) -> Entry | None:
        """The entry of a sibling, or None for a tombstone or a body this backend did not write."""
        if sibling.deleted or not sibling.body:
            return None
        try:
            document = json.loads(sibling.body)
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
        now = self._clock()
        entry = Entry(value, None if ttl is None else now + ttl, now)
        body = entry.encode()  # TypeError for a value that is not JSON, before anything is written
        if ttl is not None and ttl <= 0:
            self.kv.delete(self._riak_key(key))
            return
        self._write(self._riak_key(key), body, vclock=None)

    @_backend_errors
    def get(self, key: str) -> Any:
        entry, _ = self._read_live(self._riak_key(key))
        return None if entry is None else entry.value

    @_backend_errors
    def ttl(self, key: str) -> float:
        entry, _ = self._read_live(self._riak_key(key))
        if entry is None or entry.expires_at is None:
            return -1
        return entry.expires_at - self._clock()

    @_backend_errors
    def expire(self, key: str, ttl: float) -> None:
        location = self._riak_key(key)
        entry, fetched = self._read_live(location)
        if entry is None:
            return
        if ttl <= 0:
            self.kv.delete(location, vclock=fetched.vclock)
            return
        now = self._clock()
        renewed = Entry(entry.value, now + ttl, now)
        self._write(location, renewed.encode(), vclock=fetched.vclock)

    @_backend_errors
    def delete(self, key: str) -> Any:
        location = self._riak_key(key)
        entry, fetched = self._read_live(location)
        if fetched.found:
            self.kv.delete(location, vclock=fetched.vclock)
        return None if entry is None else entry.value

    @_backend_errors
    def flush(self) -> None:
        self._delete_keys_starting_with(riak_key(self.prefix) if self.prefix else "")

    @_backend_errors
    def delete_prefix(self, key_prefix: str) -> int:
        full_prefix = self.prefix + key_prefix
        return self._delete_keys_starting_with(riak_key(full_prefix) if full_prefix else "")

    # -- helpers ---------------------------------------------------------------------

    def _riak_key(self, key: str) -> str:
        return riak_key(self.prefix + key)

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

    def _write(self, location: str, body: bytes, vclock: str | None) -> None:
        stored = self.kv.store(location, body, vclock=vclock)
        if len(stored.siblings) < 2:
            return
        # Our write met concurrent ones: keep the last written, superseding them all
        # with the vector clock Riak returned.
        winner = latest_entry(stored.siblings)
        self.kv.store(location, winner.encode() if winner else body, vclock=stored.vclock)

    def _delete_keys_starting_with(self, key_prefix: str) -> int:
        doomed = [key for key in self.kv.list_keys() if key.startswith(key_prefix)]
        if len(doomed) < 2 * self._flush_concurrency:
            return sum(self.kv.delete(key) for key in doomed)
        with ThreadPoolExecutor(max_workers=self._flush_concurrency, thread_name_prefix="riak-flush") as pool:
            return sum(pool.map(self.kv.delete, doomed))


def load_from_config(config: Configurator) -> RiakCache:
    """Build the backend from ``kinto.cache_url``, ``kinto.cache_prefix`` and ``DEFAULT_SETTINGS``."""
    from kinto.core import load_default_settings

    load_default_settings(config, DEFAULT_SETTINGS)
    settings = config.get_settings()
    pool_size = int(settings["kinto_riak.pool_size"])
    timeouts = Timeouts(
        connect=float(settings["kinto_riak.connect_timeout_seconds"]),
        read=float(settings["kinto_riak.read_timeout_seconds"]),
        pool=float(settings["kinto_riak.pool_timeout_seconds"]),
    )
    kv = RiakKV(
        settings.get("kinto.cache_url") or settings.get("cache_url") or DEFAULT_URL,
        settings["kinto_riak.bucket_type"],
        settings["kinto_riak.bucket"],
        pool_size=pool_size,
        timeouts=timeouts,
    )
    max_size = settings.get("kinto.cache_max_size_bytes", settings.get("cache_max_size_bytes"))
    return RiakCache(
        kv,
        cache_prefix=settings.get("kinto.cache_prefix") or settings.get("cache_prefix") or "",
        cache_max_size_bytes=int(max_size) if max_size not in (None, "") else None,
        flush_concurrency=min(pool_size, 4),
    )
