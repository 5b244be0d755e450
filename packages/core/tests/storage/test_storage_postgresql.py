import pytest

from kinto.core.testing.plugin import BackendFactory
from kinto.core.testing.postgresql import postgresql_test_database
from kinto.core.testing.storage import StorageContract, backend_selected

pytestmark = pytest.mark.skipif(
    not backend_selected("postgresql"), reason="KINTO_CONTRACT_BACKENDS excludes postgresql"
)


@pytest.fixture(scope="module")
def postgresql_factory():
    factory = BackendFactory("kinto.core.storage.postgresql", {"storage_url": postgresql_test_database("kinto_storage_tests")}, kind="storage")
    yield factory
    factory.close()


class TestPostgreSQLStorage(StorageContract):
    @pytest.fixture
    def backend_factory(self, postgresql_factory):
        return postgresql_factory
