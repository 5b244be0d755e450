"""The memcached cache (``pip install 'kinto-core[memcached]'``), shared by every process and host using it.

Enable it with::

    kinto.cache_backend = kinto.core.cache.memcached
    kinto.cache_hosts = 127.0.0.1:11211 127.0.0.1:11212
    kinto.cache_prefix = stack1_                     # optional, to share the servers

What is stored where:

- Memcached keys are short ASCII words without spaces, so each cache key is
  stored under a digest of ``prefix + key`` (``kinto-cache:<namespace>:<generation>:<digest>``);
  the item holds the JSON text (``cache/encoding.py``) of the full key, the
  absolute expiry and the value, and a read checks the key it finds.
- TTLs are kept to the millisecond by that absolute expiry (wall-clock seconds
  since the epoch: hosts sharing the servers need synchronised clocks); memcached
  is also told to drop the item a second after it expires.
- Memcached cannot list keys, so ``flush`` moves the prefix to a new generation:
  every key embeds the generation number stored under
  ``kinto-cache:<namespace>:generation``, which ``flush`` increments atomically.
  Items of older generations are never read again and memcached reclaims them
  (expiry or LRU). Each operation reads that number first: two round trips.
  Should the number be evicted, it restarts from the current time in
  nanoseconds, past any generation used before. ``delete_prefix`` is not
  supported (``supports_delete_prefix = False``).
- With several hosts each key lives on one server, picked by rendezvous hashing
  of its memcached key; a server that is down makes the operations on its keys
  fail (503) rather than move them to another server, where a flush could be
  missed.
- Memcached evicts items under memory pressure and refuses items larger than its
  item size (``-I``, 1 MB by default): such a value is not kept (a warning is
  logged), as if it had been evicted at once. ``cache_max_size_bytes`` is not
  enforced here: memcached's ``-m`` is.

Settings (``DEFAULT_SETTINGS``): ``cache_hosts`` (``host:port`` words, Kinto's
setting), ``cache_prefix``, ``cache_pool_size`` (connections per server and
process; 0 for no limit), ``cache_connect_timeout`` and ``cache_socket_timeout``
(seconds; a server that does not answer in time is a backend error, never a hang).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any, ClassVar

from kinto.core.cache import CacheBase
from kinto.core.cache.encoding import backend_errors, check_key, decode, encode, expiry
from kinto.core.database import registry_clients
from kinto.core.settings import typed_setting

try:
    from pymemcache import MemcacheError, MemcacheServerError
    from pymemcache.client.base import PooledClient
    from pymemcache.client.rendezvous import RendezvousHash
except ImportError as error:  # pragma: no cover -- depends on the installation
    raise ImportError("the memcached cache needs pymemcache: pip install 'kinto-core[memcached]'") from error

__all__ = ["DEFAULT_SETTINGS", "Cache", "MemcachedServers", "load_from_config"]

logger = logging.getLogger(__name__)

#: This backend's settings and their defaults (``kinto.`` may prefix each).
DEFAULT_SETTINGS: dict[str, Any] = {
    "cache_hosts": ["127.0.0.1:11211"],
    "cache_prefix": "",
    "cache_pool_size": 0,
    "cache_connect_timeout": 5.0,
    "cache_socket_timeout": 5.0,
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "cache_hosts": "the Memcached servers, `host:port` words (keys are spread over them)",
    "cache_prefix": "prefix of every key: several applications may share the servers",
    "cache_pool_size": "connections per server and process (0: no limit)",
    "cache_connect_timeout": "seconds to connect to a server before a backend error",
    "cache_socket_timeout": "seconds to wait for each answer before a backend error",
}

# Memcached reads an expiry beyond 30 days as a date; longer TTLs are left to our own expiry check.
_LONGEST_RELATIVE_EXPIRY = 30 * 24 * 3600
# The attempts of an ``expire`` racing other writers of the same key before the others win.
_EXPIRE_ATTEMPTS = 5


def _describe_error(cache: Cache, error: BaseException) -> str:
    where = ", ".join(cache.servers.hosts)
    if isinstance(error, RuntimeError):  # pymemcache's pool has no connection left to lend
        return f"memcached at {where}: every connection allowed by kinto.cache_pool_size is in use ({error})"
    return f"memcached at {where}: {type(error).__name__}: {error}"


# OSError: refused, reset or timed-out sockets, which pymemcache lets through.
_backend_errors = backend_errors((MemcacheError, OSError, RuntimeError), _describe_error)


def _digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def _memcached_expiry(seconds: float | None) -> int:
    """What memcached is told: whole seconds, one more than the TTL (its clock ticks by the second);
    0 (keep) for no expiry or one beyond what it reads as relative."""
    if seconds is None or seconds >= _LONGEST_RELATIVE_EXPIRY:
        return 0
    return math.ceil(seconds) + 1


class MemcachedServers:
    """One pooled client per server, each key on the server rendezvous hashing picks."""

    def __init__(
        self, hosts: list[str], *, pool_size: int = 0, connect_timeout: float = 5.0, socket_timeout: float = 5.0
    ) -> None:
        if not hosts:
            raise ValueError("kinto.cache_hosts lists no memcached server")
        self.hosts = list(hosts)
        self._clients = {
            host: PooledClient(
                host,
                connect_timeout=connect_timeout,
                timeout=socket_timeout,
                max_pool_size=pool_size or None,
                # Replies are awaited: a write must be done before a read on another pooled connection.
                default_noreply=False,
            )
            for host in self.hosts
        }
        self._ring = RendezvousHash(nodes=list(self.hosts))

    def __repr__(self) -> str:
        return f"<MemcachedServers {' '.join(self.hosts)}>"

    def client_for(self, memcached_key: str) -> PooledClient:
        return self._clients[self._ring.get_node(memcached_key)]

    def ping(self) -> bool:
        """Whether every server answers ``version``; never raises."""
        try:
            for client in self._clients.values():
                client.version()
        except Exception:  # a heartbeat reports failures, it never raises
            logger.warning("memcached at %s does not answer", ", ".join(self.hosts), exc_info=True)
            return False
        return True

    def close(self) -> None:
        """Close the pooled connections (they reopen on the next use)."""
        for client in self._clients.values():
            client.close()


class Cache(CacheBase):
    """A cache on one or several memcached servers."""

    supports_concurrent_processes: ClassVar[bool] = True
    supports_delete_prefix: ClassVar[bool] = False
    supports_set_without_ttl: ClassVar[bool] = True

    def __init__(
        self,
        servers: MemcachedServers,
        *args: Any,
        cache_prefix: str = "",
        cache_max_size_bytes: int | None = None,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, cache_prefix=cache_prefix, cache_max_size_bytes=cache_max_size_bytes, **kwargs)
        self.servers = servers
        # Wall-clock time: every process and host sharing the servers must agree on expiries.
        self._clock = clock
        self._namespace = f"kinto-cache:{_digest(self.prefix, 8)}"
        self._generation_key = f"{self._namespace}:generation"

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.Cache {' '.join(self.servers.hosts)} prefix={self.prefix!r}>"

    def initialize_schema(self, dry_run: bool = False) -> None:
        logger.debug("memcached cache: nothing to create on %s", " ".join(self.servers.hosts))

    def heartbeat(self) -> bool:
        return self.servers.ping()

    @_backend_errors
    def flush(self) -> None:
        client = self.servers.client_for(self._generation_key)
        if client.incr(self._generation_key, 1) is None:
            self._start_generation(client)

    @_backend_errors
    def ttl(self, key: str) -> float:
        entry = self._read(key)[0]
        if entry is None or entry["expires_at"] is None:
            return -1
        return entry["expires_at"] - self._clock()

    @_backend_errors
    def expire(self, key: str, ttl: float) -> None:
        seconds = expiry(0.0, ttl)
        if seconds is not None and seconds <= 0:
            self._remove(key)
            return
        for _ in range(_EXPIRE_ATTEMPTS):
            entry, location, cas = self._read(key, with_cas=True)
            if entry is None:
                return
            text = self._entry_text(key, entry["value"], seconds)
            # cas: None when the key vanished meanwhile, False when another write came first.
            if self.servers.client_for(location).cas(location, text, cas, expire=_memcached_expiry(seconds)):
                return
        logger.info("memcached cache: expire(%r) gave way to concurrent writes", key)

    @_backend_errors
    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        check_key(key)
        seconds = expiry(0.0, ttl)
        text = self._entry_text(key, value, seconds)
        location = self._location(key)
        client = self.servers.client_for(location)
        if seconds is not None and seconds <= 0:
            client.delete(location)
            return
        try:
            client.set(location, text, expire=_memcached_expiry(seconds))
        except MemcacheServerError as error:
            if "too large" not in str(error):
                raise
            # Keeping the previous value would serve a stale one: drop it, as an eviction would.
            client.delete(location)
            logger.warning("memcached cache: %r not kept, %d bytes is over the item size", key, len(text))

    @_backend_errors
    def get(self, key: str) -> Any:
        entry = self._read(key)[0]
        if entry is None:
            self.metrics_backend.count_miss()
            return None
        self.metrics_backend.count_hit()
        return entry["value"]

    @_backend_errors
    def delete(self, key: str) -> Any:
        entry, location, _ = self._read(key)
        if entry is not None:
            self.servers.client_for(location).delete(location)
        return None if entry is None else entry["value"]

    # -- helpers ------------------------------------------------------------------

    def _generation(self) -> int:
        client = self.servers.client_for(self._generation_key)
        current = client.get(self._generation_key)
        if current is None:
            return self._start_generation(client)
        return int(current)

    def _start_generation(self, client: PooledClient) -> int:
        """Store a generation past every earlier one (the clock in nanoseconds) unless another
        process just did; return the generation in force."""
        fresh = time.time_ns()
        if client.add(self._generation_key, str(fresh), expire=0):
            return fresh
        current = client.get(self._generation_key)
        return fresh if current is None else int(current)

    def _location(self, key: str) -> str:
        """The memcached key of ``key`` in the current generation."""
        return f"{self._namespace}:{self._generation()}:{_digest(self.prefix + key, 16)}"

    def _entry_text(self, key: str, value: Any, seconds: float | None) -> str:
        expires_at = None if seconds is None else self._clock() + seconds
        return encode({"key": self.prefix + key, "expires_at": expires_at, "value": value})

    def _read(self, key: str, with_cas: bool = False) -> tuple[dict[str, Any] | None, str, Any]:
        """The live entry of ``key`` (None if missing, expired or another key's), its memcached key
        and, with ``with_cas``, the token for a ``cas`` write."""
        location = self._location(check_key(key))
        client = self.servers.client_for(location)
        if with_cas:
            text, cas = client.gets(location)
        else:
            text, cas = client.get(location), None
        if text is None:
            return None, location, cas
        entry = decode(text)
        if entry.get("key") != self.prefix + key:  # a digest collision: not our key
            return None, location, cas
        expires_at = entry.get("expires_at")
        if expires_at is not None and expires_at <= self._clock():
            return None, location, cas
        return entry, location, cas

    def _remove(self, key: str) -> None:
        location = self._location(check_key(key))
        self.servers.client_for(location).delete(location)


def _servers_from_settings(config: Any) -> MemcachedServers:
    """The servers of ``cache_hosts``, one set of pools per host list and application (shared
    through the registry, which closes it with the application's other clients)."""
    settings = config.get_settings()
    hosts = typed_setting(settings, "cache_hosts", DEFAULT_SETTINGS)
    clients = registry_clients(config)
    key = ("memcached", tuple(hosts))
    servers = clients.get(key)
    if servers is None:

        def number(name: str) -> Any:
            return typed_setting(settings, name, DEFAULT_SETTINGS)

        servers = MemcachedServers(
            hosts,
            pool_size=number("cache_pool_size"),
            connect_timeout=number("cache_connect_timeout"),
            socket_timeout=number("cache_socket_timeout"),
        )
        clients[key] = servers
    return servers


def load_from_config(config: Any) -> Cache:
    """Build the memcached cache from ``cache_hosts``, ``cache_prefix`` and the pool settings (see the module)."""
    settings = config.get_settings()
    return Cache(_servers_from_settings(config), cache_prefix=typed_setting(settings, "cache_prefix", DEFAULT_SETTINGS))
