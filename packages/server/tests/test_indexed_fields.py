"""A collection's ``indexed_fields``: declared through the API, built by the storage in the background,
same answers; no index outlives its declaration (the database's catalogue says what exists)."""

import logging

import pytest
from kinto.core.initialization import migrate

from kinto.server.indexes import wait_for_index_builds

from .conftest import (
    ALICE,
    LIVE_URL,
    backend_settings,
    build_app,
    close_clients,
    flush,
    needs_application_in_process,
    postgresql_url,
)

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
    if not LIVE_URL:
        wait_for_index_builds(people.app.registry)
    assert _walk(people, url) == undeclared


def catalogue(storage):
    """The declared indexes the database holds, ``{name: valid}``, read from its own catalogue."""
    if type(storage).__module__.endswith("postgresql"):
        statement = (
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_indexes p ON p.indexname = c.relname WHERE c.relname LIKE 'kinto\\_field\\_%'"
        )
    else:
        statement = (
            "SELECT name, 1 FROM sqlite_master WHERE type = 'index' AND name LIKE 'kinto\\_field\\_%' ESCAPE '\\'"
        )
    with storage.client.connect(readonly=True) as connection:
        return {name: bool(valid) for name, valid in connection.execute(statement).fetchall()}


@pytest.fixture
def storage(registry):
    if not registry.storage.supports_indexes:
        pytest.skip(f"{type(registry.storage).__module__} builds no index")
    return registry.storage


def declare(app, uri, fields, method="put_json"):
    return getattr(app, method)(f"/v1{uri}", {"data": {"indexed_fields": fields}}, headers=ALICE).json


def test_declared_fields_are_built_by_the_storage_and_dropped_with_the_collection(people, registry, storage):
    uri = "/buckets/b/collections/people"
    collection = declare(people, uri, ["-age", "name.last"])
    assert collection["data"]["indexed_fields"] == ["-age", "name.last"]
    assert wait_for_index_builds(registry, timeout=60)
    assert storage.indexed_fields("record", uri) == ["-age", "name.last"]
    assert list(catalogue(storage).values()) == [True, True]
    declare(people, uri, ["age"])
    wait_for_index_builds(registry)
    assert storage.indexed_fields("record", uri) == ["age"]
    assert len(catalogue(storage)) == 1
    declare(people, uri, [], method="patch_json")
    wait_for_index_builds(registry)
    assert storage.indexed_fields("record", uri) == [] and catalogue(storage) == {}
    declare(people, uri, ["age"])
    people.delete(f"/v1{uri}", headers=ALICE)
    wait_for_index_builds(registry)
    assert storage.indexed_fields("record", uri) == [] and catalogue(storage) == {}


def test_a_declaration_answers_before_its_index_is_built(people, registry, storage, backend, caplog):
    """The build waits for another process's (here: the test holds the build lock); the request does not."""
    if backend != "postgresql":
        pytest.skip("holding the build lock from outside the process: PostgreSQL's advisory lock")
    import psycopg

    uri = "/buckets/b/collections/people"
    url = "/v1/buckets/b/collections/people/records?min_age=80&_sort=-age"
    undeclared = people.get(url, headers=ALICE).json["data"]
    caplog.set_level(logging.INFO, logger="kinto.server.indexes")
    with psycopg.connect(postgresql_url(), autocommit=True) as other_builder:
        other_builder.execute("SELECT pg_advisory_lock(hashtext('kinto.core.storage.indexes'))")
        assert declare(people, uri, ["-age"])["data"]["indexed_fields"] == ["-age"]
        assert not wait_for_index_builds(registry, timeout=0.5)
        assert storage.indexed_fields("record", uri) == [] and catalogue(storage) == {}
        assert people.get(url, headers=ALICE).json["data"] == undeclared  # read meanwhile, same answer
        people.get("/v1/__heartbeat__", status=200)
        other_builder.execute("SELECT pg_advisory_unlock(hashtext('kinto.core.storage.indexes'))")
    assert wait_for_index_builds(registry, timeout=60)
    assert storage.indexed_fields("record", uri) == ["-age"]
    assert list(catalogue(storage).values()) == [True]
    assert people.get(url, headers=ALICE).json["data"] == undeclared
    built = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"Built the indexes of {uri} in")]
    assert len(built) == 1 and built[0].endswith("['-age']")


