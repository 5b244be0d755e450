import pytest
from pyramid.config import Configurator

from kinto.core.cache.memory import Cache, load_from_config
from kinto.core.testing.cache import CacheContract
from kinto.core.testing.plugin import BackendFactory


class TestMemoryCache(CacheContract):
    @pytest.fixture
    def backend_factory(self):
        return BackendFactory("kinto.core.cache.memory", kind="cache")


def test_load_from_config_reads_prefix_and_size_in_either_spelling():
    cache = load_from_config(Configurator(settings={"kinto.cache_prefix": "p:", "cache_max_size_bytes": "100"}))
    assert cache.prefix == "p:"
    assert cache.max_size_bytes == 100


def test_the_oldest_keys_are_evicted_past_the_size_limit():
    cache = Cache(cache_max_size_bytes=200)
    for index in range(20):
        cache.set(f"key-{index}", "x" * 20)
    assert cache.get("key-0") is None
    assert cache.get("key-19") == "x" * 20


def test_a_fake_clock_drives_expiry():
    now = [1000.0]
    cache = Cache(clock=lambda: now[0])
    cache.set("key", 1, 10)
    now[0] += 9.5
    assert cache.ttl("key") == pytest.approx(0.5)
    now[0] += 0.5
    assert cache.get("key") is None
