"""Fixtures: a Riak to talk to (the stand-in, or a real node when ``RIAK_URL`` is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from riak_helpers import TEST_TIMEOUTS, FakeClock

from kinto_riak.cache import RiakCache
from kinto_riak.kv import RiakKV
from kinto_riak.testing import RiakStandIn


@pytest.fixture
def standin() -> Iterator[RiakStandIn]:
    """A fresh stand-in, for tests that inspect the server or inject faults."""
    with RiakStandIn() as server:
        yield server


@pytest.fixture(scope="session")
def riak_url() -> Iterator[str]:
    """A real Riak when ``RIAK_URL`` is set, else a stand-in shared by the session."""
    real = os.environ.get("RIAK_URL")
    if real:
        yield real
        return
    with RiakStandIn() as server:
        yield server.url


@pytest.fixture
def bucket() -> str:
    """A bucket of its own per test, so tests on a shared Riak never see each other's keys."""
    return f"kinto_riak_tests_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_cache(riak_url: str, bucket: str, clock: FakeClock) -> Iterator[Callable[..., RiakCache]]:
    """Build caches on the test's bucket (prefix as given); every key they wrote is deleted afterwards."""
    built: list[RiakCache] = []

    def make(prefix: str = "", *, bucket_type: str = "default") -> RiakCache:
        kv = RiakKV(riak_url, bucket_type, bucket, pool_size=4, timeouts=TEST_TIMEOUTS)
        cache = RiakCache(kv, cache_prefix=prefix, clock=clock)
        built.append(cache)
        return cache

    yield make
    for cache in built:
        RiakCache(cache.kv).flush()


@pytest.fixture
def cache(make_cache: Callable[..., RiakCache]) -> RiakCache:
    return make_cache()


# Loaded machines (CI shares two cores) make data generation slow: speed is not what these tests check.
from hypothesis import HealthCheck as _HealthCheck
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("kinto", deadline=None, suppress_health_check=[_HealthCheck.too_slow])
_hypothesis_settings.load_profile("kinto")
