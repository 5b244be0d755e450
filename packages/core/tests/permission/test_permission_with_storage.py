"""Permissions and objects of one request commit or roll back together when they share a database."""

import pytest
from pyramid.config import Configurator

from kinto.core.backends import load_backend
from kinto.core.testing.postgresql import postgresql_test_database


def backends_on(url, name):
    settings = {}
    for kind in ("storage", "permission"):
        settings[f"{kind}_backend"] = name
        settings[f"{kind}_url"] = url
    config = Configurator(settings=settings)
    storage, permission = load_backend(config, "storage"), load_backend(config, "permission")
    for backend in (storage, permission):
        backend.initialize_schema()
        backend.flush()
    return storage, permission


@pytest.fixture(params=["sqlite", "postgresql"])
def backends(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/kinto.sqlite"
    else:
        url = postgresql_test_database("kinto_cacheperm_tests")
    storage, permission = backends_on(url, request.param)
    yield storage, permission
    storage.flush()
    permission.flush()
    permission.client.close()


def test_storage_and_permission_share_one_client(backends):
    storage, permission = backends
    assert storage.client is permission.client


def test_a_failed_request_leaves_objects_and_permissions_as_before(backends):
    storage, permission = backends
    storage.create("record", "/buckets/b", {"id": "kept", "title": "before"})
    permission.add_principal_to_ace("/buckets/b/records/kept", "write", "alice")
    with pytest.raises(RuntimeError), storage.transaction():
        storage.update("record", "/buckets/b", "kept", {"title": "after"})
        storage.create("record", "/buckets/b", {"id": "lost"})
        permission.replace_object_permissions("/buckets/b/records/kept", {"write": ["mallory"]})
        permission.add_principal_to_ace("/buckets/b/records/lost", "write", "mallory")
        raise RuntimeError("the view failed")
    assert storage.get("record", "/buckets/b", "kept")["title"] == "before"
    assert storage.count_all("record", "/buckets/b") == 1
    assert permission.get_object_permissions("/buckets/b/records/kept") == {"write": {"alice"}}
    assert permission.get_object_permissions("/buckets/b/records/lost") == {}


def test_a_successful_request_commits_both(backends):
    storage, permission = backends
    with storage.transaction():
        storage.create("record", "/buckets/b", {"id": "new"})
        permission.add_principal_to_ace("/buckets/b/records/new", "write", "alice")
    assert storage.count_all("record", "/buckets/b") == 1
    assert permission.check_permission({"alice"}, [("/buckets/b/records/new", "write")])
