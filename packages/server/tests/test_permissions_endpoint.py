"""``GET /v1/permissions``: the caller's permissions, in Kinto's format."""

from __future__ import annotations

import pytest

from .conftest import ALICE, BOB, userid


@pytest.fixture(scope="module")
def extra_settings():
    return {"kinto.experimental_permissions_endpoint": "true"}


def _by_uri(app, headers, query=""):
    return {entry["uri"]: entry for entry in app.get(f"/v1/permissions{query}", headers=headers).json["data"]}


def test_the_root_url_announces_the_endpoint(app):
    assert "permissions_endpoint" in app.get("/v1/").json["capabilities"]


def test_owners_see_every_object_they_created_with_implied_permissions(app, tree):
    tree()
    entries = _by_uri(app, ALICE)
    assert entries["/buckets/b1"] == {
        "uri": "/buckets/b1", "resource_name": "bucket", "id": "b1", "bucket_id": "b1",
        "permissions": ["collection:create", "group:create", "read", "write"],
    }
    assert entries["/buckets/b1/collections/c1"]["permissions"] == ["read", "record:create", "write"]
    assert entries["/buckets/b1/collections/c1"]["collection_id"] == "c1"
    record = entries["/buckets/b1/collections/c1/records/r1"]
    assert (record["resource_name"], record["record_id"], record["permissions"]) == ("record", "r1", ["read", "write"])
    assert entries["/buckets/b1/groups/g1"]["group_id"] == "g1"


def test_the_bucket_create_setting_shows_on_the_root(app):
    entries = _by_uri(app, BOB)
    assert entries == {"/": {"uri": "/", "resource_name": "root", "id": "", "permissions": ["bucket:create"]}}


def test_permissions_through_groups_are_listed(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"read": ["/buckets/b1/groups/g1"]})
    entries = _by_uri(app, BOB)
    assert entries["/buckets/b1/collections/c1"]["permissions"] == ["read"]
    assert "/buckets/b1" not in entries


def test_the_list_is_filtered_and_paginated(app, tree):
    tree()
    buckets = app.get("/v1/permissions?resource_name=bucket", headers=ALICE).json["data"]
    assert [entry["uri"] for entry in buckets] == ["/buckets/b1"]
    others = app.get("/v1/permissions?exclude_resource_name=record,root", headers=ALICE).json["data"]
    assert {entry["resource_name"] for entry in others} == {"bucket", "collection", "group"}
    page = app.get("/v1/permissions?_limit=2&_sort=uri", headers=ALICE)
    assert [entry["uri"] for entry in page.json["data"]] == ["/", "/buckets/b1"]
    rest = app.get(page.headers["Next-Page"].replace("http://localhost", ""), headers=ALICE).json["data"]
    assert [entry["uri"] for entry in rest] == ["/buckets/b1/collections/c1", "/buckets/b1/collections/c1/records/r1"]


def test_anonymous_callers_see_what_is_public(app, put):
    put("/buckets/b1", permissions={"read": ["system.Everyone"]})
    assert [entry["uri"] for entry in app.get("/v1/permissions").json["data"]] == ["/buckets/b1"]


def test_the_endpoint_is_read_only(app):
    app.post_json("/v1/permissions", {"data": {}}, headers=ALICE, status=405)
    app.delete("/v1/permissions", headers=ALICE, status=405)
    app.get("/v1/permissions/anything", headers=ALICE, status=404)


def test_entries_of_deleted_objects_disappear(app, tree):
    tree()
    app.delete("/v1/buckets/b1", headers=ALICE)
    assert list(_by_uri(app, ALICE)) == ["/"]


def test_a_shared_record_is_listed_for_its_reader(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1/records/r1", permissions={"read": [userid("bob")]})
    entries = _by_uri(app, BOB)
    assert entries["/buckets/b1/collections/c1/records/r1"]["permissions"] == ["read"]
