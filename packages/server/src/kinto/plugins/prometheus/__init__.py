"""Prometheus metrics at ``GET /v1/__metrics__`` (``pip install 'kinto-server[prometheus]'``).

Enabled as Kinto's is::

    kinto.includes = kinto.plugins.prometheus

The plugin registers a metrics service (:class:`kinto.core.metrics.IMetricsService`)
built on ``prometheus_client``; everything the core reports goes there (see
:mod:`kinto.core.metrics`): request counts, latency histograms and response
sizes per endpoint, backend method timers, cache hits and misses, listener
timers, and what plugins report through ``registry.metrics``. ``timer`` gives a
histogram, ``count`` a counter (``<name>_total``), ``observe`` a summary; names
are ``<prefix>_<key>`` with dots, dashes and spaces turned into underscores
(``kinto_request_duration_seconds``, ``kinto_backend_storage_seconds``,
``kinto_cache_hits_total``), as Kinto names them.

Settings (Kinto's names):

``prometheus_prefix``
    prepended to every metric name (the project name, ``kinto``, by default).
``prometheus_disabled_metrics``
    metric names (with or without the prefix) never recorded.
``prometheus_histogram_buckets``
    the bucket bounds of every histogram, in seconds
    (``0.01 0.05 0.1 0.5 1.0 3.0 6.0 Inf``).
``prometheus_created_metrics_enabled``
    ``false`` drops the ``*_created`` series (for the whole process, as
    ``prometheus_client`` does it).

And ours, ``prometheus_max_series_per_metric`` (1000): how many label sets one
metric may have. Label values come from requests (user ids, the matchdict
fields of ``kinto.metrics_matchdict_fields``), so a client could otherwise grow
the registry without bound; past the limit, new label sets are all recorded
under one series whose label values are ``_other`` (and a warning is logged
once per metric). Endpoints are route names, never paths: the request metrics
stay within (methods x routes x statuses).

One process: each application has a registry of its own, with the process,
platform and garbage-collector collectors. Several processes (``kinto start
--workers N``): set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder shared by the
workers before they start; each scrape then aggregates every worker's values
(``prometheus_client``'s multiprocess mode; its limits apply: summaries show
count and sum only, and the folder must be emptied when the server restarts).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kinto.core import metrics
from kinto.core.settings import as_list
from pyramid.exceptions import ConfigurationError
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from zope.interface import implementer

if TYPE_CHECKING:  # Self is in typing from Python 3.11 only
    from typing_extensions import Self

try:
    import prometheus_client
except ImportError:  # pragma: no cover - the extra is not installed
    prometheus_client = None  # type: ignore[assignment]

__all__ = ["DEFAULT_SETTINGS", "PrometheusService", "includeme", "metrics_view"]

logger = logging.getLogger(__name__)

DOCS = "https://kinto.readthedocs.io/en/latest/configuration/settings.html#monitoring-with-prometheus"

#: The plugin's settings (Kinto's names, plus the series limit) and their defaults.
DEFAULT_SETTINGS: dict[str, Any] = {
    "prometheus_prefix": None,  # None: the project name
    "prometheus_disabled_metrics": [],
    "prometheus_histogram_buckets": ["0.01", "0.05", "0.1", "0.5", "1.0", "3.0", "6.0", "Inf"],
    "prometheus_created_metrics_enabled": True,
    "prometheus_max_series_per_metric": 1000,
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "prometheus_prefix": "prefix of the metric names; none: the project name",
    "prometheus_disabled_metrics": "metrics not exported",
    "prometheus_histogram_buckets": "bucket bounds of the timing histograms, in seconds",
    "prometheus_created_metrics_enabled": "export the `_created` series `prometheus_client` adds",
    "prometheus_max_series_per_metric": "label sets one metric may have; past it new ones share the series labelled `_other`",
}

#: The label value standing for every label set past ``prometheus_max_series_per_metric``.
OVERFLOW_LABEL_VALUE = "_other"

_INVALID_NAME_CHARACTERS = re.compile(r"[^a-zA-Z0-9_:]")


@functools.lru_cache(maxsize=4096)
def metric_name(key: str) -> str:
    """``key`` as a Prometheus metric (or label) name: dots, dashes, spaces and the like become ``_``."""
    name = _INVALID_NAME_CHARACTERS.sub("_", key)
    return f"_{name}" if name[:1].isdigit() else name


def clean_prefix(prefix: str) -> str:
    """Kinto's prefix rule: one word, lower case, then ``_`` (``remote-settings`` gives ``remotesettings_``)."""
    word = metric_name(prefix).replace("_", "").lower()
    return f"{word}_" if word else ""


