import pytest
from pyramid.config import Configurator

from kinto.core.cache.sqlite import Cache, load_from_config
from kinto.core.testing.cache import CacheContract
from kinto.core.testing.plugin import BackendFactory


@pytest.fixture(scope="module")
def sqlite_factory(tmp_path_factory):
    path = tmp_path_factory.mktemp("cache") / "kinto.sqlite"
    factory = BackendFactory("kinto.core.cache.sqlite", {"cache_url": f"sqlite:///{path}"}, kind="cache")
    yield factory
    factory.close()


class TestSQLiteCache(CacheContract):
    @pytest.fixture
    def backend_factory(self, sqlite_factory):
        return sqlite_factory


@pytest.fixture
def cache(tmp_path):
    backend = load_from_config(Configurator(settings={"kinto.cache_url": str(tmp_path / "c.sqlite")}))
    backend.initialize_schema()
    yield backend
    backend.client.close()


def test_load_from_config_reads_the_prefix(tmp_path):
    settings = {"cache_url": f"sqlite:///{tmp_path}/c.sqlite", "kinto.cache_prefix": "app:"}
    backend = load_from_config(Configurator(settings=settings))
    assert isinstance(backend, Cache)
    assert backend.prefix == "app:"


def test_expired_rows_are_purged_by_later_writes(cache):
    for index in range(10):
        cache.set(f"old-{index}", index, 0.001)
    cache._writes = 199  # the next write is the one that purges
    import time

    time.sleep(0.01)
    cache.set("trigger", 1)
    with cache.client.connect(readonly=True) as connection:
        (count,) = connection.execute("SELECT count(*) FROM cache_entries").fetchone()
    assert count == 1


def test_a_cache_write_joins_the_request_transaction_on_a_shared_file(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.sqlite"
    config = Configurator(settings={"cache_url": url, "permission_url": url})
    from kinto.core.permission.sqlite import load_from_config as load_permission

    cache = load_from_config(config)
    permission = load_permission(config)
    cache.initialize_schema()
    permission.initialize_schema()
    assert cache.client is permission.client
    with permission.transaction():
        permission.add_user_principal("alice", "group")
        cache.set("key", "value")  # would wait for the file's write lock if it did not join
    assert cache.get("key") == "value"
