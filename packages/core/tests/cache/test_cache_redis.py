import socket
import uuid

import pytest
from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core.cache import CacheBackendError
from kinto.core.testing import make_app
from kinto.core.testing.cache import CacheContract
from kinto.core.testing.plugin import BackendFactory

from .conftest import import_driver

redis = import_driver("redis", "redis", "KINTO_TEST_REDIS_URL")

from kinto.core.cache.redis import Cache, load_from_config  # noqa: E402 -- after the skip

#: Every key of this run starts with it: runs sharing the test database do not flush each other's keys.
RUN = f"kinto-tests-{uuid.uuid4().hex[:8]}:"


@pytest.fixture(scope="module")
def redis_factory(redis_url):
    factory = BackendFactory("kinto.core.cache.redis", {"cache_url": redis_url, "cache_prefix": RUN}, kind="cache")
    yield factory
    factory.close()


class TestRedisCache(CacheContract):
    @pytest.fixture
    def backend_factory(self, redis_factory):
        return redis_factory


@pytest.fixture
def raw(redis_url):
    """A plain client on the test database, to see what the backend leaves there."""
    client = redis.Redis.from_url(redis_url)
    yield client
    for key in client.scan_iter(match=f"{RUN}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cache(url, **settings):
    return load_from_config(Configurator(settings={"cache_url": url, **settings}))


def test_values_are_stored_as_json_text_under_the_prefixed_key(raw, redis_url):
    cache = _cache(redis_url, cache_prefix=f"{RUN}app:")
    cache.set("token", {"scope": ["a"]}, 60)
    assert raw.get(f"{RUN}app:token") == b'{"scope":["a"]}'
    assert 59_000 < raw.pttl(f"{RUN}app:token") <= 60_000


def test_flush_leaves_the_keys_of_other_applications_in_the_same_database(raw, redis_url):
    others = [f"{RUN}other-app:session", f"{RUN}unprefixed", f"{RUN}app"]  # the last: the prefix without its colon
    for key in others:
        raw.set(key, b"kept")
    cache = _cache(redis_url, cache_prefix=f"{RUN}app:")
    for index in range(1200):  # more than one SCAN batch
        cache.set(f"key-{index}", index)
    cache.flush()
    assert raw.keys(f"{RUN}app:*") == []
    assert sorted(raw.keys(f"{RUN}*")) == sorted(key.encode() for key in others)


def test_delete_prefix_leaves_the_keys_of_other_applications(raw, redis_url):
    raw.set(f"{RUN}other:user:1", b"kept")
    cache = _cache(redis_url, cache_prefix=f"{RUN}app:")
    cache.set("user:1", 1)
    cache.set("user:2", 2)
    assert cache.delete_prefix("user:") == 2
    assert raw.keys(f"{RUN}*") == [f"{RUN}other:user:1".encode()]


def test_a_ttl_beyond_what_redis_can_represent_means_no_expiry(raw, redis_url):
    cache = _cache(redis_url, cache_prefix=RUN)
    cache.set("key", 1, 1e300)
    assert cache.get("key") == 1
    assert cache.ttl("key") == -1
    cache.expire("key", 10)
    cache.expire("key", 1e300)
    assert cache.ttl("key") == -1


def test_load_from_config_reads_the_pool_and_timeout_settings(redis_url):
    settings = {
        "kinto.cache_url": redis_url,
        "kinto.cache_prefix": "p:",
        "cache_pool_size": "3",
        "kinto.cache_pool_timeout": "1.5",
        "cache_connect_timeout": "0.5",
        "cache_socket_timeout": "0.25",
    }
    cache = load_from_config(Configurator(settings=settings))
    pool = cache.client.connection_pool
    assert isinstance(cache, Cache)
    assert cache.prefix == "p:"
    assert pool.max_connections == 3
    assert pool.timeout == 1.5
    assert pool.connection_kwargs["socket_connect_timeout"] == 0.5
    assert pool.connection_kwargs["socket_timeout"] == 0.25
    assert pool.connection_kwargs["db"] == int(redis_url.rsplit("/", 1)[1])


def test_caches_of_one_application_share_one_connection_pool(redis_url):
    config = Configurator(settings={"cache_url": redis_url})
    assert load_from_config(config).client.connection_pool is load_from_config(config).client.connection_pool


CALLS = [
    ("get", lambda cache: cache.get("key")),
    ("set", lambda cache: cache.set("key", "value", 10)),
    ("delete", lambda cache: cache.delete("key")),
    ("ttl", lambda cache: cache.ttl("key")),
    ("expire", lambda cache: cache.expire("key", 10)),
    ("flush", lambda cache: cache.flush()),
    ("delete_prefix", lambda cache: cache.delete_prefix("k")),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_every_operation_raises_a_backend_error_naming_the_server_when_redis_is_down(closed_port, name, call):
    cache = _cache(f"redis://:secret@127.0.0.1:{closed_port}/0", cache_connect_timeout=1)
    with pytest.raises(CacheBackendError) as raised:
        call(cache)
    assert f"127.0.0.1:{closed_port}" in str(raised.value)
    assert "secret" not in str(raised.value)
    assert isinstance(raised.value.original, redis.RedisError)
    assert cache.heartbeat() is False


def test_a_silent_redis_is_a_backend_error_after_the_socket_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        cache = _cache(f"redis://127.0.0.1:{port}/0", cache_socket_timeout=0.2)
        with pytest.raises(CacheBackendError, match="imeout"):
            cache.get("key")
        assert cache.heartbeat() is False


def test_an_unreadable_url_names_the_setting():
    with pytest.raises(ValueError, match=r"kinto\.cache_url"):
        _cache("http://user:secret@localhost/")


# -- in an application -----------------------------------------------------------------------------


def _counter_view(config):
    """A view keeping a counter in the cache, as a plugin (a token cache, say) would."""

    def visits(request):
        cache = request.registry.cache
        cache.set("visits", (cache.get("visits") or 0) + 1, 60)
        return {"visits": cache.get("visits")}

    config.add_route("visits", "/visits")
    config.add_view(visits, route_name="visits", renderer="json", permission=NO_PERMISSION_REQUIRED)


def _app(url):
    settings = {
        "kinto.cache_backend": "kinto.core.cache.redis",
        "kinto.cache_url": url,
        "kinto.cache_prefix": f"{RUN}app:",
        "kinto.cache_connect_timeout": 1,
    }
    return make_app(settings, includes=[_counter_view])


def test_an_application_uses_redis_as_its_cache(raw, redis_url):
    app = _app(redis_url)
    assert isinstance(app.app.registry.cache, Cache)
    assert app.get("/v1/visits").json == {"visits": 1}
    assert app.get("/v1/visits").json == {"visits": 2}
    assert raw.get(f"{RUN}app:visits") == b"2"
    assert app.get("/v1/__heartbeat__").json["cache"] is True


def test_a_down_redis_answers_503_with_retry_after_and_fails_the_heartbeat(closed_port):
    app = _app(f"redis://127.0.0.1:{closed_port}/0")
    response = app.get("/v1/visits", status=503)
    assert response.json["errno"] == 201
    assert response.headers["Retry-After"]
    assert app.get("/v1/__heartbeat__", status=503).json["cache"] is False