class _Series:
    """One metric: its kind, label names, and the label sets it holds (bounded)."""

    def __init__(self, kind: str, metric: Any, labelnames: tuple[str, ...], limit: int) -> None:
        self.kind = kind
        self.metric = metric
        self.labelnames = labelnames
        self.limit = limit
        # Labels (names and values) -> the metric's child for them: one look-up per measurement.
        self.children: dict[tuple[str, ...], Any] = {}
        self.overflowed = False
        self.lock = threading.Lock()

    def child(self, labels: Sequence[tuple[str, Any]]) -> Any:
        """The series of ``labels`` (the overflow series past the limit), or ``None`` if the names differ."""
        if not self.labelnames:
            return self.metric if not labels else None
        key = tuple(labels)
        found = self.children.get(key)
        if found is not None:
            return found
        if len(key) != len(self.labelnames) or any(
            metric_name(name) != expected for (name, _), expected in zip(key, self.labelnames)
        ):
            return None
        values = tuple(str(value) for _, value in key)
        with self.lock:
            found = self.children.get(key)
            if found is None:
                if len(self.children) >= self.limit:
                    if not self.overflowed:
                        self.overflowed = True
                        logger.warning(
                            "Metric %s reached %d label sets (prometheus_max_series_per_metric): "
                            "new ones are recorded with the label values %r",
                            self.metric._name,
                            self.limit,
                            OVERFLOW_LABEL_VALUE,
                        )
                    return self.metric.labels(*(OVERFLOW_LABEL_VALUE,) * len(values))
                found = self.children[key] = self.metric.labels(*values)
        return found


class _NoOpChild:
    def observe(self, value: float) -> None:
        return None

    def inc(self, amount: float = 1) -> None:
        return None


_NO_OP_CHILD = _NoOpChild()


class Timer:
    """What ``PrometheusService.timer`` returns: measures a block (``with``) or every call (decorator)."""

    def __init__(self, histogram: Any) -> None:
        self.histogram = histogram
        self._starts: list[float] = []

    def __enter__(self) -> Self:
        self._starts.append(time.perf_counter())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.histogram.observe(time.perf_counter() - self._starts.pop())

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        histogram = self.histogram

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - start)

        return timed


