"""The renderer's settings: one table of defaults, read into typed options.

No ``includeme`` runs for a renderer, so the renderer applies these defaults
itself, with the core's rule (``kinto.core.settings.apply_defaults``): values
coerced to the default's type, ``KINTO_FLUENT_TAG`` overriding
``kinto_fluent.tag`` and so on. The host has one more fallback, the
``FLUENTD_HOST`` environment variable, used when no setting names a host.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kinto.core.settings import apply_defaults

__all__ = ["DEFAULT_SETTINGS", "FluentOptions", "read_options"]

#: Used when neither ``kinto_fluent.host`` (nor its environment form) nor ``FLUENTD_HOST`` is given.
DEFAULT_HOST = "localhost"

DEFAULT_SETTINGS: dict[str, Any] = {
    # The Fluentd tag of every record.
    "kinto_fluent.tag": "kinto",
    # Empty: ``FLUENTD_HOST`` from the environment, else localhost. ``unix:///path`` for a socket.
    "kinto_fluent.host": "",
    "kinto_fluent.port": 24224,
    # Socket connect and send timeout; only the sender thread ever waits on it.
    "kinto_fluent.timeout_seconds": 3.0,
    # Events waiting for the sender thread; when full, the oldest is dropped (and counted).
    "kinto_fluent.queue_size": 1000,
    # Bytes kept for retry while Fluentd is unreachable; past it, the kept events are dropped (and counted).
    "kinto_fluent.buffer_size_bytes": 1024 * 1024,
    # How often the sender retries delivering kept events when no new event arrives.
    "kinto_fluent.retry_interval_seconds": 1.0,
    # Record times as Fluent EventTime (nanoseconds); false sends whole seconds, for Fluentd < 0.14.
    "kinto_fluent.nanosecond_precision": True,
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "kinto_fluent.tag": "the Fluentd tag of every record",
    "kinto_fluent.host": "Fluentd's host, or `unix:///path` (empty: `FLUENTD_HOST`, else localhost)",
    "kinto_fluent.port": "Fluentd's forward port",
    "kinto_fluent.timeout_seconds": "connect and send timeout (only the sender thread waits on it)",
    "kinto_fluent.queue_size": "events waiting for the sender thread; when full, the oldest is dropped",
    "kinto_fluent.buffer_size_bytes": "bytes of events kept while Fluentd is unreachable, the oldest dropped past it",
    "kinto_fluent.retry_interval_seconds": "how often delivery is retried while Fluentd is unreachable",
    "kinto_fluent.nanosecond_precision": "send times in nanoseconds; false: whole seconds (Fluentd before 0.14)",
}


@dataclass(frozen=True)
class FluentOptions:
    tag: str
    host: str
    port: int
    timeout_seconds: float
    queue_size: int
    buffer_size_bytes: int
    retry_interval_seconds: float
    nanosecond_precision: bool


def read_options(settings: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> FluentOptions:
    """Read the renderer's options from the application ``settings`` and ``environ`` (default ``os.environ``).

    ``settings`` is not modified. Raises ``pyramid.exceptions.ConfigurationError``
    naming the key when a value cannot be coerced (``kinto_fluent.port = abc``),
    and ``ValueError`` when a size or interval is not positive.
    """
    environ = os.environ if environ is None else environ
    values = dict(settings)
    apply_defaults(values, DEFAULT_SETTINGS, environ)
    options = FluentOptions(
        tag=values["kinto_fluent.tag"],
        host=values["kinto_fluent.host"] or environ.get("FLUENTD_HOST") or DEFAULT_HOST,
        port=values["kinto_fluent.port"],
        timeout_seconds=values["kinto_fluent.timeout_seconds"],
        queue_size=values["kinto_fluent.queue_size"],
        buffer_size_bytes=values["kinto_fluent.buffer_size_bytes"],
        retry_interval_seconds=values["kinto_fluent.retry_interval_seconds"],
        nanosecond_precision=values["kinto_fluent.nanosecond_precision"],
    )
    _check_positive(options)
    return options


def _check_positive(options: FluentOptions) -> None:
    for name in ("port", "timeout_seconds", "queue_size", "buffer_size_bytes", "retry_interval_seconds"):
        if getattr(options, name) <= 0:
            raise ValueError(f"Setting 'kinto_fluent.{name}' must be positive, not {getattr(options, name)!r}")
