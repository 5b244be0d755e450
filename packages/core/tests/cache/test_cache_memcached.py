import socket

import pytest
from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core.cache import CacheBackendError
from kinto.core.testing import make_app
from kinto.core.testing.cache import CacheContract
from kinto.core.testing.plugin import BackendFactory

from .conftest import free_port, import_driver, memcached_server

pymemcache = import_driver("pymemcache", "memcached", "KINTO_TEST_MEMCACHED_URL")

from kinto.core.cache.memcached import Cache, load_from_config  # noqa: E402 -- after the skip


@pytest.fixture(scope="module")
def memcached_factory(memcached_host):
    factory = BackendFactory("kinto.core.cache.memcached", {"cache_hosts": memcached_host}, kind="cache")
    yield factory
    factory.close()


class TestMemcachedCache(CacheContract):
    @pytest.fixture
    def backend_factory(self, memcached_factory):
        return memcached_factory


def _raw(host):
    return pymemcache.Client(host, default_noreply=False)


def _cache(hosts, **settings):
    return load_from_config(Configurator(settings={"cache_hosts": hosts, **settings}))


def _items(host):
    return int(_raw(host).stats()[b"curr_items"])


def test_flush_leaves_the_items_of_other_applications_on_the_server(memcached_host):
    raw = _raw(memcached_host)
    raw.set("other-app-session", b"kept")
    cache = _cache(memcached_host, cache_prefix="app:")
    cache.set("key", 1)
    cache.flush()
    assert cache.get("key") is None
    assert raw.get("other-app-session") == b"kept"


def test_a_flushed_value_stays_gone_when_memcached_evicts_the_generation(memcached_host):
    cache = _cache(memcached_host, cache_prefix="evicted:")
    cache.set("key", "before the flush")
    cache.flush()
    _raw(memcached_host).delete(cache._generation_key)  # what an LRU eviction or a restart does
    assert cache.get("key") is None
    cache.set("key", "after")
    assert cache.get("key") == "after"


def test_keys_memcached_would_refuse_are_stored_under_a_digest(memcached_host):
    cache = _cache(memcached_host)
    for key in ("with spaces", "x" * 300, "\r\nflush_all\r\n", "cl\u00e9"):
        cache.set(key, key)
        assert cache.get(key) == key


def test_an_item_memcached_reads_belongs_to_the_key_asked_for(memcached_host):
    cache = _cache(memcached_host, cache_prefix="collide:")
    cache.set("mine", "mine")
    _raw(memcached_host).set(cache._location("theirs"), _raw(memcached_host).get(cache._location("mine")))
    assert cache.get("theirs") is None  # an item written for another key (as a digest collision would)
    assert cache.get("mine") == "mine"


def _memcached_ttl(host, location):
    """The seconds memcached itself will keep an item (-1: until evicted), by its meta get."""
    reply = _raw(host).raw_command(f"mg {location} t", b"\r\n")
    return int(reply.split(b" t", 1)[1])


def test_memcached_is_told_to_drop_an_item_a_second_after_its_ttl(memcached_host):
    cache = _cache(memcached_host)
    cache.set("short", 1, 0.5)
    cache.set("forever", 1)
    cache.set("long", 1, 40 * 24 * 3600)  # beyond 30 days memcached would read a date: left to our check
    assert _memcached_ttl(memcached_host, cache._location("short")) in (1, 2)
    assert _memcached_ttl(memcached_host, cache._location("forever")) == -1
    assert _memcached_ttl(memcached_host, cache._location("long")) == -1
    assert cache.ttl("long") > 30 * 24 * 3600
    cache.expire("forever", 10)
    assert _memcached_ttl(memcached_host, cache._location("forever")) in (10, 11)


def test_a_value_over_the_item_size_is_not_kept_and_the_old_one_is_dropped(memcached_host):
    cache = _cache(memcached_host)
    cache.set("key", "old")
    cache.set("key", "x" * 2_000_000)  # memcached's default item size is 1 MB
    assert cache.get("key") is None


def test_keys_spread_over_several_servers_and_flush_reaches_all(memcached_host):
    with memcached_server() as second:
        cache = _cache(f"{memcached_host} {second}", cache_prefix="spread:")
        before = (_items(memcached_host), _items(second))
        for index in range(40):
            cache.set(f"key-{index}", index)
        assert _items(memcached_host) > before[0]
        assert _items(second) > before[1]
        assert all(cache.get(f"key-{index}") == index for index in range(40))
        cache.flush()
        assert [cache.get(f"key-{index}") for index in range(40)] == [None] * 40
        assert cache.heartbeat() is True


