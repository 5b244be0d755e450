"""The migrations runner, through a backend that uses it (the SQLite cache)."""

import logging

from kinto.core.cache.sqlite import Cache
from kinto.core.database.sqlite import SQLiteClient


def test_the_steps_are_logged_where_kinto_migrate_listens(tmp_path, caplog):
    # kinto migrate raises kinto.core.<kind> to INFO, whatever the ini's levels: the plan must be said there.
    cache = Cache(SQLiteClient(str(tmp_path / "cache.sqlite")))
    with caplog.at_level(logging.INFO, logger="kinto.core.cache"):
        cache.initialize_schema(dry_run=True)
        cache.initialize_schema()
        cache.initialize_schema()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "Would migrate to cache schema version 1",
        "Migrating to cache schema version 1",
        "Cache schema is up to date (version 1)",
    ]
