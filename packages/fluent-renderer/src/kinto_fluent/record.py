"""Turning a structlog event into a Fluent record: a map of msgpack-safe values.

The record holds every field of the event (for a request summary: ``method``,
``path``, ``code``, ``t``, ``uid``, ``errno``, ``agent``, ``lang``,
``querystring``), plus ``event`` (the event name or message), ``level``,
``logger`` (the standard library logger's name), ``timestamp`` (ISO 8601, UTC,
unless the event already has one), ``hostname`` and ``pid``.
"""

from __future__ import annotations

import datetime
import os
import reprlib
import socket
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "build_record", "plain_text_fields", "to_msgpack_safe", "with_encodable_text"]

#: Nesting deeper than this is sent as a shortened repr, so no event can make packing recurse without end.
MAX_DEPTH = 32

_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1

_HOSTNAME = socket.gethostname()
# Exact types msgpack packs as they are: most fields of most events, checked without a call.
_PLAIN = frozenset({str, float, bool, type(None)})


def build_record(logger: Any, method_name: str, event_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The record to send for one event, as structlog hands it to a renderer; ``event_dict`` is left untouched."""
    record = {
        key if type(key) is str else str(key): value if type(value) in _PLAIN else to_msgpack_safe(value)
        for key, value in event_dict.items()
    }
    record["event"] = to_msgpack_safe(event_dict.get("event", ""))
    record["level"] = str(event_dict.get("level") or method_name)
    record["logger"] = str(event_dict.get("logger") or getattr(logger, "name", "") or "")
    record.setdefault("timestamp", datetime.datetime.now(datetime.timezone.utc).isoformat())
    record["hostname"] = _HOSTNAME
    record["pid"] = os.getpid()
    return record


def to_msgpack_safe(value: Any, depth: int = 0) -> Any:
    """``value`` made of the types msgpack packs as JSON-like data (str keys, lists, maps, numbers, text, None).

    Anything else becomes its text: bytes are decoded (UTF-8, replacing errors),
    dates and times use ISO 8601, integers outside 64 bits and other objects use ``str``.
    """
    if value is None or isinstance(value, (bool, float, str)):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _UINT64_MAX else str(value)
    if depth >= MAX_DEPTH:
        return reprlib.repr(value)
    if isinstance(value, Mapping):
        return {str(key): to_msgpack_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_msgpack_safe(item, depth + 1) for item in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def with_encodable_text(value: Any) -> Any:
    """``value`` (made by ``to_msgpack_safe``) with every string encodable as UTF-8: lone surrogates escaped."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {with_encodable_text(key): with_encodable_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_encodable_text(item) for item in value]
    return value


def plain_text_fields(event_dict: Mapping[str, Any]) -> dict[str, Any]:
    """``event_dict`` with text keys and text values: each value that is not a string becomes a short repr."""
    return {str(key): value if isinstance(value, str) else reprlib.repr(value) for key, value in event_dict.items()}
