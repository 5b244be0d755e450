"""The in-process cache: the reference implementation of the cache contract.

Nothing persists and nothing is shared between processes. Values are kept as
JSON text; expired entries are dropped when read and swept now and then on
writes; with ``cache_max_size_bytes`` set, the oldest entries are evicted
first once the cache grows past it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from kinto.core.cache import CacheBase
from kinto.core.cache.encoding import check_key, decode, encode, expiry
from kinto.core.settings import read_setting, typed_setting

__all__ = ["Cache", "load_from_config"]

_SWEEP_EVERY_WRITES = 1000


@dataclass(slots=True)
class _Entry:
    text: str
    expires_at: float | None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class Cache(CacheBase):
    """A cache held in a dict of this process."""

    supports_delete_prefix: ClassVar[bool] = True
    supports_set_without_ttl: ClassVar[bool] = True
    embedded: ClassVar[bool] = True

    def __init__(
        self,
        *args: Any,
        cache_prefix: str = "",
        cache_max_size_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, cache_prefix=cache_prefix, cache_max_size_bytes=cache_max_size_bytes, **kwargs)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._size = 0
        self._writes = 0

    def flush(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def ttl(self, key: str) -> float:
        full_key = self.prefix + check_key(key)
        now = self._clock()
        with self._lock:
            entry = self._live(full_key, now)
            if entry is None or entry.expires_at is None:
                return -1
            return entry.expires_at - now

    def expire(self, key: str, ttl: float) -> None:
        full_key = self.prefix + check_key(key)
        now = self._clock()
        expires_at = expiry(now, ttl)
        with self._lock:
            entry = self._live(full_key, now)
            if entry is None:
                return
            if expires_at is not None and expires_at <= now:
                self._remove(full_key)
                return
            entry.expires_at = expires_at

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        full_key = self.prefix + check_key(key)
        text = encode(value)
        now = self._clock()
        expires_at = expiry(now, ttl)
        with self._lock:
            self._remove(full_key)
            if expires_at is not None and expires_at <= now:
                return
            self._entries[full_key] = _Entry(text, expires_at)
            self._size += _size_of(full_key, text)
            self._writes += 1
            if self._writes % _SWEEP_EVERY_WRITES == 0:
                self._sweep(now)
            self._evict()

    def get(self, key: str) -> Any:
        full_key = self.prefix + check_key(key)
        with self._lock:
            entry = self._live(full_key, self._clock())
        if entry is None:
            self.metrics_backend.count_miss()
            return None
        self.metrics_backend.count_hit()
        return decode(entry.text)

    def delete(self, key: str) -> Any:
        full_key = self.prefix + check_key(key)
        with self._lock:
            entry = self._live(full_key, self._clock())
            self._remove(full_key)
        return None if entry is None else decode(entry.text)

    def delete_prefix(self, key_prefix: str) -> int:
        start = self.prefix + check_key(key_prefix)
        now = self._clock()
        with self._lock:
            doomed = [key for key in self._entries if key.startswith(start)]
            live = sum(1 for key in doomed if not self._entries[key].expired(now))
            for key in doomed:
                self._remove(key)
        return live

    def heartbeat(self) -> bool:
        return True

    # Helpers below expect the lock to be held.

    def _live(self, full_key: str, now: float) -> _Entry | None:
        entry = self._entries.get(full_key)
        if entry is None:
            return None
        if entry.expired(now):
            self._remove(full_key)
            return None
        return entry

    def _remove(self, full_key: str) -> None:
        entry = self._entries.pop(full_key, None)
        if entry is not None:
            self._size -= _size_of(full_key, entry.text)

    def _sweep(self, now: float) -> None:
        for key in [key for key, entry in self._entries.items() if entry.expired(now)]:
            self._remove(key)

    def _evict(self) -> None:
        if not self.max_size_bytes or self._size <= self.max_size_bytes:
            return
        # Dicts keep insertion order and set() re-inserts, so the first keys are the oldest writes.
        while self._entries and self._size > self.max_size_bytes:
            self._remove(next(iter(self._entries)))


def _size_of(full_key: str, text: str) -> int:
    return len(full_key) + len(text)


def load_from_config(config: Any) -> Cache:
    """Build the memory cache from ``cache_prefix`` and ``cache_max_size_bytes``."""
    settings = config.get_settings()
    max_size = read_setting(settings, "cache_max_size_bytes")
    return Cache(
        cache_prefix=typed_setting(settings, "cache_prefix"),
        cache_max_size_bytes=int(max_size) if max_size is not None else None,
    )
