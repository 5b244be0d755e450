"""The server-wide cap on declared indexes (``kinto.indexed_fields_max``) and who may declare them
(``kinto.indexed_fields_principals``): checked before anything is written, batches included. Declarations
count, built or not: indexes are built in the background."""

import pytest

from kinto.server.indexes import wait_for_index_builds

from .conftest import (
    ALICE,
    BOB,
    CAROL,
    backend_settings,
    build_app,
    close_clients,
    needs_application_in_process,
    userid,
)

MAXIMUM = 4


@pytest.fixture(scope="module")
def extra_settings():
    return {
        "kinto.indexed_fields_max": str(MAXIMUM),
        "kinto.indexed_fields_principals": f"{userid('alice')} {userid('bob')}",
    }


@pytest.fixture
def buckets(app, put, registry):
    if not registry.storage.supports_indexes:
        pytest.skip(f"{type(registry.storage).__module__} builds no index: nothing to count")
    for bucket in ("b1", "b2"):
        put(f"/buckets/{bucket}", permissions={"write": [userid("bob"), userid("carol")]})
    return app


def declare(app, uri, fields, status=None, headers=ALICE):
    return app.put_json(f"/v1{uri}", {"data": {"indexed_fields": fields}}, headers=headers, status=status)


def test_a_declaration_beyond_the_cap_is_refused_and_changes_nothing(buckets, registry):
    declare(buckets, "/buckets/b1/collections/c1", ["a", "-a", "b"])
    declare(buckets, "/buckets/b2/collections/c2", ["x"])
    before = buckets.get("/v1/buckets/b2/collections/c2", headers=ALICE).json["data"]

    response = declare(buckets, "/buckets/b2/collections/c2", ["x", "y"], status=400)

    assert response.json["errno"] == 107
    (detail,) = response.json["details"]
    assert detail["location"] == "body" and detail["name"] == "data.indexed_fields"
    assert f"at most {MAXIMUM}" in detail["description"]
    assert buckets.get("/v1/buckets/b2/collections/c2", headers=ALICE).json["data"] == before
    wait_for_index_builds(registry)
    assert registry.storage.indexed_fields("record", "/buckets/b2/collections/c2") == ["x"]
    declare(buckets, "/buckets/b2/collections/new", ["z"], status=400)
    buckets.get("/v1/buckets/b2/collections/new", headers=ALICE, status=404)
    assert registry.storage.count_indexed_fields() == MAXIMUM


def test_at_the_cap_collections_can_be_updated_redeclared_and_trimmed(buckets, registry):
    declare(buckets, "/buckets/b1/collections/c1", ["a", "b"])
    declare(buckets, "/buckets/b2/collections/c2", ["x", "y"])
    buckets.patch_json("/v1/buckets/b1/collections/c1", {"data": {"title": "People"}}, headers=ALICE)
    declare(buckets, "/buckets/b1/collections/c1", ["b", "a", "id"])
    declare(buckets, "/buckets/b1/collections/c1", ["a", "c"])  # one out, one in
    declare(buckets, "/buckets/b2/collections/c2", ["x"])
    wait_for_index_builds(registry)
    assert registry.storage.count_indexed_fields() == 3


def test_deleting_a_collection_or_a_bucket_frees_its_share(buckets, registry):
    declare(buckets, "/buckets/b1/collections/c1", ["a", "b"])
    declare(buckets, "/buckets/b2/collections/c2", ["x", "y"])
    declare(buckets, "/buckets/b2/collections/c3", ["z"], status=400)
    buckets.delete("/v1/buckets/b1/collections/c1", headers=ALICE)
    declare(buckets, "/buckets/b2/collections/c3", ["z"])
    buckets.delete("/v1/buckets/b2", headers=ALICE)
    wait_for_index_builds(registry)
    assert registry.storage.count_indexed_fields() == 0
    declare(buckets, "/buckets/b1/collections/c4", ["a", "b", "c", "d"])


def test_batch_sub_requests_count_what_the_earlier_ones_declared(buckets, registry):
    requests = [
        {"method": "PUT", "path": f"/buckets/b1/collections/c{n}", "body": {"data": {"indexed_fields": ["a", "b"]}}}
        for n in range(3)
    ]
    responses = buckets.post_json("/v1/batch", {"requests": requests}, headers=ALICE).json["responses"]
    assert [response["status"] for response in responses] == [201, 201, 400]
    assert responses[2]["body"]["details"][0]["name"] == "data.indexed_fields"
    wait_for_index_builds(registry)
    assert registry.storage.count_indexed_fields() == MAXIMUM
    buckets.get("/v1/buckets/b1/collections/c2", headers=ALICE, status=404)


def test_only_the_allowed_principals_add_fields(buckets, registry):
    declare(buckets, "/buckets/b1/collections/c1", ["a"], headers=BOB)
    response = declare(buckets, "/buckets/b1/collections/c1", ["a", "b"], headers=CAROL, status=403)
    assert response.json["errno"] == 121
    assert "indexed_fields" in response.json["message"]
    declare(buckets, "/buckets/b1/collections/c1", ["a"], headers=CAROL)  # nothing added
    declare(buckets, "/buckets/b1/collections/c1", [], headers=CAROL)
    wait_for_index_builds(registry)
    assert registry.storage.indexed_fields("record", "/buckets/b1/collections/c1") == []


@pytest.mark.parametrize("backend_name", ["memory", "sqlite"])
def test_a_cap_of_zero_refuses_every_new_declaration(backend_name, tmp_path):
    needs_application_in_process("settings of its own")
    app = build_app({**backend_settings(backend_name, tmp_path), "kinto.indexed_fields_max": "0"})
    try:
        app.put_json("/v1/buckets/b", {"data": {}}, headers=ALICE)
        app.put_json("/v1/buckets/b/collections/c", {"data": {"indexed_fields": []}}, headers=ALICE)
        response = declare(app, "/buckets/b/collections/c", ["age"], status=400)
        assert "disabled" in response.json["details"][0]["description"]
    finally:
        close_clients(app)
