from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kinto.core.testing.plugin import BackendFactory
from kinto.core.testing.postgresql import postgresql_test_database
from kinto.core.testing.storage import StorageContract, backend_selected

pytestmark = pytest.mark.skipif(
    not backend_selected("postgresql"), reason="KINTO_CONTRACT_BACKENDS excludes postgresql"
)


@pytest.fixture(scope="module")
def postgresql_factory():
    factory = BackendFactory(
        "kinto.core.storage.postgresql",
        {"storage_url": postgresql_test_database("kinto_storage_tests")},
        kind="storage",
    )
    yield factory
    factory.close()


class TestPostgreSQLStorage(StorageContract):
    @pytest.fixture
    def backend_factory(self, postgresql_factory):
        return postgresql_factory


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_a_declared_field_is_filtered_and_sorted_from_its_index(postgresql_factory):
    """``?min_age=80&_sort=-age&_limit=50`` reads its page from the field's index, in order (the id
    tie-breaker following the last sort's direction, as the API sorts)."""
    from kinto.core.storage import COMPARISON, Filter, Sort
    from kinto.core.storage.indexes import index_name

    storage = postgresql_factory()
    parent = "/buckets/b/collections/people"
    objects = [{"id": f"r{i:05}", "last_modified": 1000 + i, "age": i % 101} for i in range(5000)]
    storage.import_objects("record", parent, objects)
    storage.index_fields("record", parent, ["-age"])  # also ANALYZEs the table
    filters, sorting = [Filter("age", 80, COMPARISON.MIN)], [Sort("age", -1), Sort("id", -1)]
    with storage.client.connect() as connection:
        builder = storage._builder("id", "last_modified", storage._declared(connection, "record", parent))
        sql = storage._select_sql(builder, "record", parent, filters, sorting, None, 50, False)
        explained = connection.execute("EXPLAIN (FORMAT JSON) " + sql, builder.params).fetchone()[0]
    nodes = list(_plan_nodes(explained[0]["Plan"]))
    scans = [node for node in nodes if node["Node Type"] == "Index Scan"]
    assert [scan["Index Name"] for scan in scans] == [index_name("record", parent, "-age")]
    assert not any(node["Node Type"] in ("Sort", "Incremental Sort", "Seq Scan") for node in nodes)
    listed = storage.list_all("record", parent, filters=filters, sorting=sorting, limit=50)
    expected = sorted((o for o in objects if o["age"] >= 80), key=lambda o: (o["age"], o["id"]), reverse=True)[:50]
    assert [o["id"] for o in listed] == [o["id"] for o in expected]


def test_lists_and_counts_need_one_pooled_connection_each():
    """Reading a collection's declared fields uses the query's own connection: a pool of one suffices."""
    from kinto.core.storage import COMPARISON, Filter, Sort

    settings = {
        "storage_url": postgresql_test_database("kinto_storage_pool_of_one"),
        "storage_pool_size": "1",
        "storage_pool_timeout": "2",
    }
    factory = BackendFactory("kinto.core.storage.postgresql", settings, kind="storage")
    try:
        storage = factory()
        parent = "/buckets/b/collections/people"
        storage.import_objects("record", parent, [{"id": f"r{i}", "last_modified": 10 + i, "age": i} for i in range(5)])
        storage.index_fields("record", parent, ["age"])
        storage.declared_fields.forget()
        listed = storage.list_all(
            "record", parent, filters=[Filter("age", 3, COMPARISON.MIN)], sorting=[Sort("age", -1)]
        )
        assert [obj["id"] for obj in listed] == ["r4", "r3"]
        storage.declared_fields.forget()
        assert storage.count_all("record", parent, filters=[Filter("age", 3, COMPARISON.MIN)]) == 2
    finally:
        factory.close()


PEOPLE = "/buckets/b/collections/people"


@contextmanager
def _one_connection_storage() -> Iterator[Any]:
    """A PostgreSQL storage with a pool of one connection, holding 30 records whose names need quoting."""
    settings = {"storage_url": postgresql_test_database("kinto_storage_planned"), "storage_pool_size": "1"}
    factory = BackendFactory("kinto.core.storage.postgresql", settings, kind="storage")
    try:
        storage = factory()
        storage.flush()
        objects = [{"id": f"r{i}", "last_modified": 10 + i, "name": f"O'Hara %_\\ {i}"} for i in range(30)]
        storage.import_objects("record", PEOPLE, objects)
        yield storage
    finally:
        factory.close()


