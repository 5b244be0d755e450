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
  (``listeners.<name>.seconds``);
* for each request (batch sub-requests included), as Kinto does:
  ``request_summary`` counted with the labels ``method``, ``endpoint`` and
  ``status``; ``request_duration_seconds`` (a timer) and ``request_size`` (the
  response body's length, observed) with ``method`` and ``endpoint``;
  ``authentication`` counted by policy (``type``) and ``users`` by ``auth`` and
  ``userid`` when a user is authenticated. ``endpoint`` is the name of the
  route that matched (``record-object``, ``bucket-plural``, ``hello``), never
  the path: ``unknown`` for a 404 no route matched, ``unnamed`` otherwise. The
  matchdict fields named by ``kinto.metrics_matchdict_fields`` (none by
  default; ``bucket_id``, ``collection_id``... and ``<resource>_id`` for the
  ``id`` of an object route) are added as labels, empty on errors.

Labels are ``(name, value)`` pairs; a service that has no notion of labels may
fold them into the key (statsd does: ``key.name.value``).
"""

from __future__ import annotations

import functools
import logging
import time
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
    "request_tween_factory",
    "watch_execution_time",
]

logger = logging.getLogger(__name__)

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


def request_tween_factory(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """The tween reporting each request to the metrics service (see the module docstring).

    Built once every include has run: without a service registered by then,
    the handler is returned as is and requests pay nothing.
    """
    service = get_metrics_service(registry)
    if not is_measuring(service):
        return handler
    from kinto.core.settings import as_list

    fields = tuple(as_list((registry.settings or {}).get("metrics_matchdict_fields") or []))

    def tween(request: Any) -> Any:
        start = time.perf_counter()
        response = handler(request)
        try:
            _report_request(service, request, response, time.perf_counter() - start, fields)
        except Exception:  # a lost measurement must not fail the request
            logger.debug("Could not report the request's metrics", exc_info=True)
        return response

    return tween


def _report_request(service: Any, request: Any, response: Any, duration: float, fields: tuple[str, ...]) -> None:
    status = response.status_code
    route = getattr(request, "matched_route", None)
    if route is not None:
        endpoint = route.name
    else:
        endpoint = "unknown" if status == 404 else "unnamed"
    labels = [("method", request.method.lower()), ("endpoint", endpoint)]
    if fields:
        labels.extend(_matchdict_labels(request, status, fields))
    service.count("request_summary", unique=[*labels, ("status", str(status))])
    service.timer("request_duration_seconds", value=duration, labels=labels)
    service.observe("request_size", response.content_length or 0, labels=labels)
    identity = getattr(request, "kinto_identity", None)
    if identity is not None:
        auth, _, userid = identity.prefixed_userid.partition(":")
        service.count("authentication", unique=[("type", identity.policy_name)])
        # Colons would split a statsd packet.
        service.count("users", unique=[("auth", auth), ("userid", userid.replace(":", "."))])


def _matchdict_labels(request: Any, status: int, fields: tuple[str, ...]) -> list[tuple[str, str]]:
    """The labels of ``kinto.metrics_matchdict_fields``: empty values for errors (a 404's ids are anybody's)."""
    matchdict: dict[str, Any] = {}
    if status < 400:
        from kinto.core.utils import current_resource_name

        matchdict = dict(request.matchdict or {})
        resource = current_resource_name(request)
        if resource is not None:
            matchdict[f"{resource}_id"] = matchdict.get("id", "")
    return [(field, str(matchdict.get(field, ""))) for field in fields]
