import functools

import pytest
from kinto.core.testing.storage import StorageContract, build_backend


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def backend_factory(self):
        return functools.partial(build_backend, "kinto.core.storage.memory", {})
