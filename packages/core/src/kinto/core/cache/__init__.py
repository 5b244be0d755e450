"""The cache contract.

A cache backend stores JSON-serialisable values under string keys, each with an
optional time to live. Every key is namespaced by the backend's ``prefix`` (the
``kinto.cache_prefix`` setting), so several applications can share one server.

A backend module exposes ``load_from_config(config) -> CacheBase``; the setting
``kinto.cache_backend`` names that module. Backends prove conformance with
``kinto.core.testing.cache.CacheContract`` (or the ``kinto-conformance`` command).

Backends report cache hits and misses: ``get`` calls ``self.metrics_backend.count_hit()``
when it finds a value and ``self.metrics_backend.count_miss()`` when it does not, as
Kinto's backends do. The core points ``metrics_backend`` at the metrics service once the
application is made (:mod:`kinto.core.metrics`); until then it counts nothing.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from kinto.core import backend_schema
from kinto.core.storage.exceptions import BackendError

__all__ = ["CacheBackendError", "CacheBase", "CacheMetricsBackend"]

_CACHE_HIT_METRIC_KEY = "cache_hits"
_CACHE_MISS_METRIC_KEY = "cache_misses"


class CacheBackendError(BackendError):
    """The cache server failed or could not be reached; answered as a 503."""


class CacheMetricsBackend:
    """What ``CacheBase.metrics_backend`` is: hit and miss counters on a metrics service.

    Counts ``cache_hits`` and ``cache_misses`` on the service given (any
    :class:`kinto.core.metrics.IMetricsService`); with ``None`` it counts nothing.
    """

    def __init__(self, metrics_service: Any = None) -> None:
        self._service = metrics_service

    def count_hit(self) -> None:
        """Count one ``get`` that found a value."""
        if self._service is not None:
            self._service.count(_CACHE_HIT_METRIC_KEY)

    def count_miss(self) -> None:
        """Count one ``get`` that found nothing (missing or expired)."""
        if self._service is not None:
            self._service.count(_CACHE_MISS_METRIC_KEY)


class CacheBase(abc.ABC):
    """Abstract base class of cache backends.

    Subclasses call ``super().__init__(cache_prefix=..., cache_max_size_bytes=...)``
    (the keywords Kinto's backends use) and implement the abstract methods.
    Any method may raise ``BackendError`` (``CacheBackendError``) when the
    underlying service fails.

    Keys are strings, stored as ``prefix + key``; a key containing a NUL
    character raises ``ValueError``. Values round-trip as JSON: a dict set is
    an equal dict got, tuples come back as lists, and mutating a value after
    ``set`` does not change the cached one. TTLs are seconds (int or float).
    A backend configured with ``cache_max_size_bytes`` may evict keys before
    they expire; without a limit it keeps every key until it expires.
    """

    #: Optional features, declared so the contract suite skips tests explicitly.
    #: Whether several processes may share one cache (same file or server). ``kinto start``
    #: serves with one worker process when a backend does not.
    supports_concurrent_processes: ClassVar[bool] = False
    #: Whether ``delete_prefix`` is implemented.
    supports_delete_prefix: ClassVar[bool] = False
    #: Whether ``set`` accepts ``ttl=None`` (keep until deleted). Kinto's contract always
    #: passes a ttl; backends written for it leave this False and the suite skips those tests.
    supports_set_without_ttl: ClassVar[bool] = False
    #: Whether the cache lives inside the application (its memory or a local file), with no
    #: administrator: ``kinto start`` creates its tables itself (``initialize_schema``) instead of
    #: asking for ``kinto migrate``. A backend on a server leaves this False.
    embedded: ClassVar[bool] = False

    #: Hit and miss counters ``get`` reports to (see the module docstring). A class-level
    #: default that counts nothing, so a backend whose constructor skips ours still has one.
    metrics_backend: CacheMetricsBackend = CacheMetricsBackend()

    def __init__(
        self,
        *args: Any,
        cache_prefix: str = "",
        cache_max_size_bytes: int | None = None,
        metrics_backend: Any = None,
        **kwargs: Any,
    ) -> None:
        self.prefix = cache_prefix or ""
        self.max_size_bytes = cache_max_size_bytes
        self.set_metrics_backend(metrics_backend)

    def set_metrics_backend(self, metrics_service: Any) -> None:
        """Report hits and misses to ``metrics_service`` (an ``IMetricsService``; ``None`` for none)."""
        self.metrics_backend = CacheMetricsBackend(metrics_service)

    # Written once for every backend contract (see kinto.core.backend_schema).
    initialize_schema = backend_schema.initialize_schema
    schema_mismatch = backend_schema.schema_mismatch

    @abc.abstractmethod
    def flush(self) -> None:
        """Delete every key of this cache (within its prefix)."""

    @abc.abstractmethod
    def ttl(self, key: str) -> float:
        """Return the seconds left before ``key`` expires.

        Returns ``-1`` when the key is missing, has expired, or has no expiry.
        """

    @abc.abstractmethod
    def expire(self, key: str, ttl: float) -> None:
        """Set the time to live of an existing ``key`` to ``ttl`` seconds.

        A ``ttl`` of 0 or less expires the key immediately. A missing key is
        left missing (no error).
        """

    @abc.abstractmethod
    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` (any JSON-serialisable value) under ``key``.

        ``ttl`` is in seconds; a ``ttl`` of 0 or less means the value is already
        expired and will never be returned. The core always passes a ``ttl`` (as
        Kinto does); ``None`` (no expiry) is an extension, accepted by backends
        declaring ``supports_set_without_ttl``. A value
        that is not JSON-serialisable raises ``TypeError`` and stores nothing.
        """

    @abc.abstractmethod
    def get(self, key: str) -> Any:
        """Return the value stored under ``key``, or ``None`` if it is missing
        or expired. Expired keys are never returned, whether or not they have
        been physically removed yet. Calls ``self.metrics_backend.count_hit()``
        or ``count_miss()`` accordingly."""

    @abc.abstractmethod
    def delete(self, key: str) -> Any:
        """Remove ``key`` and return the value it held (``None`` if missing)."""

    def delete_prefix(self, key_prefix: str) -> int:
        """Remove every key (within this cache's prefix) starting with
        ``key_prefix``; return how many unexpired keys were removed.

        ``key_prefix`` is literal: no character is a wildcard. Concrete so that
        backends written before this method keep working: the default raises
        ``NotImplementedError``; backends that implement it set
        ``supports_delete_prefix = True`` and the suite tests it.
        """
        raise NotImplementedError

    def heartbeat(self) -> bool:
        """Return True when the cache answers a write and a read.

        The default round-trips a short-lived key; backends may override with
        a cheaper ping. Must not raise: failures return False.
        """
        key = "__heartbeat__"
        try:
            self.set(key, "true", 10)
            return self.get(key) == "true"
        except Exception:
            return False
