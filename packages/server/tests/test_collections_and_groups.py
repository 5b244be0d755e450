"""Collections and groups: CRUD below a bucket, ids, and group members."""

from __future__ import annotations

import pytest

from .conftest import ALICE, BOB, userid


@pytest.fixture
def bucket(put):
    put("/buckets/b1")


def test_collections_are_created_listed_and_deleted(app, bucket):
    app.put_json("/v1/buckets/b1/collections/c1", {"data": {"title": "one"}}, headers=ALICE, status=201)
    posted = app.post_json("/v1/buckets/b1/collections", {"data": {}}, headers=ALICE, status=201).json["data"]
    listed = {c["id"] for c in app.get("/v1/buckets/b1/collections", headers=ALICE).json["data"]}
    assert listed == {"c1", posted["id"]}
    app.delete("/v1/buckets/b1/collections/c1", headers=ALICE, status=200)
    app.get("/v1/buckets/b1/collections/c1", headers=ALICE, status=404)


def test_a_collection_below_a_missing_bucket_is_404_for_privileged_callers(app):
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE)
    app.delete("/v1/buckets/b1", headers=ALICE)
    # Alice's permissions went with the bucket: she is a stranger there now.
    app.get("/v1/buckets/b1/collections", headers=ALICE, status=403)


def test_collection_ids_follow_the_name_rule(app, bucket):
    response = app.post_json("/v1/buckets/b1/collections", {"data": {"id": "a.b"}}, headers=ALICE, status=400)
    assert response.json["errno"] == 107


def test_a_group_without_members_has_an_empty_list(app, bucket):
    created = app.put_json("/v1/buckets/b1/groups/g1", {"data": {}}, headers=ALICE, status=201).json["data"]
    assert created["members"] == []


def test_groups_are_listed_and_updated(app, bucket):
    app.put_json("/v1/buckets/b1/groups/g1", {"data": {"members": [userid("bob")]}}, headers=ALICE)
    app.patch_json("/v1/buckets/b1/groups/g1", {"data": {"members": [userid("bob"), userid("carol")]}}, headers=ALICE)
    (group,) = app.get("/v1/buckets/b1/groups", headers=ALICE).json["data"]
    assert group["members"] == [userid("bob"), userid("carol")]


def test_group_members_may_be_edited_with_json_patch(app, bucket):
    app.put_json("/v1/buckets/b1/groups/g1", {"data": {"members": []}}, headers=ALICE)
    operations = [{"op": "add", "path": "/data/members/0", "value": userid("bob")}]
    app.patch_json(
        "/v1/buckets/b1/groups/g1",
        operations,
        headers={**ALICE, "Content-Type": "application/json-patch+json"},
        status=200,
    )
    assert "/buckets/b1/groups/g1" in app.get("/v1/", headers=BOB).json["user"]["principals"]


def test_a_group_is_a_principal_of_its_bucket_only(app, bucket, put):
    put("/buckets/b1/groups/g1", {"members": [userid("bob")]})
    put("/buckets/b2")
    put("/buckets/b2/groups/g1")
    principals = app.get("/v1/", headers=BOB).json["user"]["principals"]
    assert "/buckets/b1/groups/g1" in principals
    assert "/buckets/b2/groups/g1" not in principals
