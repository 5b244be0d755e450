"""RiakCache behaves like a dict with expiry times, whatever the sequence of operations (Hypothesis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from riak_helpers import TEST_TIMEOUTS, FakeClock

from kinto_riak.cache import RiakCache
from kinto_riak.kv import RiakKV
from kinto_riak.testing import RiakStandIn

# Few keys, so that operations meet the same keys often.
keys = st.sampled_from(["a", "ab", "", "é"])
values = st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=3)
ttls = st.none() | st.integers(-1, 6) | st.floats(0.5, 6)
# Clock steps of the same order as the TTLs, so that keys expire between operations.
clock_steps = st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0]) | st.floats(0.1, 8)


class CacheModel(RuleBasedStateMachine):
    """The model: key -> (value, absolute expiry or None); the clock only moves forward."""

    url: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        kv = RiakKV(self.url, "default", f"model_{uuid.uuid4().hex[:8]}", timeouts=TEST_TIMEOUTS)
        self.cache = RiakCache(kv, cache_prefix="m_", clock=self.clock)
        self.neighbour = RiakCache(kv, cache_prefix="n_", clock=self.clock)
        self.neighbour.set("a", "never touched")
        self.model: dict[str, tuple[Any, float | None]] = {}

    def _live(self, key: str) -> tuple[Any, float | None] | None:
        held = self.model.get(key)
        if held is None or (held[1] is not None and held[1] <= self.clock.now):
            return None
        return held

    @rule(key=keys, value=values, ttl=ttls)
    def set(self, key: str, value: Any, ttl: float | None) -> None:
        self.cache.set(key, value, ttl)
        self.model[key] = (value, None if ttl is None else self.clock.now + ttl)

    @rule(key=keys)
    def get(self, key: str) -> None:
        held = self._live(key)
        assert self.cache.get(key) == (None if held is None else held[0])

    @rule(key=keys)
    def delete(self, key: str) -> None:
        held = self._live(key)
        assert self.cache.delete(key) == (None if held is None else held[0])
        self.model.pop(key, None)

    @rule(key=keys, ttl=st.integers(-1, 6) | st.floats(0.5, 6))
    def expire(self, key: str, ttl: float) -> None:
        self.cache.expire(key, ttl)
        held = self._live(key)
        if held is not None:
            self.model[key] = (held[0], self.clock.now + ttl)

    @rule(key=keys)
    def ttl(self, key: str) -> None:
        held = self._live(key)
        expected = -1 if held is None or held[1] is None else held[1] - self.clock.now
        assert self.cache.ttl(key) == pytest.approx(expected)

    @rule(prefix=st.sampled_from(["a", "", "b", "x"]))
    def delete_prefix(self, prefix: str) -> None:
        doomed = [key for key in self.model if key.startswith(prefix)]
        live = sum(1 for key in doomed if self._live(key) is not None)
        assert self.cache.delete_prefix(prefix) == live
        for key in doomed:
            del self.model[key]

    @rule()
    def flush(self) -> None:
        self.cache.flush()
        self.model.clear()

    @rule(seconds=clock_steps)
    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(key=keys, value=values, ttl=st.sampled_from([0.5, 1.0, 2.0]))
    def set_and_wait_exactly_the_ttl(self, key: str, value: Any, ttl: float) -> None:
        self.set(key, value, ttl)
        self.clock.advance(ttl)
        assert self.cache.get(key) is None

    @invariant()
    def the_neighbouring_prefix_is_untouched(self) -> None:
        assert self.neighbour.get("a") == "never touched"

    def teardown(self) -> None:
        RiakCache(self.cache.kv).flush()


@pytest.fixture(scope="module", autouse=True)
def model_riak() -> Iterator[None]:
    with RiakStandIn(allow_mult=True) as server:
        CacheModel.url = server.url
        yield


TestCacheModel = CacheModel.TestCase
TestCacheModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
