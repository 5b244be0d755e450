"""Deleting a bucket or a collection deletes what it holds, with tombstones, permissions and events."""

from __future__ import annotations

from kinto.core.events import AfterResourceChanged, ResourceChanged

from .conftest import ALICE, BOB, userid


def _live(storage, resource_name, parent_id):
    return [obj["id"] for obj in storage.list_all(resource_name, parent_id)]


def _tombstones(storage, resource_name, parent_id):
    return sorted(
        obj["id"] for obj in storage.list_all(resource_name, parent_id, include_deleted=True) if obj.get("deleted")
    )


def test_deleting_a_bucket_deletes_its_collections_groups_and_records(app, tree, registry):
    tree()
    app.delete("/v1/buckets/b1", headers=ALICE, status=200)
    storage = registry.storage
    assert _live(storage, "collection", "/buckets/b1") == []
    assert _live(storage, "group", "/buckets/b1") == []
    assert _live(storage, "record", "/buckets/b1/collections/c1") == []
    assert _tombstones(storage, "collection", "/buckets/b1") == ["c1"]
    assert _tombstones(storage, "record", "/buckets/b1/collections/c1") == ["r1"]


def test_deleting_a_bucket_deletes_the_permissions_below_it(app, tree, put, registry):
    tree()
    put("/buckets/b1/collections/c1/records/r1", permissions={"read": [userid("bob")]})
    put("/buckets/b10", permissions={"read": [userid("bob")]})
    app.delete("/v1/buckets/b1", headers=ALICE)
    accessible = registry.permission.get_accessible_objects([userid("alice"), userid("bob")])
    assert sorted(accessible) == ["/buckets/b10"]


def test_a_recreated_bucket_starts_empty(app, tree, put):
    tree()
    app.delete("/v1/buckets/b1", headers=ALICE)
    put("/buckets/b1", headers=BOB)
    assert app.get("/v1/buckets/b1/collections", headers=BOB).json["data"] == []
    app.get("/v1/buckets/b1/collections/c1/records", headers=BOB, status=404)
    assert "/buckets/b1/groups/g1" not in app.get("/v1/", headers=BOB).json["user"]["principals"]


def test_deleting_a_bucket_announces_every_deletion(app, tree, events):
    tree()
    events.clear()
    app.delete("/v1/buckets/b1", headers=ALICE)
    assert sorted(events.summary(AfterResourceChanged)) == [
        ("delete", "bucket", ["b1"]),
        ("delete", "collection", ["c1"]),
        ("delete", "group", ["g1"]),
        ("delete", "record", ["r1"]),
    ]
    assert len(events.of(ResourceChanged)) == 4
    (records,) = [e for e in events.of(AfterResourceChanged) if e.payload["resource_name"] == "record"]
    assert records.payload["bucket_id"] == "b1"
    assert records.payload["collection_id"] == "c1"
    assert records.impacted_objects[0]["old"]["title"] == "one"
    assert records.impacted_objects[0]["new"]["deleted"] is True


def test_deleting_a_collection_deletes_its_records_only(app, tree, put, registry):
    tree()
    put("/buckets/b1/collections/c2")
    put("/buckets/b1/collections/c2/records/r1", {"kept": True})
    app.delete("/v1/buckets/b1/collections/c1", headers=ALICE)
    assert _live(registry.storage, "record", "/buckets/b1/collections/c1") == []
    assert app.get("/v1/buckets/b1/collections/c2/records/r1", headers=ALICE).json["data"]["kept"] is True
    assert app.get("/v1/buckets/b1/groups/g1", headers=ALICE).status_code == 200


def test_a_recreated_collection_shows_the_deleted_records_since_then(app, tree, put):
    tree()
    since = app.get("/v1/buckets/b1/collections/c1/records", headers=ALICE).headers["ETag"].strip('"')
    app.delete("/v1/buckets/b1/collections/c1", headers=ALICE)
    put("/buckets/b1/collections/c1")
    changes = app.get(f"/v1/buckets/b1/collections/c1/records?_since={since}", headers=ALICE).json["data"]
    assert [(record["id"], record.get("deleted")) for record in changes] == [("r1", True)]


def test_deleting_every_bucket_cascades_to_each(app, tree, put, registry):
    tree()
    put("/buckets/b2")
    put("/buckets/b2/collections/c")
    app.delete("/v1/buckets", headers=ALICE)
    assert _live(registry.storage, "collection", "/buckets/b1") == []
    assert _live(registry.storage, "collection", "/buckets/b2") == []
    assert _live(registry.storage, "record", "/buckets/b1/collections/c1") == []


def test_deleting_every_collection_cascades_to_their_records(app, tree, registry):
    tree()
    app.delete("/v1/buckets/b1/collections", headers=ALICE)
    assert _live(registry.storage, "record", "/buckets/b1/collections/c1") == []


def test_later_requests_of_a_batch_see_the_cascade(app, tree, registry):
    tree()
    responses = app.post_json(
        "/v1/batch",
        {
            "requests": [
                {"method": "DELETE", "path": "/buckets/b1"},
                {"method": "GET", "path": "/buckets/b1/collections/c1/records/r1"},
            ]
        },
        headers=ALICE,
    ).json["responses"]
    # The bucket's permissions went with it: nothing below it is Alice's any more.
    assert [response["status"] for response in responses] == [200, 403]
    assert _live(registry.storage, "record", "/buckets/b1/collections/c1") == []
