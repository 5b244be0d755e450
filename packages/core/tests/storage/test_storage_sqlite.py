import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto.core.storage import MISSING
from kinto.core.storage import query as q
from kinto.core.storage.sqlite import sort_key
from kinto.core.testing.plugin import BackendFactory
from kinto.core.testing.storage import StorageContract, backend_selected

pytestmark = pytest.mark.skipif(not backend_selected("sqlite"), reason="KINTO_CONTRACT_BACKENDS excludes sqlite")


@pytest.fixture(scope="module")
def sqlite_factory(tmp_path_factory):
    path = tmp_path_factory.mktemp("storage") / "kinto.sqlite"
    factory = BackendFactory("kinto.core.storage.sqlite", {"storage_url": f"sqlite:///{path}"}, kind="storage")
    yield factory
    factory.close()


class TestSQLiteStorage(StorageContract):
    @pytest.fixture
    def backend_factory(self, sqlite_factory):
        return sqlite_factory


def _plan(storage, parent, filters, sorting, pagination_rules=None):
    """SQLite's plan of a page of 50 of the listing, one line per step."""
    with storage.client.connect(readonly=True) as connection:
        builder = storage._builder("id", "last_modified", storage._declared(connection, "record", parent))
        sql = storage._select_sql(builder, "record", parent, filters, sorting, pagination_rules, 50, False)
        return [row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, builder.params).fetchall()]


def test_a_declared_field_is_filtered_and_sorted_from_its_index(sqlite_factory):
    """``?min_age=80&_sort=-age&_limit=50`` and its next page seek the field's index, in order: no sort.

    Sorted as the API sorts it: the id tie-breaker follows the last sort's direction.
    """
    from kinto.core.storage import COMPARISON, Filter, Sort

    storage = sqlite_factory()
    parent, other = "/buckets/b/collections/people", "/buckets/b/collections/other"
    objects = [{"id": f"r{i:05}", "last_modified": 1000 + i, "age": i % 101} for i in range(5000)]
    storage.import_objects("record", parent, objects)
    storage.import_objects("record", other, objects)
    filters, sorting = [Filter("age", 80, COMPARISON.MIN)], [Sort("age", -1), Sort("id", -1)]
    expected = sorted((o for o in objects if o["age"] >= 80), key=lambda o: (o["age"], o["id"]), reverse=True)
    assert any("TEMP B-TREE" in step for step in _plan(storage, parent, filters, sorting))

    storage.index_fields("record", parent, ["-age"])
    (plan,) = _plan(storage, parent, filters, sorting)
    assert plan.startswith("SEARCH objects USING INDEX kinto_field_")
    page = storage.list_all("record", parent, filters=filters, sorting=sorting, limit=50)
    assert [o["id"] for o in page] == [o["id"] for o in expected[:50]]

    last = page[-1]
    rules = [
        [Filter("age", last["age"], COMPARISON.LT)],
        [Filter("age", last["age"], COMPARISON.EQ), Filter("id", last["id"], COMPARISON.LT)],
    ]
    (plan,) = _plan(storage, parent, filters, sorting, rules)
    assert plan.startswith("SEARCH objects USING INDEX kinto_field_")
    page = storage.list_all("record", parent, filters=filters, sorting=sorting, pagination_rules=rules, limit=50)
    assert [o["id"] for o in page] == [o["id"] for o in expected[50:100]]
    assert not any("kinto_field_" in step for step in _plan(storage, other, filters, sorting))


_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False), st.text()
)
_json_values = st.one_of(_json_scalars, st.lists(_json_scalars, max_size=2), st.dictionaries(st.text(), _json_scalars))


@given(st.one_of(_json_values, st.just(MISSING)), st.one_of(_json_values, st.just(MISSING)))
def test_sort_key_bytes_order_values_as_the_contract_does(left, right):
    """The bytes of a declared field's key compare as the contract's sort order (exact below 2**53)."""
    expected = (q.sort_key(left) > q.sort_key(right)) - (q.sort_key(left) < q.sort_key(right))
    assert (sort_key(left) > sort_key(right)) - (sort_key(left) < sort_key(right)) == expected
