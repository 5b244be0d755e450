import pytest

from kinto.core.testing.plugin import BackendFactory
from kinto.core.testing.storage import StorageContract, backend_selected

pytestmark = pytest.mark.skipif(not backend_selected("memory"), reason="KINTO_CONTRACT_BACKENDS excludes memory")


@pytest.fixture(scope="module")
def memory_factory():
    factory = BackendFactory("kinto.core.storage.memory", {}, kind="storage")
    yield factory
    factory.close()


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def backend_factory(self, memory_factory):
        return memory_factory
