"""The timestamp rule shared by the backends that compute stamps in Python."""

from __future__ import annotations

import time

__all__ = ["next_timestamp", "now_ms"]


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def next_timestamp(current: int | None, requested: int | None) -> int:
    """The next stamp of a collection whose timestamp is ``current``.

    ``requested`` (a client-given ``last_modified``) wins only when beyond
    ``current``; otherwise the stamp is ``max(now, current + 1)``, so stamps
    stay unique and strictly increasing even within one millisecond.
    """
    current = current or 0
    if requested is not None and requested > current:
        return requested
    return max(now_ms(), current + 1)
