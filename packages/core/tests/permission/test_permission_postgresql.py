import pytest

from kinto.core.testing.permission import PermissionContract
from kinto.core.testing.plugin import BackendFactory
from kinto.core.testing.postgresql import postgresql_test_database


@pytest.fixture(scope="module")
def postgresql_factory():
    url = postgresql_test_database("kinto_cacheperm_tests")
    settings = {"permission_url": url, "permission_pool_size": "4", "permission_pool_timeout": "10"}
    factory = BackendFactory("kinto.core.permission.postgresql", settings, kind="permission")
    yield factory
    factory.close()


class TestPostgreSQLPermission(PermissionContract):
    @pytest.fixture
    def backend_factory(self, postgresql_factory):
        return postgresql_factory


def test_the_schema_is_at_kinto_version_two(postgresql_factory):
    backend = postgresql_factory()
    backend.initialize_schema()
    with backend.client.connect(readonly=True) as connection:
        rows = connection.execute("SELECT value FROM metadata WHERE name = 'permission_schema_version'").fetchall()
    assert rows == [("2",)]


def test_concurrent_replacements_of_one_object_do_not_merge(postgresql_factory):
    import threading

    backend = postgresql_factory()
    barrier = threading.Barrier(4)

    def replace(index):
        barrier.wait()
        for _ in range(10):
            backend.replace_object_permissions("/buckets/b", {"write": [f"p{index}-a", f"p{index}-b"]})

    threads = [threading.Thread(target=replace, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    principals = backend.get_object_permission_principals("/buckets/b", "write")
    assert len(principals) == 2
    assert len({name.split("-")[0] for name in principals}) == 1
