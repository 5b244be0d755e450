"""Structured logging: the ``Renderer`` contract and the two renderers shipped.

Every log event is a dict (structlog's ``event_dict``) that a renderer turns
into one line. The setting ``kinto.logging_renderer`` names the renderer: a
``Renderer`` subclass (built once as ``Cls(settings)``) or any callable with
the same call signature. A renderer that raises never breaks a request: the
event falls back to the classic line and the failure is reported once.
"""

from __future__ import annotations

import abc
import datetime
import json
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

import structlog

from kinto.core.settings import typed_setting

__all__ = [
    "REQUEST_ID_HEADER",
    "REQUEST_SUMMARY_EVENT",
    "REQUEST_SUMMARY_FIELDS",
    "REQUEST_SUMMARY_LOGGER",
    "ClassicLogRenderer",
    "JsonLogRenderer",
    "Renderer",
    "SafeRenderer",
    "get_logger",
    "redact_query",
    "setup_logging",
]

#: The event name of the one line logged per request.
REQUEST_SUMMARY_EVENT = "request.summary"
#: The standard library logger the summary goes through (Kinto's name, for logging configurations).
REQUEST_SUMMARY_LOGGER = "request.summary"
#: The request header whose value is the summary's ``rid`` (a UUID4 is drawn when absent), as in Kinto.
REQUEST_ID_HEADER = "X-Request-Id"
#: The fields every request summary event carries: Kinto's (``t`` in milliseconds, ``time`` the
#: local ISO time, ``rid`` the request id, ``authn_type`` the policy that authenticated the user)
#: and ``uid`` as ``<policy>:<id>``.
REQUEST_SUMMARY_FIELDS = ("method", "path", "code", "t", "time", "rid", "uid", "authn_type", "errno", "agent", "lang")

RenderCallable = Callable[[Any, str, MutableMapping[str, Any]], str]

#: What a redacted query parameter's value becomes in the request summary.
REDACTED = "[redacted]"


def redact_query(query_string: str, names: frozenset[str]) -> str:
    """``query_string`` with the values of the parameters ``names`` (lower case) replaced.

    Names are compared decoded and case-insensitively, so ``%63ode=`` or
    ``CODE=`` hide their value as ``code=`` does; everything else is kept as sent.
    """
    if not names or not query_string:
        return query_string
    fields = query_string.split("&")
    for index, field in enumerate(fields):
        name, equals, _ = field.partition("=")
        if unquote_plus(name).lower() in names:
            fields[index] = f"{name}={REDACTED}" if equals else name
    return "&".join(fields)


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


#: Containers nested deeper than this are cut when an event has to be sanitised.
_MAX_DEPTH = 100
#: Integers longer than this print as a marker: Python refuses to turn ints of
#: more than 4,300 digits into text (``sys.set_int_max_str_digits``).
_MAX_INT_BITS = 10_000
_CIRCULAR = "<circular reference>"
_TOO_DEEP = "<nested too deep>"


def _safe_str(value: Any) -> str:
    """``str(value)``, or the best text we can get when that raises."""
    try:
        return str(value)
    except Exception:
        return _fallback_text(value)


def _fallback_text(value: Any) -> str:
    if isinstance(value, int):
        return f"<int of {value.bit_length()} bits>"
    try:
        return repr(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _text(value: Any) -> str:
    """``value`` as text fit for one log line: control characters and lone
    surrogates escaped, so a client's path cannot forge or break lines."""
    text = value if isinstance(value, str) else _safe_str(value)
    return text if text.isprintable() else json.dumps(text)[1:-1]


def _json_default(value: Any) -> Any:
    """What ``json.dumps`` writes for a value it does not know."""
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, BaseException):
        try:
            return repr(value)
        except Exception:
            return _safe_str(value)
    return _safe_str(value)


def _non_finite_name(value: float) -> str:
    """The name Python's json module writes for NaN and the infinities."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _sanitised(value: Any, depth: int = 0, ancestors: set[int] | None = None) -> Any:
    """A copy of ``value`` that ``json.dumps(..., allow_nan=False)`` accepts:
    string keys, finite floats, printable ints, no cycles, bounded depth."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= _MAX_INT_BITS else _safe_str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite_name(value)
    if not isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return _json_default(value)
    if depth >= _MAX_DEPTH:
        return _TOO_DEEP
    ancestors = set() if ancestors is None else ancestors
    if id(value) in ancestors:
        return _CIRCULAR
    ancestors.add(id(value))
    try:
        if isinstance(value, Mapping):
            return {
                key if isinstance(key, str) else _safe_str(key): _sanitised(item, depth + 1, ancestors)
                for key, item in value.items()
            }
        return [_sanitised(item, depth + 1, ancestors) for item in value]
    finally:
        ancestors.discard(id(value))


