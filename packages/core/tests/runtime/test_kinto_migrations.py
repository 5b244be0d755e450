"""A migration object written for Kinto (its PostgreSQL client) registers, and is reported as not run:
a warning on a storage served by a database, as Kinto would have run it there; a debug line on an
embedded one. The storage says which by its ``embedded`` flag, whoever wrote it."""

from __future__ import annotations

import logging
import sys
import types

import pytest

from kinto.core.initialization import migrate
from kinto.core.migrations import PostgreSQLPluginMigration
from kinto.core.storage import memory
from kinto.core.testing import make_app

NOT_RUN = "Migration 'kinto_attachment' is written for Kinto's PostgreSQL client (SQLAlchemy) and is not run"


class AttachmentMigration(PostgreSQLPluginMigration):
    name = "kinto_attachment"


class ServerStorage(memory.Storage):
    """A third party's storage on a database server (in memory here, for the test)."""

    embedded = False


def install_storage_module(monkeypatch: pytest.MonkeyPatch, storage_class: type) -> str:
    module = types.ModuleType("third_party_storage")
    module.load_from_config = lambda config: storage_class()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


def includeme(config):
    config.add_migration(AttachmentMigration())


@pytest.mark.parametrize(
    ("storage_class", "level"), [(ServerStorage, logging.WARNING), (memory.Storage, logging.DEBUG)]
)
def test_a_kinto_migration_is_reported_as_not_run_louder_on_a_database_server(
    monkeypatch, caplog, storage_class, level
):
    app = make_app({"storage_backend": install_storage_module(monkeypatch, storage_class)}, includes=[includeme])
    with caplog.at_level(logging.DEBUG, logger="kinto.core.migrations"):
        migrate(app.app.registry)
    assert [record.levelno for record in caplog.records if record.getMessage() == NOT_RUN] == [level]
