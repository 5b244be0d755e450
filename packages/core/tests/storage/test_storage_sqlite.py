import functools

import pytest
from kinto.core.testing.storage import StorageContract, build_backend


class TestSQLiteStorage(StorageContract):
    @pytest.fixture
    def backend_factory(self, tmp_path_factory):
        path = tmp_path_factory.getbasetemp() / "storage-contract.sqlite"
        return functools.partial(build_backend, "kinto.core.storage.sqlite", {"storage_url": f"sqlite:///{path}"})
