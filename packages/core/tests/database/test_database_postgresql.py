import threading

import pytest
from pyramid.config import Configurator

from kinto.core.database.postgresql import (
    PostgreSQLClient,
    client_from_config,
    mask_password,
    normalize_url,
)
from kinto.core.storage.exceptions import BackendError
from kinto.core.testing.postgresql import postgresql_test_database


@pytest.fixture(scope="module")
def url():
    return postgresql_test_database("kinto_database_tests")


@pytest.fixture
def client(url):
    client = PostgreSQLClient(url, pool_size=3, pool_timeout=5)
    with client.connect() as connection:
        connection.execute("DROP TABLE IF EXISTS database_client_items")
        connection.execute("CREATE TABLE database_client_items (name TEXT PRIMARY KEY)")
    yield client
    with client.connect() as connection:
        connection.execute("DROP TABLE IF EXISTS database_client_items")
    client.close()


def names(client):
    with client.connect(readonly=True) as connection:
        return sorted(row[0] for row in connection.execute("SELECT name FROM database_client_items"))


def insert(connection, name):
    connection.execute("INSERT INTO database_client_items VALUES (%s)", (name,))


def test_sqlalchemy_style_urls_written_for_kinto_are_accepted():
    assert normalize_url("postgresql+psycopg2://u:p@h/db") == "postgresql://u:p@h/db"
    assert normalize_url("postgres://h/db") == "postgresql://h/db"


def test_passwords_are_masked_in_messages():
    assert mask_password("postgresql://user:secret@host/db") == "postgresql://user:***@host/db"


def test_connect_outside_a_transaction_commits_on_success(client):
    with client.connect() as connection:
        insert(connection, "a")
    assert names(client) == ["a"]


def test_connect_outside_a_transaction_rolls_back_on_error(client):
    with pytest.raises(RuntimeError), client.connect() as connection:
        insert(connection, "a")
        raise RuntimeError("boom")
    assert names(client) == []


def test_transaction_commits_every_connect_together(client):
    with client.transaction():
        with client.connect() as connection:
            insert(connection, "a")
        with client.connect() as connection:
            insert(connection, "b")
        assert client.in_transaction()
    assert names(client) == ["a", "b"]


def test_exception_in_transaction_rolls_back_every_write(client):
    with pytest.raises(RuntimeError), client.transaction():
        with client.connect() as connection:
            insert(connection, "a")
        with client.transaction(), client.connect() as connection:
            insert(connection, "b")
        raise RuntimeError("boom")
    assert names(client) == []


def test_driver_errors_become_backend_errors(client):
    with pytest.raises(BackendError), client.connect() as connection:
        connection.execute("SELECT * FROM no_such_table")
    assert names(client) == []


def test_a_swallowed_driver_error_rolls_the_transaction_back(client):
    with pytest.raises(BackendError), client.transaction():
        with client.connect() as connection:
            insert(connection, "a")
        try:
            with client.connect() as connection:
                insert(connection, "a")
        except BackendError:
            pass
    assert names(client) == []


def test_a_savepoint_undoes_its_block_only(client):
    with client.transaction():
        with client.connect() as connection:
            insert(connection, "before")
        with pytest.raises(RuntimeError), client.savepoint():
            with client.connect() as connection:
                insert(connection, "inside")
            raise RuntimeError("the sub-request failed")
        with client.connect() as connection:
            insert(connection, "after")
    assert names(client) == ["after", "before"]


def test_a_failed_statement_rolled_back_to_its_savepoint_no_longer_condemns_the_transaction(client):
    with client.transaction():
        with client.connect() as connection:
            insert(connection, "kept")
        with pytest.raises(BackendError), client.savepoint(), client.connect() as connection:
            insert(connection, "kept")
        with client.connect() as connection:
            insert(connection, "after")
    assert names(client) == ["after", "kept"]


def test_a_failed_statement_before_a_savepoint_still_condemns_the_transaction(client):
    with pytest.raises(BackendError), client.transaction():
        with client.connect() as connection:
            insert(connection, "kept")
        try:
            with client.connect() as connection:
                insert(connection, "kept")
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
                insert(connection, "outer")
            with pytest.raises(RuntimeError), client.savepoint():
                with client.connect() as connection:
                    insert(connection, "inner")
                raise RuntimeError("inner fails")
    assert names(client) == ["outer"]


def test_a_savepoint_outside_a_transaction_just_runs_its_block(client):
    with client.savepoint(), client.connect() as connection:
        insert(connection, "alone")
    assert names(client) == ["alone"]


def test_other_threads_do_not_see_uncommitted_writes(client):
    seen = {}

    def other_thread():
        seen["names"] = names(client)

    with client.transaction():
        with client.connect() as connection:
            insert(connection, "uncommitted")
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen == {"names": []}
    assert names(client) == ["uncommitted"]