@implementer(metrics.IMetricsService)
class PrometheusService:
    """The metrics service of this plugin: one Prometheus metric per key, in ``registry``.

    ``registry`` is a ``prometheus_client.CollectorRegistry`` (``None`` in
    multiprocess mode, where the values go to ``PROMETHEUS_MULTIPROC_DIR``).
    A key used as two kinds (a timer and a counter), or with two sets of label
    names, keeps its first use; the other calls record nothing and log a
    warning once. No method raises.
    """

    def __init__(
        self,
        prefix: str = "",
        disabled_metrics: Sequence[str] = (),
        histogram_buckets: Sequence[float] | None = None,
        max_series_per_metric: int = 1000,
        registry: Any = None,
    ) -> None:
        self.prefix = clean_prefix(prefix)
        self.disabled_metrics = frozenset(metric_name(name).removeprefix(self.prefix) for name in disabled_metrics)
        self.histogram_buckets = tuple(histogram_buckets) if histogram_buckets else None
        self.max_series_per_metric = max_series_per_metric
        self.registry = registry
        self._series: dict[str, _Series] = {}
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    # --- IMetricsService ---------------------------------------------------------------------

    def timer(self, key: str, value: float | None = None, labels: Sequence[tuple[str, Any]] = ()) -> Any:
        histogram = self._child("histogram", key, labels)
        if value is not None:
            histogram.observe(value)
            return None
        return Timer(histogram)

    def count(self, key: str, count: int = 1, unique: Sequence[tuple[str, Any]] | str | None = None) -> None:
        if isinstance(unique, str):
            # Kinto's older form, "group.value" (or "value"): one label named after the group.
            group, _, value = unique.rpartition(".")
            unique = [(group or "group", value)]
        self._child("counter", key, unique or ()).inc(count)

    def observe(self, key: str, value: float, labels: Sequence[tuple[str, Any]] = ()) -> None:
        self._child("summary", key, labels).observe(value)

    # --- plumbing ----------------------------------------------------------------------------

    def _child(self, kind: str, key: str, labels: Sequence[tuple[str, Any]]) -> Any:
        name = metric_name(key)
        if name in self.disabled_metrics:
            return _NO_OP_CHILD
        full_name = self.prefix + name
        series = self._series.get(full_name)
        if series is None:
            series = self._create(kind, full_name, labels)
        if series is None or series.kind != kind:
            self._warn_once(full_name, f"Metric {full_name} is a {getattr(series, 'kind', '?')}, not a {kind}")
            return _NO_OP_CHILD
        child = series.child(labels)
        if child is None:
            self._warn_once(full_name, f"Metric {full_name} has the labels {series.labelnames}, not {labels!r}")
            return _NO_OP_CHILD
        return child

    def _create(self, kind: str, name: str, labels: Sequence[tuple[str, Any]]) -> _Series | None:
        labelnames = tuple(metric_name(label) for label, _ in labels)
        with self._lock:
            existing = self._series.get(name)
            if existing is not None:
                return existing
            options: dict[str, Any] = {"labelnames": labelnames, "registry": self.registry}
            try:
                if kind == "histogram":
                    if self.histogram_buckets:
                        options["buckets"] = self.histogram_buckets
                    metric = prometheus_client.Histogram(name, f"Histogram of {name}", **options)
                elif kind == "counter":
                    metric = prometheus_client.Counter(name, f"Counter of {name}", **options)
                else:
                    metric = prometheus_client.Summary(name, f"Summary of {name}", **options)
            except ValueError as error:  # a name the registry already holds, or refuses
                self._warn_once(name, f"Metric {name} cannot be created: {error}")
                return None
            series = _Series(kind, metric, labelnames, self.max_series_per_metric)
            self._series[name] = series
            return series

    def _warn_once(self, name: str, message: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            logger.warning(message)


def _multiprocess_folder() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def _registry_for_scrape(request: Any) -> Any:
    if _multiprocess_folder():
        from prometheus_client import multiprocess

        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_service(request.registry).registry


def prometheus_service(registry: Any) -> PrometheusService:
    """The application's :class:`PrometheusService` (the metrics service this plugin registered)."""
    return registry.getUtility(metrics.IMetricsService)


def metrics_view(request: Any) -> Response:
    """``GET /v1/__metrics__``: every metric in Prometheus's text format."""
    try:
        body = prometheus_client.generate_latest(_registry_for_scrape(request))
    except FileNotFoundError as error:  # the multiprocess folder vanished under us
        logger.warning("Prometheus metrics cannot be collected: %s", error)
        return Response(status=204)
    return Response(
        body=body, status=200, content_type=None, headerlist=[("Content-Type", prometheus_client.CONTENT_TYPE_LATEST)]
    )


def _read_settings(settings: dict[str, Any]) -> dict[str, Any]:
    try:
        buckets = [float(bound) for bound in as_list(settings["prometheus_histogram_buckets"])]
    except ValueError as error:
        raise ConfigurationError(f"kinto.prometheus_histogram_buckets: {error}") from error
    if buckets != sorted(buckets):
        raise ConfigurationError("kinto.prometheus_histogram_buckets: the bounds must be in increasing order")
    limit = settings["prometheus_max_series_per_metric"]
    if limit < 1:
        raise ConfigurationError("kinto.prometheus_max_series_per_metric: at least 1")
    prefix = settings["prometheus_prefix"]
    return {
        "prefix": settings["project_name"] if prefix is None else prefix,
        "disabled_metrics": as_list(settings["prometheus_disabled_metrics"]),
        "histogram_buckets": buckets,
        "max_series_per_metric": limit,
    }


def includeme(config: Any) -> None:
    if prometheus_client is None:
        raise ConfigurationError(
            "kinto.plugins.prometheus needs prometheus-client: pip install 'kinto-server[prometheus]'"
        )
    from kinto.core.initialization import load_default_settings

    load_default_settings(config, DEFAULT_SETTINGS)
    settings = config.get_settings()
    options = _read_settings(settings)
    if not settings["prometheus_created_metrics_enabled"]:
        prometheus_client.disable_created_metrics()

    registry = None
    if not _multiprocess_folder():
        registry = prometheus_client.CollectorRegistry()
        prometheus_client.ProcessCollector(registry=registry)
        prometheus_client.PlatformCollector(registry=registry)
        prometheus_client.GCCollector(registry=registry)
    service = PrometheusService(registry=registry, **options)

    config.add_api_capability(
        "prometheus",
        description="Prometheus metrics.",
        url=DOCS,
        prefix=service.prefix,
        disabled_metrics=options["disabled_metrics"],
    )
    config.add_route("prometheus_metrics", "/__metrics__")
    config.add_view(
        metrics_view, route_name="prometheus_metrics", request_method=("GET", "HEAD"), permission=NO_PERMISSION_REQUIRED
    )
    config.registry.registerUtility(service, metrics.IMetricsService)
