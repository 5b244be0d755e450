import threading

import pytest
from pyramid.config import Configurator

from kinto.core.database.sqlite import SQLiteClient, client_from_config, path_from_url
from kinto.core.storage.exceptions import BackendError


@pytest.fixture
def client(tmp_path):
    client = SQLiteClient(str(tmp_path / "db.sqlite"), timeout=5)
    with client.connect() as connection:
        connection.execute("CREATE TABLE items (name TEXT PRIMARY KEY)")
    yield client
    client.close()


def names(client):
    with client.connect(readonly=True) as connection:
        return sorted(row[0] for row in connection.execute("SELECT name FROM items"))


@pytest.mark.parametrize(
    "url, path",
    [
        ("sqlite:///data/kinto.sqlite", "data/kinto.sqlite"),
        ("sqlite:////abs/kinto.sqlite", "/abs/kinto.sqlite"),
        ("relative/kinto.sqlite", "relative/kinto.sqlite"),
        ("/abs/kinto.sqlite", "/abs/kinto.sqlite"),
    ],
)
def test_urls_and_plain_paths_name_the_same_file(url, path):
    assert path_from_url(url) == path


def test_in_memory_databases_are_refused():
    with pytest.raises(ValueError):
        SQLiteClient(":memory:")


def test_connect_outside_a_transaction_commits_on_success(client):
    with client.connect() as connection:
        connection.execute("INSERT INTO items VALUES ('a')")
    assert names(client) == ["a"]


def test_connect_outside_a_transaction_rolls_back_on_error(client):
    with pytest.raises(RuntimeError), client.connect() as connection:
        connection.execute("INSERT INTO items VALUES ('a')")
        raise RuntimeError("boom")
    assert names(client) == []


def test_transaction_commits_every_connect_together(client):
    with client.transaction():
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES ('a')")
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES ('b')")
        assert client.in_transaction()
    assert not client.in_transaction()
    assert names(client) == ["a", "b"]


def test_exception_in_transaction_rolls_back_every_write(client):
    with pytest.raises(RuntimeError), client.transaction():
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES ('a')")
        raise RuntimeError("boom")
    assert names(client) == []


def test_nested_transactions_join_the_outer_one(client):
    with pytest.raises(RuntimeError), client.transaction():
        with client.transaction(write=False), client.connect() as connection:
            connection.execute("INSERT INTO items VALUES ('a')")
        raise RuntimeError("outer fails after the inner block ended")
    assert names(client) == []


def test_driver_errors_become_backend_errors(client):
    with pytest.raises(BackendError), client.connect() as connection:
        connection.execute("SELECT * FROM no_such_table")


def test_a_swallowed_driver_error_rolls_the_transaction_back(client):
    with pytest.raises(BackendError), client.transaction():
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES ('a')")
        try:
            with client.connect() as connection:
                connection.execute("INSERT INTO items VALUES ('a')")
        except BackendError:
            pass
    assert names(client) == []


def test_a_savepoint_undoes_its_block_only(client):
    with client.transaction():
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES (?)", ("before",))
        with pytest.raises(RuntimeError), client.savepoint():
            with client.connect() as connection:
                connection.execute("INSERT INTO items VALUES (?)", ("inside",))
            raise RuntimeError("the sub-request failed")
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES (?)", ("after",))
    assert names(client) == ["after", "before"]


def test_a_failed_statement_rolled_back_to_its_savepoint_no_longer_condemns_the_transaction(client):
    with client.transaction():
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES (?)", ("kept",))
        with pytest.raises(BackendError), client.savepoint(), client.connect() as connection:
            connection.execute("INSERT INTO items VALUES (?)", ("kept",))
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES (?)", ("after",))
    assert names(client) == ["after", "kept"]


def test_a_failed_statement_before_a_savepoint_still_condemns_the_transaction(client):
    with pytest.raises(BackendError), client.transaction():
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES (?)", ("kept",))
        try:
            with client.connect() as connection:
                connection.execute("INSERT INTO items VALUES (?)", ("kept",))
        except BackendError:
            pass
        try:
            with client.savepoint():
                raise RuntimeError("the sub-request failed")
        except (RuntimeError, BackendError):
            pass
    assert names(client) == []