def test_unreachable_servers_raise_backend_errors():
    client = PostgreSQLClient("postgresql://nobody@127.0.0.1:1/none", pool_timeout=0.5, connect_timeout=1)
    with pytest.raises(BackendError, match="unavailable"), client.connect():
        pass
    client.close()


def test_statement_timeout_is_applied(url):
    client = PostgreSQLClient(url, statement_timeout_ms=1234)
    with client.connect() as connection:
        assert connection.execute("SHOW statement_timeout").fetchone()[0] == "1234ms"
    client.close()


def test_clients_are_shared_per_url_through_the_registry(url):
    config = Configurator(settings={"storage_url": url, "kinto.permission_url": url, "storage_pool_size": "2"})
    storage_client = client_from_config(config, "storage")
    assert client_from_config(config, "permission") is storage_client
    assert storage_client.pool_size == 2
    storage_client.close()


def test_read_transactions_leave_pooled_connections_transactional(client):
    # Reads run without BEGIN/COMMIT; the connection must come back to the pool in
    # transaction mode, or a later write request would commit statement by statement.
    for _ in range(client.pool_size + 1):
        with client.transaction(write=False):
            with client.connect(readonly=True) as connection:
                assert connection.autocommit
                connection.execute("SELECT 1")
    with pytest.raises(RuntimeError):
        with client.transaction():
            with client.connect() as connection:
                assert not connection.autocommit
                insert(connection, "a")
            with client.connect() as connection:
                insert(connection, "b")
            raise RuntimeError("roll back")
    assert names(client) == []


def test_a_failed_read_still_rolls_back_and_raises(client):
    with pytest.raises(BackendError):
        with client.transaction(write=False):
            with client.connect(readonly=True) as connection:
                connection.execute("SELECT * FROM no_such_table")
    with client.transaction(write=False):
        assert names(client) == []


def test_statements_read_in_a_combined_block_come_back_as_rows_of_each(client):
    with client.connect() as connection:
        for name in ("a", "b", "c"):
            insert(connection, name)
    with client.combined():
        first = client.fetch_later(
            [
                (
                    "SELECT name, 1180591620717411303424::numeric AS big, name = 'b' AS flag FROM database_client_items ORDER BY name",
                    (),
                ),
                ("SELECT name FROM database_client_items WHERE name = %(wanted)s", {"wanted": "zz"}),
            ]
        )
        second = client.fetch_later(
            [("SELECT %s::jsonb AS data, NULL AS nothing, '100%%' AS text", ('{"n": [1, {"x": 1.5}]}',))]
        )
        with pytest.raises(RuntimeError):
            first()  # nothing is read before the block ends
    assert first() == [[("a", 2**70, False), ("b", 2**70, True), ("c", 2**70, False)], []]
    assert second() == [[({"n": [1, {"x": 1.5}]}, None, "100%")]]


def test_a_combined_block_reads_in_one_statement(client):
    sent = []
    original = PostgreSQLClient.connect

    def counting(self, **kwargs):
        sent.append(kwargs)
        return original(self, **kwargs)

    PostgreSQLClient.connect = counting
    try:
        with client.combined():
            reads = [client.fetch_later([("SELECT 1 AS one", ())]) for _ in range(3)]
    finally:
        PostgreSQLClient.connect = original
    assert [read() for read in reads] == [[[(1,)]]] * 3
    assert len(sent) == 1


def test_an_error_in_a_combined_statement_is_a_backend_error(client):
    with pytest.raises(BackendError), client.combined():
        client.fetch_later([("SELECT * FROM no_such_table", ())])


def test_a_combined_block_that_raises_reads_nothing(client):
    with pytest.raises(ValueError), client.combined():
        read = client.fetch_later([("SELECT * FROM no_such_table", ())])
        raise ValueError("the block's own error")
    with pytest.raises(RuntimeError):
        read()


def test_pooled_connections_plan_a_prepared_statement_once(client):
    """PostgreSQL's default plans some prepared statements again at every execution (the request
    read ahead, by key, was: planning cost twice its execution); pooled connections plan them once."""
    with client.connect() as connection:
        insert(connection, "a")
    with client.connect(readonly=True) as connection:
        assert connection.execute("SHOW plan_cache_mode").fetchone()[0] == "force_generic_plan"
        for _ in range(8):
            statement = "SELECT name FROM database_client_items WHERE name = ANY(%s::text[]) ORDER BY name"
            assert connection.execute(statement, ("{a,b}",), prepare=True).fetchall() == [("a",)]
        plans = connection.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ("%FROM database_client_items WHERE name = ANY%",),
        ).fetchall()
    assert plans and all(generic > 0 and custom == 0 for generic, custom in plans)
