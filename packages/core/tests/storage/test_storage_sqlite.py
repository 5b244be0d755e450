import pytest

from kinto.core.testing.plugin import BackendFactory
from kinto.core.testing.storage import StorageContract, backend_selected

pytestmark = pytest.mark.skipif(not backend_selected("sqlite"), reason="KINTO_CONTRACT_BACKENDS excludes sqlite")


@pytest.fixture(scope="module")
def sqlite_factory(tmp_path_factory):
    path = tmp_path_factory.mktemp("storage") / "kinto.sqlite"
    factory = BackendFactory("kinto.core.storage.sqlite", {"storage_url": f"sqlite:///{path}"}, kind="storage")
    yield factory
    factory.close()


class TestSQLiteStorage(StorageContract):
    @pytest.fixture
    def backend_factory(self, sqlite_factory):
        return sqlite_factory
