"""The metrics contract: how the core and its backends report measurements.

A metrics service provides :class:`IMetricsService`: ``timer`` (durations),
``count`` (occurrences) and ``observe`` (sampled values). A plugin installs one
the way Kinto's statsd and prometheus plugins do::

    config.registry.registerUtility(service, IMetricsService)

and everything reads it back with :func:`get_metrics_service`, which answers a
:class:`NoOpMetricsService` when no plugin registered one: reporting costs a
method call and nothing else.

What the core reports once the application is made (only when a service is
registered):

* cache hits and misses (``cache_hits``, ``cache_misses``) through
  ``CacheBase.metrics_backend``, which every cache backend's ``get`` calls;
* the execution time of every public method of the storage, cache and
  permission backends (``backend.<classname>.seconds`` labelled by method);
* the execution time of each listener configured from settings
  (``listeners.<name>.seconds``).

Labels are ``(name, value)`` pairs; a service that has no notion of labels may
fold them into the key (statsd does: ``key.name.value``).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from zope.interface import Interface, implementer

__all__ = [
    "IMetricsService",
    "Labels",
    "NoOpMetricsService",
    "NoOpTimer",
    "Timer",
    "get_metrics_service",
    "listener_with_timer",
    "watch_execution_time",
]

Labels = Sequence[tuple[str, str]]

_Function = TypeVar("_Function", bound=Callable[..., Any])


class Timer(Protocol):
    """What ``IMetricsService.timer`` returns: a context manager and a decorator.

    ``with service.timer(key):`` measures the block; ``@service.timer(key)``
    measures every call of the function it decorates.
    """

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc_info: Any) -> Any: ...

    def __call__(self, function: _Function) -> _Function: ...


class IMetricsService(Interface):  # type: ignore[misc]  # zope interfaces are declared without self
    """The interface a metrics service provides (Kinto 26.5's, same name and methods).

    None of the methods may raise because the metrics sink is unreachable: a
    lost measurement must not fail the request that produced it.
    """

    def timer(key: str, value: float | None = None, labels: Labels = ()) -> Any:
        """Measure a duration in seconds under ``key``.

        With ``value`` the duration is already known and is recorded at once;
        without, the returned :class:`Timer` measures a block or a function.
        """

    def count(key: str, count: int = 1, unique: Labels | None = None) -> None:
        """Add ``count`` occurrences to the counter ``key``.

        With ``unique`` (labels), the occurrence is counted for that label set:
        a service with labelled counters increments that series, statsd records
        a set member so that the number of distinct label sets is what shows.
        """

    def observe(key: str, value: float, labels: Labels = ()) -> None:
        """Record one sample ``value`` of ``key`` (a gauge or a summary)."""


class NoOpTimer:
    """A :class:`Timer` that measures nothing; the decorated function is returned as is."""

    def __enter__(self) -> NoOpTimer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    def __call__(self, function: _Function) -> _Function:
        return function


@implementer(IMetricsService)
class NoOpMetricsService:
    """The service in use when no plugin registered one: every call does nothing."""

    def timer(self, key: str, value: float | None = None, labels: Labels = ()) -> NoOpTimer:
        return NoOpTimer()

    def count(self, key: str, count: int = 1, unique: Labels | None = None) -> None:
        return None

    def observe(self, key: str, value: float, labels: Labels = ()) -> None:
        return None


_NO_OP = NoOpMetricsService()


def get_metrics_service(registry: Any) -> Any:
    """The metrics service registered on ``registry``, or a no-op one when there is none."""
    query = getattr(registry, "queryUtility", None)
    service = query(IMetricsService) if query is not None else None
    return _NO_OP if service is None else service


def is_measuring(service: Any) -> bool:
    """Whether ``service`` records anything (false for the no-op service)."""
    return not isinstance(service, NoOpMetricsService)


def watch_execution_time(service: Any, obj: Any, prefix: str = "", classname: str | None = None) -> None:
    """Time every public method of ``obj`` (instance attributes replace the bound methods).

    Each call is recorded under ``{prefix}.{classname}.seconds`` with the label
    ``("method", name)``; ``classname`` defaults to the lower-cased class name
    of ``obj`` (as Kinto names it: ``backend.cache.seconds``).
    """
    classname = classname or type(obj).__name__.lower()
    key = f"{prefix}.{classname}.seconds" if prefix else f"{classname}.seconds"
    for name in dir(obj):
        if name.startswith("_"):
            continue
        method = getattr(obj, name, None)
        if not isinstance(method, types.MethodType):
            continue
        setattr(obj, name, service.timer(key, labels=[("method", name)])(method))


def listener_with_timer(config: Any, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``function`` so each call is timed under ``key`` (``.seconds`` appended if missing).

    The service is looked up at call time, so a metrics plugin included after
    the listener was configured is still the one used.
    """
    if not key.endswith(".seconds"):
        key += ".seconds"
    registry = config.registry

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        service = get_metrics_service(registry)
        if not is_measuring(service):
            return function(*args, **kwargs)
        with service.timer(key):
            return function(*args, **kwargs)

    return timed