def test_savepoints_nest_and_release_into_the_transaction(client):
    with client.transaction():
        with client.savepoint():
            with client.connect() as connection:
                connection.execute("INSERT INTO items VALUES (?)", ("outer",))
            with pytest.raises(RuntimeError), client.savepoint():
                with client.connect() as connection:
                    connection.execute("INSERT INTO items VALUES (?)", ("inner",))
                raise RuntimeError("inner fails")
    assert names(client) == ["outer"]


def test_a_savepoint_outside_a_transaction_just_runs_its_block(client):
    with client.savepoint(), client.connect() as connection:
        connection.execute("INSERT INTO items VALUES (?)", ("alone",))
    assert names(client) == ["alone"]


def test_threads_have_their_own_transactions(client):
    seen = {}

    def other_thread():
        seen["in_transaction"] = client.in_transaction()
        seen["names"] = names(client)

    with client.transaction():
        with client.connect() as connection:
            connection.execute("INSERT INTO items VALUES ('uncommitted')")
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen == {"in_transaction": False, "names": []}
    assert names(client) == ["uncommitted"]


def test_connection_hooks_run_on_every_connection(client):
    client.add_connection_hook(lambda connection: connection.create_function("twice", 1, lambda x: x * 2))
    results = []

    def query():
        with client.connect(readonly=True) as connection:
            results.append(connection.execute("SELECT twice(21)").fetchone()[0])

    query()
    thread = threading.Thread(target=query)
    thread.start()
    thread.join()
    assert results == [42, 42]


def test_clients_are_shared_per_file_through_the_registry(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.sqlite"
    config = Configurator(settings={"storage_url": url, "kinto.permission_url": str(tmp_path / "shared.sqlite")})
    storage_client = client_from_config(config, "storage")
    permission_client = client_from_config(config, "permission")
    assert storage_client is permission_client
    other = Configurator(settings={"storage_url": url})
    assert client_from_config(other, "storage") is not storage_client


def test_a_missing_url_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="storage_url"):
        client_from_config(Configurator(settings={}), "storage")


def test_writers_of_one_process_take_turns_and_lose_nothing(client):
    def writer(prefix):
        for index in range(40):
            with client.transaction():
                with client.connect() as connection:
                    connection.execute("INSERT INTO items VALUES (?)", (f"{prefix}{index:02d}",))

    threads = [threading.Thread(target=writer, args=(prefix,)) for prefix in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert names(client) == sorted(f"{prefix}{index:02d}" for prefix in "abc" for index in range(40))


def test_a_writer_waiting_past_the_timeout_gets_a_backend_error(tmp_path):
    client = SQLiteClient(str(tmp_path / "db.sqlite"), timeout=0.2)
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock():
        with client.transaction():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(BackendError, match="locked"):
            with client.transaction():
                pass
        # Readers are not held up by a writer.
        with client.transaction(write=False):
            with client.connect(readonly=True) as connection:
                assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        release.set()
        thread.join()
    with client.transaction():  # the lock was released
        pass
    client.close()


# In a process of its own: closing a connection under a running statement could crash the interpreter.
CLOSE_WHILE_READING = """
import sqlite3, sys, threading, time
from kinto.core.database.sqlite import SQLiteClient

client = SQLiteClient(sys.argv[1])
reading, closed = threading.Event(), threading.Event()

def slow(value):
    reading.set()
    closed.wait(5)
    time.sleep(0.1)  # the statement is still running after close()
    return value

def read(results):
    with client.connect(readonly=True) as connection:
        connection.create_function("slow", 1, slow)
        results.append(connection.execute("SELECT slow(x) FROM (SELECT 1 AS x UNION ALL SELECT 2)").fetchall())

results = []
thread = threading.Thread(target=read, args=(results,))
thread.start()
reading.wait(5)
client.close()
closed.set()
thread.join(10)
with client.connect() as connection:  # a new connection serves the next use
    connection.execute("CREATE TABLE IF NOT EXISTS t (x)")
print(results)
"""


def test_closing_the_client_while_another_thread_reads_lets_that_read_finish(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", CLOSE_WHILE_READING, str(tmp_path / "db.sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[[(1,), (2,)]]"
