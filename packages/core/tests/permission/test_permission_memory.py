import pytest

from kinto.core.permission.memory import Permission
from kinto.core.testing.permission import PermissionContract
from kinto.core.testing.plugin import BackendFactory


class TestMemoryPermission(PermissionContract):
    @pytest.fixture
    def backend_factory(self):
        return BackendFactory("kinto.core.permission.memory", kind="permission")


def test_a_read_transaction_does_not_block_writers_of_other_threads():
    import threading

    backend = Permission()
    done = threading.Event()
    with backend.transaction(write=False):
        thread = threading.Thread(target=lambda: (backend.add_user_principal("a", "b"), done.set()))
        thread.start()
        thread.join(5)
    assert done.is_set()
