"""JSON Schemas: a collection's ``schema`` validates its records; buckets may hold schemas for their children."""

from __future__ import annotations

import pytest

from .conftest import ALICE

RECORDS = "/v1/buckets/b1/collections/c1/records"
SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "rank": {"type": "integer", "minimum": 0}},
    "required": ["title"],
}


@pytest.fixture
def collection(put):
    put("/buckets/b1")
    return put("/buckets/b1/collections/c1", {"schema": SCHEMA})["data"]


def test_the_root_url_announces_schema_validation(app):
    assert "schema" in app.get("/v1/").json["capabilities"]


def test_valid_records_are_stamped_with_the_schema_version(app, collection):
    created = app.post_json(RECORDS, {"data": {"title": "ok", "rank": 1}}, headers=ALICE, status=201).json["data"]
    assert created["schema"] == collection["last_modified"]


@pytest.mark.parametrize(
    ("data", "field"),
    [({"rank": 1}, "title"), ({"title": 1}, "title"), ({"title": "x", "rank": -1}, "rank")],
)
def test_invalid_records_are_refused_naming_the_field(app, collection, data, field):
    response = app.post_json(RECORDS, {"data": data}, headers=ALICE, status=400)
    assert response.json["errno"] == 107
    assert response.json["details"][0]["name"] == field


def test_patches_are_validated_on_the_merged_record(app, collection):
    app.put_json(f"{RECORDS}/r1", {"data": {"title": "x"}}, headers=ALICE)
    app.patch_json(f"{RECORDS}/r1", {"data": {"title": None}}, headers=ALICE, status=400)
    app.patch_json(f"{RECORDS}/r1", {"data": {"rank": 3}}, headers=ALICE, status=200)


def test_id_and_timestamps_are_not_subject_to_the_schema(app, put):
    put("/buckets/b1")
    strict = {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "additionalProperties": False,
        "required": ["id", "last_modified", "title"],
    }
    put("/buckets/b1/collections/c1", {"schema": strict})
    app.put_json(f"{RECORDS}/r1", {"data": {"title": "x"}}, headers=ALICE, status=201)


def test_changing_the_schema_applies_to_later_writes(app, collection, put):
    app.put_json(f"{RECORDS}/r1", {"data": {"title": "x"}}, headers=ALICE)
    put("/buckets/b1/collections/c1", {"schema": {**SCHEMA, "required": ["title", "rank"]}})
    app.put_json(f"{RECORDS}/r2", {"data": {"title": "x"}}, headers=ALICE, status=400)
    assert app.get(f"{RECORDS}/r1", headers=ALICE).json["data"]["title"] == "x"


@pytest.mark.parametrize("schema", [{"type": "nonsense"}, {"properties": []}, "a string", [1]])
def test_an_invalid_collection_schema_is_refused(app, put, schema):
    put("/buckets/b1")
    response = app.put_json("/v1/buckets/b1/collections/c1", {"data": {"schema": schema}}, headers=ALICE, status=400)
    assert response.json["errno"] == 107
    assert response.json["details"][0]["name"] == "data.schema"


def test_an_unresolvable_reference_is_a_400_on_write(app, put):
    put("/buckets/b1")
    put("/buckets/b1/collections/c1", {"schema": {"$ref": "#/definitions/missing"}})
    response = app.post_json(RECORDS, {"data": {}}, headers=ALICE, status=400)
    assert response.json["details"][0]["name"] == "schema"


def test_a_bucket_record_schema_applies_to_every_collection(app, put):
    put("/buckets/b1", {"record:schema": {"type": "object", "required": ["owner"]}})
    put("/buckets/b1/collections/c1")
    app.post_json(RECORDS, {"data": {"title": "x"}}, headers=ALICE, status=400)
    app.post_json(RECORDS, {"data": {"owner": "me"}}, headers=ALICE, status=201)


def test_a_bucket_collection_schema_applies_to_its_collections(app, put):
    put("/buckets/b1", {"collection:schema": {"type": "object", "required": ["title"]}})
    app.put_json("/v1/buckets/b1/collections/c1", {"data": {}}, headers=ALICE, status=400)
    app.put_json("/v1/buckets/b1/collections/c1", {"data": {"title": "t"}}, headers=ALICE, status=201)


def test_a_bucket_group_schema_applies_to_its_groups(app, put):
    put("/buckets/b1", {"group:schema": {"type": "object", "properties": {"members": {"maxItems": 1}}}})
    app.put_json("/v1/buckets/b1/groups/g1", {"data": {"members": ["a", "b"]}}, headers=ALICE, status=400)
    app.put_json("/v1/buckets/b1/groups/g1", {"data": {"members": ["a"]}}, headers=ALICE, status=201)


def test_an_invalid_bucket_schema_is_refused(app):
    response = app.put_json("/v1/buckets/b1", {"data": {"record:schema": {"type": 12}}}, headers=ALICE, status=400)
    assert response.json["details"][0]["name"] == "data.record:schema"