def test_a_server_down_fails_its_keys_instead_of_moving_them(memcached_host):
    with memcached_server() as second:
        cache = _cache(f"{memcached_host} {second}", cache_prefix="moving:", cache_connect_timeout=1)
        for index in range(20):
            cache.set(f"key-{index}", index)
    # The second server is stopped: the keys it held are errors, never misses served from the other one.
    outcomes = []
    for index in range(20):
        try:
            outcomes.append(cache.get(f"key-{index}"))
        except CacheBackendError:
            outcomes.append("error")
    assert "error" in outcomes
    assert None not in outcomes
    assert cache.heartbeat() is False


def test_load_from_config_reads_hosts_pool_and_timeouts(memcached_host):
    settings = {
        "kinto.cache_hosts": "127.0.0.1:1, 127.0.0.1:2",
        "cache_prefix": "p:",
        "kinto.cache_pool_size": "4",
        "cache_connect_timeout": "0.5",
        "cache_socket_timeout": "0.25",
    }
    cache = load_from_config(Configurator(settings=settings))
    assert isinstance(cache, Cache)
    assert cache.prefix == "p:"
    assert cache.servers.hosts == ["127.0.0.1:1", "127.0.0.1:2"]
    client = cache.servers.client_for("anything")
    assert client.client_pool.max_size == 4
    assert (client.connect_timeout, client.timeout) == (0.5, 0.25)


def test_caches_of_one_application_share_their_servers(memcached_host):
    config = Configurator(settings={"cache_hosts": memcached_host})
    assert load_from_config(config).servers is load_from_config(config).servers


@pytest.fixture
def closed_port():
    return free_port()


CALLS = [
    ("get", lambda cache: cache.get("key")),
    ("set", lambda cache: cache.set("key", "value", 10)),
    ("delete", lambda cache: cache.delete("key")),
    ("ttl", lambda cache: cache.ttl("key")),
    ("expire", lambda cache: cache.expire("key", 10)),
    ("flush", lambda cache: cache.flush()),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_every_operation_raises_a_backend_error_naming_the_server_when_memcached_is_down(closed_port, name, call):
    cache = _cache(f"127.0.0.1:{closed_port}", cache_connect_timeout=1)
    with pytest.raises(CacheBackendError, match=f"127.0.0.1:{closed_port}"):
        call(cache)
    assert cache.heartbeat() is False


def test_a_silent_memcached_is_a_backend_error_after_the_socket_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        cache = _cache(f"127.0.0.1:{silent.getsockname()[1]}", cache_socket_timeout=0.2)
        with pytest.raises(CacheBackendError, match="timed out"):
            cache.get("key")
        assert cache.heartbeat() is False


def test_a_full_connection_pool_is_a_backend_error(memcached_host):
    cache = _cache(memcached_host, cache_pool_size=1)
    client = cache.servers.client_for(cache._generation_key)
    with client.client_pool.get_and_release():  # the one connection, held by another thread say
        with pytest.raises(CacheBackendError, match=r"kinto\.cache_pool_size"):
            cache.get("key")


# -- in an application -----------------------------------------------------------------------------


def _counter_view(config):
    def visits(request):
        cache = request.registry.cache
        cache.set("visits", (cache.get("visits") or 0) + 1, 60)
        return {"visits": cache.get("visits")}

    config.add_route("visits", "/visits")
    config.add_view(visits, route_name="visits", renderer="json", permission=NO_PERMISSION_REQUIRED)


def _app(hosts):
    settings = {
        "kinto.cache_backend": "kinto.core.cache.memcached",
        "kinto.cache_hosts": hosts,
        "kinto.cache_prefix": "app:",
        "kinto.cache_connect_timeout": 1,
    }
    return make_app(settings, includes=[_counter_view])


def test_an_application_uses_memcached_as_its_cache(memcached_host):
    app = _app(memcached_host)
    app.app.registry.cache.flush()
    assert isinstance(app.app.registry.cache, Cache)
    assert app.get("/v1/visits").json == {"visits": 1}
    assert app.get("/v1/visits").json == {"visits": 2}
    assert app.get("/v1/__heartbeat__").json["cache"] is True


def test_a_down_memcached_answers_503_with_retry_after_and_fails_the_heartbeat(closed_port):
    app = _app(f"127.0.0.1:{closed_port}")
    response = app.get("/v1/visits", status=503)
    assert response.json["errno"] == 201
    assert response.headers["Retry-After"]
    assert app.get("/v1/__heartbeat__", status=503).json["cache"] is False
