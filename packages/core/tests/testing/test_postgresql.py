"""Test runs on one PostgreSQL server keep out of each other's way: databases private to a run."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from pyramid.config import Configurator

from kinto.core.backends import load_backend
from kinto.core.testing.storage import postgresql_test_database, postgresql_test_url

#: Another test run, reduced to its use of the database ``argv[1]``; ``--flush``: it also stores an
#: object and empties its storage, as every suite does between tests.
OTHER_RUN = """
import sys
from pyramid.config import Configurator
from kinto.core.backends import load_backend
from kinto.core.testing.storage import postgresql_test_database

url = postgresql_test_database(sys.argv[1])
if "--flush" in sys.argv:
    storage = load_backend(Configurator(settings={"storage_backend": "kinto.core.storage.postgresql",
                                                  "storage_url": url}), "storage")
    storage.initialize_schema()
    storage.create("record", "/buckets/b", {"id": "theirs"})
    storage.flush()
    storage.client.close()
print(url)
"""


def other_run(database: str, *options: str, run_id: str | None = None) -> str:
    """Run :data:`OTHER_RUN` in a process of its own (its own run unless ``run_id``); the URL it used."""
    env = {key: value for key, value in os.environ.items() if key != "KINTO_TEST_RUN_ID"}
    if run_id is not None:
        env["KINTO_TEST_RUN_ID"] = run_id
    result = subprocess.run(
        [sys.executable, "-c", OTHER_RUN, database, *options], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def exists(url: str) -> bool:
    import psycopg

    server = os.environ.get("KINTO_TEST_POSTGRESQL_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(server, autocommit=True) as connection:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        return connection.execute(query, (database_of(url),)).fetchone() is not None


@pytest.fixture
def storage():
    url = postgresql_test_database("kinto_isolation_probe")
    settings = {"storage_backend": "kinto.core.storage.postgresql", "storage_url": url}
    backend = load_backend(Configurator(settings=settings), "storage")
    backend.initialize_schema()
    backend.flush()
    yield backend
    backend.flush()
    backend.client.close()


def test_a_flush_in_another_run_leaves_this_runs_data(storage):
    storage.create("record", "/buckets/b", {"id": "mine"})
    theirs = other_run("kinto_isolation_probe", "--flush")
    assert database_of(theirs) != database_of(storage.client.url)
    assert [obj["id"] for obj in storage.list_all("record", "/buckets/b")] == ["mine"]


def test_two_runs_asking_for_one_name_get_two_databases():
    first, second = other_run("kinto_isolation_probe"), other_run("kinto_isolation_probe")
    assert database_of(first) != database_of(second)
    assert database_of(first).startswith("kinto_isolation_probe_")


def test_a_run_drops_the_databases_it_created_when_it_exits():
    url = other_run("kinto_isolation_probe", "--flush")
    assert not exists(url)


def test_processes_given_one_run_id_share_its_databases_and_only_the_creator_drops_them():
    from kinto.core.testing.postgresql import run_id

    url = postgresql_test_database("kinto_shared_probe")
    assert other_run("kinto_shared_probe", run_id=run_id()) == url
    assert exists(url)


def test_the_server_urls_own_database_is_never_handed_out():
    from kinto.core.testing.postgresql import postgresql_test_server, run_id

    server = postgresql_test_server()
    url = postgresql_test_url()
    assert database_of(url) != database_of(server)
    assert database_of(url).endswith("_" + run_id())


@pytest.mark.parametrize("value", ["Robert'); DROP", "UPPER", "x" * 33, "a-b"])
def test_a_run_id_that_is_not_a_short_lowercase_identifier_is_refused(monkeypatch, value):
    from kinto.core.testing.postgresql import run_id

    monkeypatch.setenv("KINTO_TEST_RUN_ID", value)
    with pytest.raises(ValueError, match="KINTO_TEST_RUN_ID"):
        run_id()


def test_a_name_too_long_for_postgresql_is_refused():
    with pytest.raises(ValueError, match="63 bytes"):
        postgresql_test_database("n" * 60)
