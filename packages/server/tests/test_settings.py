"""Settings carried over from Kinto's ini files: who may create buckets, global read, schema validation."""

from __future__ import annotations

import pytest

from .conftest import ALICE, BOB, CAROL, userid

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}


@pytest.fixture(scope="module")
def extra_settings():
    return {
        "kinto.bucket_create_principals": userid("alice"),
        "kinto.bucket_read_principals": userid("carol"),
        "kinto.experimental_collection_schema_validation": "false",
        "kinto.experimental_permissions_endpoint": "false",
    }


def test_only_the_listed_principals_create_buckets(app):
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, status=201)
    app.put_json("/v1/buckets/b2", {"data": {}}, headers=BOB, status=403)
    app.post_json("/v1/buckets", {"data": {}}, headers=BOB, status=403)


def test_a_user_who_may_neither_create_nor_read_cannot_list_buckets(app):
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, status=201)
    app.get("/v1/buckets", headers=BOB, status=403)


def test_a_global_read_principal_reads_every_bucket_but_not_what_they_hold(app, tree):
    tree()
    assert [b["id"] for b in app.get("/v1/buckets", headers=CAROL).json["data"]] == ["b1"]
    assert app.get("/v1/buckets/b1", headers=CAROL).json["data"]["id"] == "b1"
    app.patch_json("/v1/buckets/b1", {"data": {"x": 1}}, headers=CAROL, status=403)
    # As in Kinto, kinto.bucket_read_principals is about buckets; record_read_principals about records.
    app.get("/v1/buckets/b1/collections/c1/records/r1", headers=CAROL, status=403)


def test_records_are_not_validated_when_validation_is_off(app, put):
    put("/buckets/b1")
    put("/buckets/b1/collections/c1", {"schema": SCHEMA})
    created = app.post_json("/v1/buckets/b1/collections/c1/records", {"data": {"title": 42}}, headers=ALICE)
    assert created.json["data"]["title"] == 42
    assert "schema" not in app.get("/v1/", headers=ALICE).json["capabilities"]


def test_an_invalid_collection_schema_is_refused_even_when_validation_is_off(app, put):
    put("/buckets/b1")
    response = app.put_json(
        "/v1/buckets/b1/collections/c1", {"data": {"schema": {"type": "nonsense"}}}, headers=ALICE, status=400
    )
    assert response.json["details"][0]["name"] == "data.schema"


def test_the_permissions_endpoint_can_be_turned_off(app):
    app.get("/v1/permissions", headers=ALICE, status=404)
    assert "permissions_endpoint" not in app.get("/v1/").json["capabilities"]
