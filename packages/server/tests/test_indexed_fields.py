"""A collection's ``indexed_fields``: declared through the API, built by the storage, same answers."""

import pytest

from .conftest import ALICE, needs_application_in_process

AGES = [30, 80, 95, 80, "eighty", None, True, 100, 79.5, 81]
LISTINGS = [
    "?min_age=80&_sort=-age&_limit=3",
    "?gt_age=80&_sort=age",
    "?max_age=80&_sort=-age,id",
    "?lt_age=zzz&_sort=age",
    "?age=80",
    "?_sort=-age&_limit=2",
    "?_sort=age",
]


def _walk(app, url):
    """Every page of a listing, following ``Next-Page``: the ids in order."""
    ids = []
    while url:
        response = app.get(url, headers=ALICE)
        ids += [record["id"] for record in response.json["data"]]
        url = response.headers.get("Next-Page")
    return ids


@pytest.fixture
def people(app, put):
    put("/buckets/b")
    put("/buckets/b/collections/people")
    for position, age in enumerate(AGES):
        put(f"/buckets/b/collections/people/records/p{position}", {"age": age})
    return app


@pytest.mark.parametrize("query", LISTINGS)
def test_declared_fields_list_the_same_records(people, put, query):
    url = f"/v1/buckets/b/collections/people/records{query}"
    undeclared = _walk(people, url)
    assert undeclared
    put("/buckets/b/collections/people", {"indexed_fields": ["age", "-age"]})
    assert _walk(people, url) == undeclared


def test_declared_fields_are_built_by_the_storage_and_dropped_with_the_collection(people, put, registry):
    storage = registry.storage
    if not storage.supports_indexes:
        pytest.skip(f"{type(storage).__module__} builds no index")
    uri = "/buckets/b/collections/people"
    collection = put(uri, {"indexed_fields": ["-age", "name.last"]})
    assert collection["data"]["indexed_fields"] == ["-age", "name.last"]
    assert storage.indexed_fields("record", uri) == ["-age", "name.last"]
    put(uri, {"indexed_fields": ["age"]})
    assert storage.indexed_fields("record", uri) == ["age"]
    people.patch_json(f"/v1{uri}", {"data": {"indexed_fields": []}}, headers=ALICE)
    assert storage.indexed_fields("record", uri) == []
    put(uri, {"indexed_fields": ["age"]})
    people.delete(f"/v1{uri}", headers=ALICE)
    assert storage.indexed_fields("record", uri) == []


def test_deleting_the_bucket_drops_its_collections_indexes(people, put, registry):
    needs_application_in_process("its storage")
    uri = "/buckets/b/collections/people"
    put(uri, {"indexed_fields": ["age"]})
    people.delete("/v1/buckets/b", headers=ALICE)
    assert registry.storage.indexed_fields("record", uri) == []


def test_kinto_migrate_builds_the_declared_indexes(people, put, registry):
    storage = registry.storage
    if not storage.supports_indexes:
        pytest.skip(f"{type(storage).__module__} builds no index")
    uri = "/buckets/b/collections/people"
    put(uri, {"indexed_fields": ["age"]})
    storage.index_fields("record", uri, [])  # as after a copy, or a build that failed
    from kinto.core.initialization import migrate

    assert "collection indexes" in migrate(registry)
    assert storage.indexed_fields("record", uri) == ["age"]


@pytest.mark.parametrize(
    "fields",
    [["a..b"], [""], "age", [5], ["x" * 257], [f"f{i}" for i in range(11)], ["nul\u0000"]],
)
def test_invalid_declarations_are_400s(people, fields):
    response = people.put_json(
        "/v1/buckets/b/collections/people", {"data": {"indexed_fields": fields}}, headers=ALICE, status=400
    )
    assert response.json["errno"] == 107
    assert "indexed_fields" in response.json["message"]