def _dumps(value: Any, allow_nan: bool = True) -> str:
    """Compact JSON for ``value``; never raises.

    Plain values take ``json.dumps`` directly; only when it refuses (a tuple
    key, a cycle, NaN with ``allow_nan=False``, an int too long to print, too
    deep a nesting) is the value walked and sanitised first.
    """
    try:
        return json.dumps(value, default=_json_default, separators=(",", ":"), allow_nan=allow_nan)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return json.dumps(_sanitised(value), default=_json_default, separators=(",", ":"), allow_nan=allow_nan)
    except Exception:
        return json.dumps(f"<unrenderable {type(value).__name__}>")


def _format_value(value: Any) -> str:
    """One ``key=value`` value of the classic line: plain words bare, the rest as JSON."""
    kind = type(value)
    if kind is str:
        return value if value and " " not in value and value.isprintable() else _dumps(value)
    if kind is int and value.bit_length() <= _MAX_INT_BITS:
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return _format_value(str.__str__(value))
    return _dumps(value)


class ClassicLogRenderer(Renderer):
    """Human-readable lines.

    A request summary reads ``GET /v1/records 200 (3 ms) request.summary
    agent=curl authn_type=basicauth errno=0 lang=null rid=4f1c... time=2026-12-07T10:00:00.123000
    uid=basicauth:ab12``; other events read
    ``event-name key=value ...`` with keys sorted. Plain words print bare,
    other values as compact JSON (``repr``-like text for what JSON cannot
    hold, a marker for cycles); control characters are always escaped, so
    one event stays one line.
    """

    _hidden = frozenset({"event", "timestamp", "level", "logger"})
    _summary_hidden = _hidden | {"method", "path", "code", "t", "querystring"}

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        event = _text(event_dict.get("event", ""))
        if event == REQUEST_SUMMARY_EVENT:
            head = self._summary_head(event_dict)
            hidden = self._summary_hidden
        else:
            head = event
            hidden = self._hidden
        extra = " ".join(
            f"{_text(key)}={_format_value(event_dict[key])}" for key in _sorted_keys(event_dict) if key not in hidden
        )
        return f"{head} {extra}" if extra else head

    @staticmethod
    def _summary_head(event_dict: Mapping[str, Any]) -> str:
        querystring = event_dict.get("querystring")
        absent = querystring is None or (isinstance(querystring, str) and not querystring)
        query = "" if absent else "?" + _text(querystring)
        return "{} {}{} {} ({} ms) {}".format(
            _text(event_dict.get("method", "-")),
            _text(event_dict.get("path", "-")),
            query,
            _text(event_dict.get("code", "-")),
            _text(event_dict.get("t", "-")),
            REQUEST_SUMMARY_EVENT,
        )


def _sorted_keys(event_dict: Mapping[Any, Any]) -> list[Any]:
    """The event's keys sorted; keys of mixed types sort by their text."""
    try:
        return sorted(event_dict)
    except TypeError:
        return sorted(event_dict, key=_safe_str)


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
        name, project = (typed_setting(self.settings, key) for key in ("logging_logger_name", "project_name"))
        self.logger_name = name or project or "kinto"

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        fields = {key: value for key, value in event_dict.items() if key not in ("event", "timestamp", "level")}
        fields["msg"] = event_dict.get("event", "")
        envelope = {
            "Timestamp": time.time_ns(),
            "Logger": self.logger_name,
            "Type": _safe_str(event_dict.get("event", method_name)),
            "Hostname": self.hostname,
            "EnvVersion": "2.0",
            "Severity": _SYSLOG_SEVERITY.get(method_name, 6),
            "Pid": self.pid,
            "Fields": fields,
        }
        # allow_nan=False: NaN and infinities are not JSON; the fallback writes them as strings.
        return _dumps(envelope, allow_nan=False)


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
        except Exception as error:
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
