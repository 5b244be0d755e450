"""The Redis cache (``pip install 'kinto-core[redis]'``), shared by every process and host using it.

Enable it with::

    kinto.cache_backend = kinto.core.cache.redis
    kinto.cache_url = redis://localhost:6379/1      # rediss:// and unix:// too
    kinto.cache_prefix = stack1_                     # optional, to share one database

Values are the JSON text of ``cache/encoding.py`` under ``prefix + key``; Redis
keeps the expiry itself (millisecond precision, on the server's clock), so every
host agrees on it. ``flush`` and ``delete_prefix`` walk this prefix's keys with
``SCAN`` and unlink them: other applications' keys in the same database are never
touched (no ``FLUSHDB``); with an empty prefix the whole database is the cache's.
Keys written while a flush walks the database may survive it.

Settings (``DEFAULT_SETTINGS``): ``cache_url``, ``cache_prefix``,
``cache_pool_size`` (connections per process), ``cache_pool_timeout`` (seconds
to wait for a free connection), ``cache_connect_timeout`` and
``cache_socket_timeout`` (seconds; a Redis that does not answer in time is a
backend error, never a hang). ``cache_max_size_bytes`` is Redis's business
(``maxmemory``), not enforced here.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any, ClassVar

from kinto.core.backends import mask_url
from kinto.core.cache import CacheBase
from kinto.core.cache.encoding import backend_errors, check_key, decode, encode, expiry
from kinto.core.database import registry_clients
from kinto.core.settings import typed_setting

try:
    import redis
except ImportError as error:  # pragma: no cover -- depends on the installation
    raise ImportError("the Redis cache needs the redis client: pip install 'kinto-core[redis]'") from error

__all__ = ["DEFAULT_SETTINGS", "Cache", "load_from_config"]

logger = logging.getLogger(__name__)

#: This backend's settings and their defaults (``kinto.`` may prefix each).
DEFAULT_SETTINGS: dict[str, Any] = {
    "cache_url": "redis://localhost:6379/0",
    "cache_prefix": "",
    "cache_pool_size": 10,
    "cache_pool_timeout": 30.0,
    "cache_connect_timeout": 5.0,
    "cache_socket_timeout": 5.0,
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "cache_url": "the Redis server and database (`redis://host:6379/0`, `rediss://` for TLS, `unix:///path`)",
    "cache_prefix": "prefix of every key: several applications may share one database",
    "cache_pool_size": "connections kept to Redis per process",
    "cache_pool_timeout": "seconds a request waits for a free connection before a backend error",
    "cache_connect_timeout": "seconds to connect to Redis before a backend error",
    "cache_socket_timeout": "seconds to wait for each answer from Redis before a backend error",
}

# Longer TTLs than this (about 31,700 years) overflow Redis's expiry arithmetic: they mean "no expiry".
_LONGEST_TTL_MS = 10**15
_SCAN_BATCH = 500

_backend_errors = backend_errors(redis.RedisError, lambda cache, error: f"Redis at {cache.location}: {error}")


def _milliseconds(seconds: float) -> int | None:
    """Whole milliseconds for a positive ``seconds`` (rounded up, so never expiring early); None for no expiry."""
    milliseconds = math.ceil(seconds * 1000)
    return None if milliseconds > _LONGEST_TTL_MS else milliseconds


def _glob_literal(text: bytes) -> bytes:
    # Redis MATCH patterns give * ? [ ] and \ a meaning; a backslash makes each literal.
    return b"".join(b"\\" + bytes([byte]) if byte in b"*?[]\\" else bytes([byte]) for byte in text)


class Cache(CacheBase):
    """A cache held in one Redis database."""

    supports_delete_prefix: ClassVar[bool] = True
    supports_concurrent_processes: ClassVar[bool] = True
    supports_set_without_ttl: ClassVar[bool] = True

    def __init__(
        self,
        client: redis.Redis,
        *args: Any,
        cache_prefix: str = "",
        cache_max_size_bytes: int | None = None,
        location: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, cache_prefix=cache_prefix, cache_max_size_bytes=cache_max_size_bytes, **kwargs)
        self.client = client
        #: Where the server is, password masked: for error messages and logs.
        self.location = location or "redis"

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.Cache {self.location} prefix={self.prefix!r}>"

    def initialize_schema(self, dry_run: bool = False) -> None:
        logger.debug("Redis cache: nothing to create at %s", self.location)

    @_backend_errors
    def flush(self) -> None:
        self._unlink_matching(self.prefix.encode())

    @_backend_errors
    def ttl(self, key: str) -> float:
        milliseconds = self.client.pttl(self._key(key))
        # PTTL answers -2 for a missing key and -1 for one without expiry.
        return -1 if milliseconds < 0 else milliseconds / 1000

    @_backend_errors
    def expire(self, key: str, ttl: float) -> None:
        full_key = self._key(key)
        seconds = expiry(0.0, ttl)
        if seconds is not None and seconds <= 0:
            self.client.delete(full_key)
            return
        milliseconds = None if seconds is None else _milliseconds(seconds)
        if milliseconds is None:
            self.client.persist(full_key)
        else:
            self.client.pexpire(full_key, milliseconds)

    @_backend_errors
    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        full_key = self._key(key)
        text = encode(value)
        seconds = expiry(0.0, ttl)
        if seconds is not None and seconds <= 0:
            self.client.delete(full_key)
            return
        # A SET without PX also clears any previous expiry, as the contract wants.
        self.client.set(full_key, text, px=None if seconds is None else _milliseconds(seconds))

    @_backend_errors
    def get(self, key: str) -> Any:
        text = self.client.get(self._key(key))
        if text is None:
            self.metrics_backend.count_miss()
            return None
        self.metrics_backend.count_hit()
        return decode(text)

    @_backend_errors
    def delete(self, key: str) -> Any:
        # GET and DEL in one MULTI: no other client's write slips between them (GETDEL needs Redis 6.2).
        full_key = self._key(key)
        pipeline = self.client.pipeline(transaction=True)
        pipeline.get(full_key)
        pipeline.delete(full_key)
        text, _ = pipeline.execute()
        return None if text is None else decode(text)

    @_backend_errors
    def delete_prefix(self, key_prefix: str) -> int:
        return self._unlink_matching((self.prefix + check_key(key_prefix)).encode())

    def heartbeat(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:  # a heartbeat reports failures, it never raises
            logger.warning("Redis cache at %s does not answer", self.location, exc_info=True)
            return False

    # -- helpers ------------------------------------------------------------------

    def _key(self, key: str) -> bytes:
        return (self.prefix + check_key(key)).encode()

    def _unlink_matching(self, start: bytes) -> int:
        """Unlink every key starting with ``start``; return how many existed (unexpired)."""
        removed = 0
        for batch in self._batches(self.client.scan_iter(match=_glob_literal(start) + b"*", count=_SCAN_BATCH)):
            # SCAN may repeat a key; UNLINK counts only keys that still existed, so none is counted twice.
            removed += self.client.unlink(*batch)
        return removed

    @staticmethod
    def _batches(keys: Iterator[bytes]) -> Iterator[list[bytes]]:
        batch: list[bytes] = []
        for key in keys:
            batch.append(key)
            if len(batch) == _SCAN_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def _client_from_settings(config: Any, url: str) -> redis.Redis:
    """A client on the connection pool of ``url``, one pool per URL and application (shared
    through the registry, which closes it with the application's other clients)."""
    pools = registry_clients(config)
    key = ("redis", url)
    pool = pools.get(key)
    if pool is None:
        settings = config.get_settings()

        def number(name: str) -> Any:
            return typed_setting(settings, name, DEFAULT_SETTINGS)

        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max(1, number("cache_pool_size")),
            timeout=number("cache_pool_timeout"),
            socket_connect_timeout=number("cache_connect_timeout"),
            socket_timeout=number("cache_socket_timeout"),
        )
        pools[key] = pool
    return redis.Redis(connection_pool=pool)


def load_from_config(config: Any) -> Cache:
    """Build the Redis cache from ``cache_url``, ``cache_prefix`` and the pool settings (see the module)."""
    settings = config.get_settings()
    url = typed_setting(settings, "cache_url", DEFAULT_SETTINGS)
    try:
        client = _client_from_settings(config, url)
    except ValueError as error:  # redis-py's word for a URL it cannot read
        raise ValueError(f"kinto.cache_url = {mask_url(url)}: {error}") from error
    return Cache(client, cache_prefix=typed_setting(settings, "cache_prefix", DEFAULT_SETTINGS), location=mask_url(url))