def _prepared_listings(storage: Any) -> list[tuple[str, str]]:
    """The statements over the objects the connection prepared for the listings (text, parameter types)."""
    with storage.client.connect(readonly=True) as connection:
        prepared = connection.execute(
            "SELECT statement, parameter_types::text FROM pg_prepared_statements WHERE statement LIKE %s",
            ("%FROM objects WHERE%",),
        ).fetchall()
    return [(sql, types) for sql, types in prepared if "O''Hara" in sql or "nobody" in sql]


def test_a_listing_is_planned_for_its_values():
    """Pooled connections plan prepared statements once, for any value; a listing's plan depends on
    its values (a filter keeping 1 record or all of them), so it carries them as literals: with a
    pool of one connection, no statement over the objects it prepared takes parameters."""
    from kinto.core.storage import COMPARISON, Filter

    with _one_connection_storage() as storage:
        for _ in range(7):  # psycopg prepares a statement run 5 times
            for wanted in ("O'Hara %_\\ 7", "nobody"):
                filters = [Filter("name", wanted, COMPARISON.EQ)]
                listed = storage.list_all("record", PEOPLE, filters=filters)
                assert [obj["id"] for obj in listed] == (["r7"] if wanted != "nobody" else [])
                assert storage.count_all("record", PEOPLE, filters=filters) == len(listed)
        listings = _prepared_listings(storage)
        assert listings and all(types == "{}" for _, types in listings)


def test_a_page_read_ahead_is_planned_for_its_values():
    """``prefetch_page`` (for a resource that reads its page ahead) sends its listing with the
    request's other reads, in one statement inside ``combined()``: with its values as literals too,
    ``%`` and quotes included, whether it travels alone or with statements that take parameters."""
    from kinto.core.storage import COMPARISON, Filter, Sort

    with _one_connection_storage() as storage:
        sorting = [Sort("last_modified", -1)]
        stamp = storage.resource_timestamp("record", PEOPLE)
        for _ in range(7):  # psycopg prepares a statement run 5 times
            for wanted, expected in (("O'Hara %_\\ 7", ["r7"]), ("nobody", [])):
                page = ("record", PEOPLE, [Filter("name", wanted, COMPARISON.EQ)], sorting, None, 10, False)
                # Alone, then with reads that take parameters, in one combined statement.
                timestamp, listed = storage.prefetch_page(page)()
                assert timestamp == stamp and [obj["id"] for obj in listed] == expected
                with storage.client.combined():
                    read_page = storage.prefetch_page(page)
                    read_objects = storage.prefetch_objects([("record", PEOPLE, "r3")])
                timestamp, listed = read_page()
                assert timestamp == stamp and [obj["id"] for obj in listed] == expected
                assert [obj["name"] for obj in read_objects()] == ["O'Hara %_\\ 3"]
        listings = _prepared_listings(storage)
        # Alone, the listing takes no parameter; combined, the statement takes those of the
        # timestamp's and the objects' reads (2 + 3), none of the listing's.
        parameters = sorted({0 if types == "{}" else types.count(",") + 1 for _, types in listings})
        assert parameters == [0, 5]
        assert all("%%" not in sql for sql, _ in listings) and any("O''Hara %_" in sql for sql, _ in listings)


def test_a_declaration_made_while_the_same_index_builds_waits_and_builds_nothing(postgresql_factory):
    """Two workers declaring the same field at once: the second waits for the first build, then finds
    the index valid; it neither fails nor drops the index to build it a second time."""
    import threading

    import psycopg

    from kinto.core.storage.indexes import index_name

    storage = postgresql_factory()
    parent = "/buckets/b/collections/people"
    storage.import_objects("record", parent, [{"id": f"r{i}", "last_modified": 10 + i, "age": i} for i in range(100)])
    name = index_name("record", parent, "age")
    catalog = "SELECT c.oid, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s"
    failures = []

    def declare():
        try:
            storage.index_fields("record", parent, ["age"])
        except Exception as error:  # reported by the assertion below
            failures.append(error)

    with psycopg.connect(postgresql_test_database("kinto_storage_tests"), autocommit=True) as observer:
        with psycopg.connect(postgresql_test_database("kinto_storage_tests")) as writer:
            # A write lock on the table: the concurrent build waits for it, its index left invalid meanwhile.
            writer.execute("LOCK TABLE objects IN ROW EXCLUSIVE MODE")
            first = threading.Thread(target=declare)
            first.start()
            for _ in range(100):
                building = observer.execute(catalog, (name,)).fetchall()
                if building:
                    break
                threading.Event().wait(0.05)
            assert building and building[0][1] is False
            second = threading.Thread(target=declare)
            second.start()
            threading.Event().wait(0.5)
            writer.rollback()
        first.join(30)
        second.join(30)
        assert not failures
        assert observer.execute(catalog, (name,)).fetchall() == [(building[0][0], True)]
    assert storage.indexed_fields("record", parent) == ["age"]
