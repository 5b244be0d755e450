"""Structured logging: the ``Renderer`` contract and the two renderers shipped.

Every log event is a dict (structlog's ``event_dict``) that a renderer turns
into one line. The setting ``kinto.logging_renderer`` names the renderer: a
``Renderer`` subclass (built once as ``Cls(settings)``) or any callable with
the same call signature. A renderer that raises never breaks a request: the
event falls back to the classic line and the failure is reported once.
"""

from __future__ import annotations

import abc
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import structlog

__all__ = [
    "Renderer",
    "ClassicLogRenderer",
    "JsonLogRenderer",
    "SafeRenderer",
    "REQUEST_SUMMARY_EVENT",
    "REQUEST_SUMMARY_FIELDS",
    "get_logger",
    "setup_logging",
]

#: The event name of the one line logged per request.
REQUEST_SUMMARY_EVENT = "request.summary"
#: The fields every request summary event carries (``t`` is in milliseconds).
REQUEST_SUMMARY_FIELDS = ("method", "path", "code", "t", "uid", "errno", "agent", "lang")

RenderCallable = Callable[[Any, str, MutableMapping[str, Any]], str]

_SYSLOG_SEVERITY = {"critical": 2, "exception": 3, "error": 3, "warning": 4, "warn": 4, "info": 6, "debug": 7}


class Renderer(abc.ABC):
    """Turns one structured log event into the line to emit.

    Built once per application as ``Cls(settings)`` where ``settings`` is the
    application's settings mapping; a renderer reads its own options there and
    applies its own defaults (no ``includeme`` runs for it). Called as a
    structlog processor, last in the chain: ``renderer(logger, method_name,
    event_dict) -> str``. ``method_name`` is the log level name (``"info"``);
    ``event_dict["event"]`` is the event name or message. It must return a
    string and should not mutate ``event_dict`` in a way callers can see.
    """

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: Mapping[str, Any] = settings or {}

    @abc.abstractmethod
    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        """Return the rendered line for ``event_dict``."""


def _format_value(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value)
    return json.dumps(value, default=str, separators=(",", ":"))


class ClassicLogRenderer(Renderer):
    """Human-readable lines.

    A request summary reads ``GET /v1/records 200 (3 ms) request.summary
    agent=curl errno=0 lang=None uid=basicauth:ab12``; other events read
    ``event-name key=value ...`` with keys sorted.
    """

    _hidden = frozenset({"event", "timestamp", "level", "logger"})

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        event = str(event_dict.get("event", ""))
        if event == REQUEST_SUMMARY_EVENT:
            head = "{} {}{} {} ({} ms) {}".format(
                event_dict.get("method", "-"),
                event_dict.get("path", "-"),
                ("?" + event_dict["querystring"]) if event_dict.get("querystring") else "",
                event_dict.get("code", "-"),
                event_dict.get("t", "-"),
                event,
            )
            hidden = self._hidden | {"method", "path", "code", "t", "querystring"}
        else:
            head = event
            hidden = self._hidden
        extra = " ".join(f"{key}={_format_value(event_dict[key])}" for key in sorted(event_dict) if key not in hidden)
        return f"{head} {extra}" if extra else head


class JsonLogRenderer(Renderer):
    """One JSON object per line, in the MozLog envelope (``Timestamp`` in ns,
    ``Severity`` as syslog level, the event's data under ``Fields``).

    Options: ``kinto.logging_logger_name`` (the ``Logger`` field; defaults to
    the project name).
    """

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.logger_name = str(
            self.settings.get("logging_logger_name") or self.settings.get("project_name") or "kinto"
        )

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        fields = {key: value for key, value in event_dict.items() if key not in ("event", "timestamp", "level")}
        fields["msg"] = event_dict.get("event", "")
        envelope = {
            "Timestamp": time.time_ns(),
            "Logger": self.logger_name,
            "Type": str(event_dict.get("event", method_name)),
            "Hostname": self.hostname,
            "EnvVersion": "2.0",
            "Severity": _SYSLOG_SEVERITY.get(method_name, 6),
            "Pid": self.pid,
            "Fields": fields,
        }
        return json.dumps(envelope, default=str, separators=(",", ":"))


class SafeRenderer:
    """Wraps a renderer so that its failures never reach the caller.

    On an exception (or a non-string result) the event is rendered by the
    classic renderer instead; the first failure is reported once on stderr's
    logger, and ``failures`` counts them all.
    """

    def __init__(self, renderer: RenderCallable, fallback: RenderCallable | None = None) -> None:
        self.renderer = renderer
        self.fallback = fallback or ClassicLogRenderer()
        self.failures = 0
        self._lock = threading.Lock()

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        try:
            line = self.renderer(logger, method_name, dict(event_dict))
            if isinstance(line, (str, bytes)):
                return line if isinstance(line, str) else line.decode("utf-8", "replace")
            raise TypeError(f"renderer returned {type(line).__name__}, not str")
        except Exception as error:  # a broken renderer must never break a request
            with self._lock:
                self.failures += 1
                first = self.failures == 1
            if first:
                logging.getLogger("kinto.core.logs").warning(
                    "Log renderer %r failed (%s); falling back to the classic renderer", self.renderer, error
                )
            return self.fallback(logger, method_name, event_dict)


def build_renderer(renderer: Any, settings: Mapping[str, Any]) -> RenderCallable:
    """Instantiate ``renderer`` if it is a class, else use the callable as is."""
    if isinstance(renderer, type):
        return renderer(settings)
    if callable(renderer):
        return renderer
    raise TypeError(f"{renderer!r} is neither a Renderer class nor a callable")


def setup_logging(renderer: RenderCallable) -> SafeRenderer:
    """Route structlog events through ``renderer`` into the standard library's
    ``logging``, so the ini's handlers decide where lines go."""
    safe = renderer if isinstance(renderer, SafeRenderer) else SafeRenderer(renderer)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            safe,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return safe


def get_logger(name: str = "kinto") -> Any:
    """A structlog logger bound to the standard library logger ``name``."""
    return structlog.get_logger(name)
