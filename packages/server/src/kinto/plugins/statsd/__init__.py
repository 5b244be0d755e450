"""StatsD metrics over UDP (``pip install 'kinto-server[statsd]'``).

Enabled as Kinto's is::

    kinto.includes = kinto.plugins.statsd
    kinto.statsd_url = udp://localhost:8125

The plugin registers a metrics service (:class:`kinto.core.metrics.IMetricsService`)
built on the ``statsd`` package, so everything the core reports (see
:mod:`kinto.core.metrics`) is sent as StatsD packets: ``timer`` as timings
(``|ms``), ``count`` as counters (``|c``), or as sets (``|s``) when labels are
given (the number of distinct label sets is what StatsD shows, e.g. distinct
users), ``observe`` as gauges (``|g``). StatsD has no labels: they are folded into
the key, ``request_duration_seconds.method.get.endpoint.bucket-object``, with
colons removed from values (Telegraf reads them as separators).

Settings (Kinto's names): ``statsd_url`` (``udp://host:port``, required),
``statsd_prefix`` (``kinto.core``; used only when the project name is empty,
as in Kinto: a server's keys start with ``kinto.``), ``statsd_backend`` (the
module whose ``load_from_config(config)`` builds the service; ``kinto.core.statsd``,
Kinto's default, means this one).

Packets are fire-and-forget: a StatsD server that is down or unreachable loses
measurements, never requests.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from kinto.core import metrics
from pyramid.exceptions import ConfigurationError
from zope.interface import implementer

try:
    import statsd as statsd_module
except ImportError:  # pragma: no cover - the extra is not installed
    statsd_module = None  # type: ignore[assignment]

__all__ = ["DEFAULT_SETTINGS", "StatsDService", "includeme", "load_from_config"]

#: The plugin's settings (Kinto's names) and their defaults.
DEFAULT_SETTINGS: dict[str, Any] = {
    "statsd_backend": "kinto.plugins.statsd",
    "statsd_prefix": "kinto.core",
    "statsd_url": None,
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "statsd_backend": "the module building the StatsD client",
    "statsd_prefix": "prefix of every metric name",
    "statsd_url": "the StatsD server (`udp://host:8125`); none: nothing sent",
}

#: Kinto's module name for the default backend, which is this module here.
_KINTO_DEFAULT_BACKEND = "kinto.core.statsd"


def sanitize(value: Any) -> Any:
    """A label value as StatsD keys can carry it: without ``:`` (Telegraf splits on it)."""
    return value.replace(":", "") if isinstance(value, str) else value


def _folded(key: str, labels: Any) -> str:
    return key + "".join(f".{name}.{sanitize(value)}" for name, value in labels)


@implementer(metrics.IMetricsService)
class StatsDService:
    """Sends every measurement to the StatsD server at ``host:port``, keys prefixed with ``prefix.``."""

    def __init__(self, host: str, port: int, prefix: str) -> None:
        self._client = statsd_module.StatsClient(host, port, prefix=prefix or None)

    def timer(self, key: str, value: float | None = None, labels: Any = ()) -> Any:
        key = _folded(key, labels)
        if value is not None:
            self._client.timing(key, timedelta(seconds=value))
            return None
        return self._client.timer(key)

    def count(self, key: str, count: int = 1, unique: Any = None) -> None:
        if unique is None:
            self._client.incr(key, count)
            return
        if not isinstance(unique, str):
            unique = ".".join(f"{name}.{sanitize(value)}" for name, value in unique)
        self._client.set(key, unique)

    def observe(self, key: str, value: float, labels: Any = ()) -> None:
        self._client.gauge(key, sanitize(value))


def _address(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise ConfigurationError(f"kinto.statsd_url = {url}: {error}") from error
    if parts.scheme not in ("udp", "") or not host:
        raise ConfigurationError(f"kinto.statsd_url = {url}: expected udp://host:port")
    return host, port or 8125


def load_from_config(config: Any) -> StatsDService:
    """The StatsD service the settings describe (``statsd_url``, ``statsd_prefix``, ``project_name``)."""
    if statsd_module is None:
        raise ConfigurationError("kinto.plugins.statsd needs the statsd package: pip install 'kinto-server[statsd]'")
    settings = config.get_settings()
    url = settings.get("statsd_url")
    if not url:
        raise ConfigurationError("kinto.plugins.statsd needs kinto.statsd_url (udp://host:port)")
    host, port = _address(str(url))
    prefix = settings.get("project_name") or settings.get("statsd_prefix") or ""
    try:
        return StatsDService(host, port, prefix)
    except OSError as error:  # the host name does not resolve
        raise ConfigurationError(f"kinto.statsd_url = {url}: {error}") from error


def includeme(config: Any) -> None:
    from kinto.core.initialization import load_default_settings

    load_default_settings(config, DEFAULT_SETTINGS)
    settings = config.get_settings()
    name = settings["statsd_backend"]
    loader = load_from_config if name in (_KINTO_DEFAULT_BACKEND, __name__) else None
    if loader is None:
        try:
            loader = config.maybe_dotted(name).load_from_config
        except (ImportError, AttributeError) as error:
            raise ConfigurationError(f"kinto.statsd_backend = {name}: {error}") from error
    config.registry.registerUtility(loader(config), metrics.IMetricsService)
