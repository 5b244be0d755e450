"""Conditional requests: ETags, ``If-Match``/``If-None-Match``, HTTP dates.

The version of an object, or of a list, is its timestamp in milliseconds: the
``ETag`` is that number quoted (``"1234"``) and ``Last-Modified`` the same
instant as an HTTP date. A client sends ``*`` or quoted timestamps in
``If-Match``/``If-None-Match``; ``evaluate`` says what the request then gets.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Mapping
from typing import Any

from pyramid import httpexceptions

from kinto.core import errors
from kinto.core.errors import ERRORS

__all__ = [
    "MAX_CLIENT_TIMESTAMP",
    "Outcome",
    "client_timestamp",
    "evaluate",
    "failed",
    "http_date",
    "not_modified",
    "parse_etags",
    "set_etag",
]

_ETAG = re.compile(r'^"([0-9]+)"$')

#: The latest timestamp a client may give: 9999-12-31T23:59:59.999Z (HTTP dates and 64-bit columns hold it).
MAX_CLIENT_TIMESTAMP = 253402300799999


class Outcome(enum.Enum):
    """What the preconditions of a request make of it."""

    PROCEED = "proceed"
    NOT_MODIFIED = "not modified"  # 304: a read whose ``If-None-Match`` matches
    FAILED = "failed"  # 412


def parse_etags(headers: Mapping[str, str], header: str) -> list[int] | str | None:
    """``*``, a list of timestamps, or None when absent; malformed values are a 400."""
    raw = headers.get(header)
    if raw is None:
        return None
    raw = raw.strip()
    if raw == "*":
        return "*"
    values = []
    for item in raw.split(","):
        match = _ETAG.match(item.strip())
        if match is None:
            raise errors.invalid(
                'Invalid value: expected "*" or a quoted timestamp like "1234"', location="header", name=header
            )
        values.append(int(match.group(1)))
    return values


def evaluate(headers: Mapping[str, str], method: str, current: int | None, exists: bool) -> Outcome:
    """The outcome of the request's preconditions against ``current``, the version of what exists."""
    if_match = parse_etags(headers, "If-Match")
    if_none_match = parse_etags(headers, "If-None-Match")
    if if_match is not None and not _matches(if_match, current, exists):
        return Outcome.FAILED
    if if_none_match is not None and _matches(if_none_match, current, exists):
        # A read naming a version the client has is a 304; ``*`` ("only if absent") fails every method
        # of an existing object or list, reads included, as in Kinto 26.5.0.
        read = method in ("GET", "HEAD") and if_none_match != "*"
        return Outcome.NOT_MODIFIED if read else Outcome.FAILED
    return Outcome.PROCEED


def _matches(etags: list[int] | str, current: int | None, exists: bool) -> bool:
    return exists and (etags == "*" or current in etags)


def not_modified(current: int | None) -> httpexceptions.HTTPException:
    """The 304 of a read whose version the client has (to be raised)."""
    response = httpexceptions.HTTPNotModified()
    set_etag(response, current)
    return response


def failed(current: int | None, exists: bool, shown: dict[str, Any] | None = None) -> httpexceptions.HTTPException:
    """The 412 (to be raised): the ETag of ``current`` to retry against, and ``shown``, the object
    as the client may see it (None: not shown)."""
    error = errors.http_error(
        httpexceptions.HTTPPreconditionFailed(),
        errno=ERRORS.MODIFIED_MEANWHILE,
        message="Resource was modified meanwhile" if exists else "Resource does not exist",
        details={"existing": shown} if shown is not None else None,
    )
    set_etag(error, current)
    return error


def client_timestamp(value: Any) -> int | None:
    """A ``last_modified`` sent by a client: kept if an integer (Kinto drops anything else), 400 if out of range."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if not 0 <= value <= MAX_CLIENT_TIMESTAMP:
        raise errors.invalid(
            f"Should be a timestamp between 0 and {MAX_CLIENT_TIMESTAMP}", location="body", name="data.last_modified"
        )
    return value


def set_etag(response: Any, timestamp: int | None) -> None:
    """``ETag`` and ``Last-Modified`` of the version ``timestamp`` (nothing when None)."""
    if timestamp is None:
        return
    response.headers["ETag"] = f'"{timestamp}"'
    response.headers["Last-Modified"] = http_date(timestamp)


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(timestamp_ms: int) -> str:
    """RFC 7231 IMF-fixdate of a millisecond timestamp (what ``formatdate(usegmt=True)`` writes, 4x faster)."""
    t = time.gmtime(timestamp_ms // 1000)
    return (
        f"{_WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
