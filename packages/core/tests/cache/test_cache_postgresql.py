import pytest

from kinto.core.testing.cache import CacheContract
from kinto.core.testing.plugin import BackendFactory
from kinto.core.testing.postgresql import postgresql_test_database


@pytest.fixture(scope="module")
def postgresql_factory():
    url = postgresql_test_database("kinto_cacheperm_tests")
    settings = {"cache_url": url, "cache_pool_size": "4", "cache_pool_timeout": "10"}
    factory = BackendFactory("kinto.core.cache.postgresql", settings, kind="cache")
    yield factory
    factory.close()


class TestPostgreSQLCache(CacheContract):
    @pytest.fixture
    def backend_factory(self, postgresql_factory):
        return postgresql_factory


def test_expired_rows_are_purged_by_later_writes(postgresql_factory):
    import time

    cache = postgresql_factory()
    for index in range(10):
        cache.set(f"old-{index}", index, 0.001)
    time.sleep(0.01)
    cache._writes = 199  # the next write is the one that purges
    cache.set("trigger", 1)
    with cache.client.connect(readonly=True) as connection:
        (count,) = connection.execute("SELECT count(*) FROM cache_entries").fetchone()
    assert count == 1


def test_the_schema_version_is_recorded_once(postgresql_factory):
    cache = postgresql_factory()
    cache.initialize_schema()
    with cache.client.connect(readonly=True) as connection:
        rows = connection.execute("SELECT value FROM metadata WHERE name = 'cache_schema_version'").fetchall()
    assert rows == [("1",)]
