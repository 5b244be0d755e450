import pytest
from pyramid.config import Configurator

from kinto.core.permission.sqlite import Permission, load_from_config
from kinto.core.testing.permission import PermissionContract
from kinto.core.testing.plugin import BackendFactory


@pytest.fixture(scope="module")
def sqlite_factory(tmp_path_factory):
    path = tmp_path_factory.mktemp("permission") / "kinto.sqlite"
    factory = BackendFactory("kinto.core.permission.sqlite", {"permission_url": f"sqlite:///{path}"}, kind="permission")
    yield factory
    factory.close()


class TestSQLitePermission(PermissionContract):
    @pytest.fixture
    def backend_factory(self, sqlite_factory):
        return sqlite_factory


def test_load_from_config_accepts_a_plain_path(tmp_path):
    backend = load_from_config(Configurator(settings={"kinto.permission_url": str(tmp_path / "p.sqlite")}))
    assert isinstance(backend, Permission)
    backend.initialize_schema()
    backend.add_user_principal("alice", "group")
    assert backend.get_user_principals("alice") == {"group"}


def test_the_schema_version_is_recorded_once(tmp_path):
    backend = load_from_config(Configurator(settings={"permission_url": f"sqlite:///{tmp_path}/p.sqlite"}))
    backend.initialize_schema()
    backend.initialize_schema()
    with backend.client.connect(readonly=True) as connection:
        rows = connection.execute("SELECT value FROM metadata WHERE name = 'permission_schema_version'").fetchall()
    assert [int(value) for (value,) in rows] == [1]


def test_dry_run_creates_nothing(tmp_path):
    backend = load_from_config(Configurator(settings={"permission_url": f"sqlite:///{tmp_path}/p.sqlite"}))
    backend.initialize_schema(dry_run=True)
    with backend.client.connect(readonly=True) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "access_control_entries" not in tables