def test_deleting_the_bucket_drops_its_collections_indexes(people, put, registry, storage):
    put("/buckets/b/collections/people", {"indexed_fields": ["age"]})
    put("/buckets/b/collections/other", {"indexed_fields": ["-age", "name"]})
    wait_for_index_builds(registry)
    assert len(catalogue(storage)) == 3
    people.delete("/v1/buckets/b", headers=ALICE)
    wait_for_index_builds(registry)
    assert storage.indexed_fields("record", "/buckets/b/collections/people") == []
    assert catalogue(storage) == {}


def test_deleting_collections_together_drops_their_indexes(people, put, registry, storage):
    put("/buckets/b/collections/other", {"indexed_fields": ["age"]})
    put("/buckets/b/collections/people", {"indexed_fields": ["age"]})
    put("/buckets/c")
    put("/buckets/c/collections/kept", {"indexed_fields": ["age"]})
    wait_for_index_builds(registry)
    people.delete("/v1/buckets/b/collections", headers=ALICE)
    wait_for_index_builds(registry)
    assert len(catalogue(storage)) == 1
    assert storage.indexed_fields("record", "/buckets/c/collections/kept") == ["age"]


def test_flushing_the_server_drops_every_declared_index(backend, tmp_path):
    needs_application_in_process("settings of its own")
    app = build_app({**backend_settings(backend, tmp_path), "kinto.includes": "kinto.plugins.flush"})
    flush(app)
    try:
        storage = app.app.registry.storage
        if not storage.supports_indexes:
            pytest.skip(f"{type(storage).__module__} builds no index")
        app.put_json("/v1/buckets/b", {"data": {}}, headers=ALICE)
        app.put_json("/v1/buckets/b/collections/c", {"data": {"indexed_fields": ["age", "-n"]}}, headers=ALICE)
        wait_for_index_builds(app.app.registry)
        assert len(catalogue(storage)) == 2
        app.post("/v1/__flush__", status=202)
        assert catalogue(storage) == {}
    finally:
        close_clients(app)


def test_kinto_migrate_builds_the_declared_indexes(people, put, registry, storage):
    uri = "/buckets/b/collections/people"
    put(uri, {"indexed_fields": ["age"]})
    wait_for_index_builds(registry)
    storage.index_fields("record", uri, [])  # as after a copy, or a build that failed
    assert "collection indexes" in migrate(registry)
    assert storage.indexed_fields("record", uri) == ["age"]


def test_a_collection_change_keeping_its_fields_builds_what_is_missing(people, put, registry, storage):
    """What a failed build left missing (here: dropped behind the server's back) is built by the next
    change to the collection (a write changing nothing is no change: no event, nothing built)."""
    uri = "/buckets/b/collections/people"
    put(uri, {"indexed_fields": ["age", "-age"]})
    wait_for_index_builds(registry)
    storage.index_fields("record", uri, ["age"])
    people.patch_json(f"/v1{uri}", {"data": {"indexed_fields": ["age", "-age"], "title": "People"}}, headers=ALICE)
    wait_for_index_builds(registry)
    assert storage.indexed_fields("record", uri) == ["-age", "age"]
    assert list(catalogue(storage).values()) == [True, True]


def test_kinto_migrate_drops_the_indexes_of_collections_gone(people, put, registry, storage):
    """A collection deleted by a process stopped before its indexes were dropped (here: deleted
    through the storage, as no request would): ``kinto migrate`` drops them."""
    put("/buckets/b/collections/people", {"indexed_fields": ["age", "-age"]})
    put("/buckets/b/collections/kept", {"indexed_fields": ["age"]})
    wait_for_index_builds(registry)
    storage.delete("collection", "/buckets/b", "people")
    assert len(catalogue(storage)) == 3
    migrate(registry)
    assert len(catalogue(storage)) == 1
    assert storage.indexed_fields("record", "/buckets/b/collections/kept") == ["age"]


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


def test_collections_that_declare_nothing_start_no_build(app, put, registry, caplog):
    """A build holds SQLite's write lock: one per created or changed collection made writers time out."""
    if LIVE_URL:
        pytest.skip("reads the logs of the application in process")
    caplog.set_level(logging.INFO, logger="kinto.server.indexes")
    put("/buckets/b")
    put("/buckets/b/collections/plain")
    put("/buckets/b/collections/plain", {"title": "changed"})
    app.delete("/v1/buckets/b/collections/plain", headers=ALICE)
    assert wait_for_index_builds(registry, timeout=60)
    assert [r.getMessage() for r in caplog.records if "indexes of" in r.getMessage()] == []
