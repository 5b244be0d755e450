"""Start-up with the ``kinto.<kind>_backend`` settings: a bad value stops the
application with a message naming the setting; an empty one means memory."""

import logging

import pytest
from pyramid.exceptions import ConfigurationError

from kinto.core.testing import make_app, make_wsgi_app


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("no.such.module", "cannot import module"),
        ("json", "module has no load_from_config"),
        ("kinto.core.cache.memory", "does not implement kinto.core.storage.StorageBase"),
        ("sqlite", "Setting kinto.storage_url is required"),
    ],
)
@pytest.mark.parametrize("key", ["storage_backend", "kinto.storage_backend"])
def test_a_bad_storage_backend_stops_start_up_naming_the_setting(key, value, reason):
    with pytest.raises(ConfigurationError) as raised:
        make_wsgi_app({key: value})
    message = str(raised.value)
    assert message.startswith(f"kinto.storage_backend = {value}: ")
    assert reason in message


@pytest.mark.parametrize("kind", ["permission", "cache"])
def test_a_bad_permission_or_cache_backend_stops_start_up_too(kind):
    with pytest.raises(ConfigurationError, match=rf"^kinto\.{kind}_backend = no\.such\.module: cannot import module"):
        make_wsgi_app({f"{kind}_backend": "no.such.module"})


def test_a_bad_backend_from_the_environment_is_named_like_the_setting(monkeypatch):
    monkeypatch.setenv("KINTO_STORAGE_BACKEND", "no.such.module")
    with pytest.raises(ConfigurationError, match=r"^kinto\.storage_backend = no\.such\.module: cannot import"):
        make_wsgi_app({})


def test_empty_backend_settings_start_on_memory_backends_with_a_warning(caplog):
    caplog.set_level(logging.WARNING)
    app = make_app({"storage_backend": "", "permission_backend": "", "cache_backend": ""})
    body = app.get("/v1/__heartbeat__").json
    assert {key: body[key] for key in ("storage", "permission", "cache")} == {
        "storage": True,
        "permission": True,
        "cache": True,
    }
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert "No storage/permission/cache backend configured: using memory backends, nothing will persist" in warnings


def test_a_named_backend_is_the_one_loaded(tmp_path):
    app = make_app({"storage_backend": "sqlite", "storage_url": f"sqlite:///{tmp_path / 'data.sqlite'}"})
    assert type(app.app.registry.storage).__module__ == "kinto.core.storage.sqlite"
    app.app.registry.storage.initialize_schema()  # a new file has no tables: the heartbeat would say so
    assert app.get("/v1/__heartbeat__").json["storage"] is True


def test_migrate_on_startup_creates_the_tables_of_a_new_database(tmp_path):
    from kinto.core.testing import basic_auth_header, make_app

    url = f"sqlite:///{tmp_path}/new.sqlite"
    settings = {
        "storage_backend": "kinto.core.storage.sqlite",
        "storage_url": url,
        "permission_backend": "kinto.core.permission.sqlite",
        "permission_url": url,
        "multiauth.policies": "basicauth",
        "userid_hmac_secret": "migrate-tests",
    }
    without = make_app(settings)
    assert without.get("/v1/", headers=basic_auth_header(), status="*").status_int == 503  # no tables yet

    with_migration = make_app({**settings, "migrate_on_startup": "true"})
    body = with_migration.get("/v1/", headers=basic_auth_header()).json
    assert body["user"]["id"].startswith("basicauth:")
    assert with_migration.get("/v1/__heartbeat__").json["storage"] is True
