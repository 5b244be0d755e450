"""``kinto.readonly`` as every storage loader reads it: the settings rule's booleans, either spelling."""

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from kinto.core.storage import memory, sqlite
from kinto.core.storage.exceptions import ReadonlyError
from kinto.core.testing.postgresql import postgresql_test_database
from kinto.core.testing.storage import backend_selected


def _memory(settings, tmp_path):
    return memory.load_from_config(Configurator(settings=settings))


def _sqlite(settings, tmp_path):
    return sqlite.load_from_config(Configurator(settings={"storage_url": str(tmp_path / "s.sqlite"), **settings}))


def _postgresql(settings, tmp_path):
    if not backend_selected("postgresql"):
        pytest.skip("KINTO_CONTRACT_BACKENDS excludes postgresql")
    from kinto.core.storage import postgresql

    url = postgresql_test_database("kinto_storage_tests")
    return postgresql.load_from_config(Configurator(settings={"storage_url": url, **settings}))


LOADERS = [_memory, _sqlite, _postgresql]


@pytest.mark.parametrize("load", LOADERS, ids=["memory", "sqlite", "postgresql"])
@pytest.mark.parametrize(
    "settings", [{"readonly": "on"}, {"kinto.readonly": "y"}, {"readonly": True}, {"kinto.readonly": "TRUE"}]
)
def test_every_spelling_of_true_makes_the_storage_refuse_writes(load, settings, tmp_path):
    storage = load(settings, tmp_path)
    with pytest.raises(ReadonlyError):
        storage.create("r", "p", {"id": "a"})


@pytest.mark.parametrize("load", LOADERS, ids=["memory", "sqlite", "postgresql"])
def test_a_value_that_is_not_a_boolean_names_the_setting(load, tmp_path):
    with pytest.raises(ConfigurationError, match=r"readonly.*not a boolean"):
        load({"kinto.readonly": "maybe"}, tmp_path)
