"""Helpers shared by the tests of kinto-riak (a module name unique across the repository)."""

from __future__ import annotations

from kinto_riak.kv import Timeouts

TEST_TIMEOUTS = Timeouts(connect=1.0, read=2.0, pool=1.0)


class FakeClock:
    """A wall clock the tests move by hand, so TTL tests never sleep."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
