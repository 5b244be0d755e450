import sys
import types

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from kinto.core.backends import KINDS, contract_for, kind_of, load_backend, mask_url, resolve_backend_module
from kinto.core.cache import CacheBase
from kinto.core.cache.memory import Cache
from kinto.core.permission import PermissionBase
from kinto.core.permission.memory import Permission
from kinto.core.storage import StorageBase
from kinto.core.storage.exceptions import BackendError


@pytest.fixture
def fake_module():
    names = []

    def make(name, **attributes):
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        sys.modules[name] = module
        names.append(name)
        return name

    yield make
    for name in names:
        sys.modules.pop(name, None)


def config_for(**settings):
    return Configurator(settings=settings)


def test_an_empty_setting_loads_nothing():
    assert load_backend(config_for(), "cache") is None
    assert load_backend(config_for(cache_backend=""), "cache") is None


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("cache", "kinto.core.cache.memory", Cache),
        ("cache", "memory", Cache),
        ("permission", "memory", Permission),
        ("permission", "kinto.core.permission.memory", Permission),
    ],
)
def test_dotted_modules_and_short_names_load(kind, name, expected):
    backend = load_backend(config_for(**{f"kinto.{kind}_backend": name}), kind)
    assert isinstance(backend, expected)


def test_short_names_resolve_through_entry_points():
    assert resolve_backend_module("sqlite", "permission").__name__ == "kinto.core.permission.sqlite"
    with pytest.raises(ImportError):
        resolve_backend_module("nonexistent", "cache")


def test_a_missing_module_names_the_setting():
    with pytest.raises(ConfigurationError, match=r"^kinto.cache_backend = foo.bar: cannot import module"):
        load_backend(config_for(cache_backend="foo.bar"), "cache")


def test_a_module_without_loader_names_the_setting(fake_module):
    name = fake_module("fake_no_loader")
    with pytest.raises(
        ConfigurationError, match=r"kinto\.cache_backend = fake_no_loader: module has no load_from_config"
    ):
        load_backend(config_for(cache_backend=name), "cache")


def test_a_loader_that_raises_names_the_setting(fake_module):
    def load_from_config(config):
        raise KeyError("cache_url")

    name = fake_module("fake_raising", load_from_config=load_from_config)
    with pytest.raises(ConfigurationError, match=r"fake_raising: load_from_config\(config\) raised KeyError"):
        load_backend(config_for(cache_backend=name), "cache")


def test_a_backend_error_reports_the_masked_url(fake_module):
    def load_from_config(config):
        raise BackendError(message="connection refused")

    name = fake_module("fake_unreachable", load_from_config=load_from_config)
    config = config_for(permission_backend=name, permission_url="postgresql://u:secret@db/kinto")
    with pytest.raises(ConfigurationError) as raised:
        load_backend(config, "permission")
    message = str(raised.value)
    assert message.startswith(f"kinto.permission_backend = {name}: cannot reach the permission backend")
    assert "postgresql://u:***@db/kinto" in message
    assert "secret" not in message


def test_a_backend_of_the_wrong_kind_is_refused(fake_module):
    name = fake_module("fake_wrong_kind", load_from_config=lambda config: Cache())
    with pytest.raises(ConfigurationError, match=r"does not implement kinto\.core\.permission\.PermissionBase"):
        load_backend(config_for(permission_backend=name), "permission")


def test_an_object_that_is_no_backend_is_refused(fake_module):
    name = fake_module("fake_dict", load_from_config=lambda config: {})
    with pytest.raises(ConfigurationError, match="returned dict, which does not implement"):
        load_backend(config_for(cache_backend=name), "cache")


def test_contracts_and_kinds_match():
    assert [contract_for(kind) for kind in KINDS] == [StorageBase, PermissionBase, CacheBase]
    assert kind_of(Cache()) == "cache"
    assert kind_of(Permission()) == "permission"
    assert kind_of(object()) is None
    with pytest.raises(ValueError):
        contract_for("search")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://user:pass@host:5432/db", "postgresql://user:***@host:5432/db"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("sqlite:///var/kinto.sqlite", "sqlite:///var/kinto.sqlite"),
        ("http://a:b@riak:8098", "http://a:***@riak:8098"),
    ],
)
def test_passwords_are_masked(url, masked):
    assert mask_url(url) == masked
