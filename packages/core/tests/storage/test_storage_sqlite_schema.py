import sqlite3

import pytest
from pyramid.config import Configurator

from kinto.core.storage import sqlite
from kinto.core.storage.exceptions import ReadonlyError


def load(path, **extra):
    settings = {"storage_url": f"sqlite:///{path}", **extra}
    return sqlite.load_from_config(Configurator(settings=settings))


def tables(path):
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_dry_run_creates_nothing_but_the_metadata_table(tmp_path):
    path = tmp_path / "dry.sqlite"
    load(path).initialize_schema(dry_run=True)
    assert tables(path) <= {"metadata"}


def test_schema_version_is_recorded_once(tmp_path):
    path = tmp_path / "kinto.sqlite"
    storage = load(path)
    storage.initialize_schema()
    storage.initialize_schema()
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT value FROM metadata WHERE name = 'storage_schema_version'").fetchall()
    assert rows == [(str(sqlite.SCHEMA.version),)]
    assert {"objects", "timestamps"} <= tables(path)


def test_the_file_is_in_wal_mode(tmp_path):
    path = tmp_path / "kinto.sqlite"
    load(path).initialize_schema()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_plain_paths_work_like_urls(tmp_path):
    path = tmp_path / "plain.sqlite"
    storage = sqlite.load_from_config(Configurator(settings={"kinto.storage_url": str(path)}))
    storage.initialize_schema()
    storage.create("r", "p", {"id": "a"})
    assert load(path).get("r", "p", "a")["id"] == "a"


def test_readonly_storage_refuses_writes_but_reads(tmp_path):
    path = tmp_path / "kinto.sqlite"
    writer = load(path)
    writer.initialize_schema()
    writer.create("r", "p", {"id": "a"})
    reader = sqlite.load_from_config(Configurator(settings={"storage_url": str(path), "readonly": "true"}))
    assert reader.get("r", "p", "a")["id"] == "a"
    with pytest.raises(ReadonlyError):
        reader.create("r", "p", {})
    with pytest.raises(ReadonlyError):
        reader.resource_timestamp("r", "never-written")


def test_heartbeat_is_false_when_the_file_cannot_be_opened(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    storage = load(blocker / "kinto.sqlite")
    assert storage.heartbeat() is False
