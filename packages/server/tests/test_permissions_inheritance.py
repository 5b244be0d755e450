"""Kinto's permission model: what each permission grants below it, and groups as principals."""

from __future__ import annotations

from .conftest import ALICE, BOB, CAROL, userid

RECORDS = "/v1/buckets/b1/collections/c1/records"


def test_bucket_write_grants_everything_below(app, tree, put):
    tree()
    put("/buckets/b1", permissions={"write": [userid("bob")]})
    app.put_json("/v1/buckets/b1/collections/c2", {"data": {}}, headers=BOB, status=201)
    app.put_json("/v1/buckets/b1/groups/g2", {"data": {}}, headers=BOB, status=201)
    app.patch_json(f"{RECORDS}/r1", {"data": {"by": "bob"}}, headers=BOB, status=200)
    app.delete("/v1/buckets/b1/collections/c1", headers=BOB, status=200)


def test_bucket_read_grants_reading_everything_below_and_nothing_more(app, tree, put):
    tree()
    put("/buckets/b1", permissions={"read": [userid("carol")]})
    assert [c["id"] for c in app.get("/v1/buckets/b1/collections", headers=CAROL).json["data"]] == ["c1"]
    assert app.get(f"{RECORDS}/r1", headers=CAROL).json["data"]["title"] == "one"
    assert app.get("/v1/buckets/b1/groups/g1", headers=CAROL).json["data"]["members"] == [userid("bob")]
    app.put_json("/v1/buckets/b1/collections/c2", {"data": {}}, headers=CAROL, status=403)
    app.patch_json(f"{RECORDS}/r1", {"data": {"by": "carol"}}, headers=CAROL, status=403)


def test_collection_create_allows_creating_collections_only(app, tree, put):
    tree()
    put("/buckets/b1", permissions={"collection:create": [userid("carol")]})
    created = app.post_json("/v1/buckets/b1/collections", {"data": {}}, headers=CAROL, status=201).json
    assert created["permissions"]["write"] == [userid("carol")]
    app.get("/v1/buckets/b1/collections/c1", headers=CAROL, status=403)
    app.put_json("/v1/buckets/b1/groups/g2", {"data": {}}, headers=CAROL, status=403)
    listed = app.get("/v1/buckets/b1/collections", headers=CAROL).json["data"]
    assert [collection["id"] for collection in listed] == [created["data"]["id"]]


def test_collection_create_does_not_allow_replacing_an_existing_collection(app, tree, put):
    tree()
    put("/buckets/b1", permissions={"collection:create": [userid("carol")]})
    app.put_json("/v1/buckets/b1/collections/c1", {"data": {}}, headers=CAROL, status=403)


def test_group_create_allows_creating_groups_only(app, tree, put):
    tree()
    put("/buckets/b1", permissions={"group:create": [userid("carol")]})
    app.put_json("/v1/buckets/b1/groups/g2", {"data": {"members": []}}, headers=CAROL, status=201)
    app.put_json("/v1/buckets/b1/collections/c2", {"data": {}}, headers=CAROL, status=403)


def test_collection_write_grants_its_records(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"write": [userid("carol")]})
    app.patch_json(f"{RECORDS}/r1", {"data": {"by": "carol"}}, headers=CAROL, status=200)
    app.post_json(RECORDS, {"data": {}}, headers=CAROL, status=201)
    app.delete(RECORDS, headers=CAROL, status=200)
    app.put_json("/v1/buckets/b1/collections/c2", {"data": {}}, headers=CAROL, status=403)


def test_record_create_allows_adding_records_then_editing_only_ones_own(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"record:create": [userid("carol")]})
    mine = app.post_json(RECORDS, {"data": {"x": 1}}, headers=CAROL, status=201).json["data"]
    app.patch_json(f"{RECORDS}/{mine['id']}", {"data": {"x": 2}}, headers=CAROL, status=200)
    app.patch_json(f"{RECORDS}/r1", {"data": {"x": 2}}, headers=CAROL, status=403)
    assert [record["id"] for record in app.get(RECORDS, headers=CAROL).json["data"]] == [mine["id"]]


def test_record_create_lets_one_read_the_collection_attributes(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", {"title": "c"}, permissions={"record:create": [userid("carol")]})
    assert app.get("/v1/buckets/b1/collections/c1", headers=CAROL).json["data"]["title"] == "c"


def test_a_record_shared_alone_is_the_only_one_listed(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1/records/r2", {"title": "two"}, permissions={"read": [userid("carol")]})
    listed = app.get(RECORDS, headers=CAROL).json["data"]
    assert [record["id"] for record in listed] == ["r2"]
    app.get(f"{RECORDS}/r1", headers=CAROL, status=403)


def test_a_user_with_no_access_to_a_collection_cannot_list_it(app, tree):
    tree()
    app.get(RECORDS, headers=CAROL, status=403)
    app.get("/v1/buckets/b1/collections", headers=CAROL, status=403)


def test_group_members_get_what_the_group_is_granted(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"read": ["/buckets/b1/groups/g1"]})
    assert app.get(f"{RECORDS}/r1", headers=BOB).json["data"]["title"] == "one"
    app.get(f"{RECORDS}/r1", headers=CAROL, status=403)
    principals = app.get("/v1/", headers=BOB).json["user"]["principals"]
    assert "/buckets/b1/groups/g1" in principals


def test_changing_members_changes_who_holds_the_group(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"read": ["/buckets/b1/groups/g1"]})
    app.patch_json("/v1/buckets/b1/groups/g1", {"data": {"members": [userid("carol")]}}, headers=ALICE)
    app.get(f"{RECORDS}/r1", headers=BOB, status=403)
    assert app.get(f"{RECORDS}/r1", headers=CAROL).status_code == 200


def test_deleting_a_group_takes_it_from_its_members(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"read": ["/buckets/b1/groups/g1"]})
    app.delete("/v1/buckets/b1/groups/g1", headers=ALICE)
    app.get(f"{RECORDS}/r1", headers=BOB, status=403)
    assert "/buckets/b1/groups/g1" not in app.get("/v1/", headers=BOB).json["user"]["principals"]


def test_deleting_every_group_of_a_bucket_takes_them_from_their_members(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"read": ["/buckets/b1/groups/g1"]})
    app.delete("/v1/buckets/b1/groups", headers=ALICE)
    app.get(f"{RECORDS}/r1", headers=BOB, status=403)


def test_a_group_holding_system_authenticated_admits_every_user(app, tree, put):
    tree()
    put("/buckets/b1/groups/everyone", {"members": ["system.Authenticated"]})
    put("/buckets/b1/collections/c1", permissions={"read": ["/buckets/b1/groups/everyone"]})
    assert app.get(f"{RECORDS}/r1", headers=CAROL).status_code == 200


def test_deleting_a_missing_record_is_404_for_a_reader_of_the_collection(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"read": [userid("carol")]})
    response = app.delete(f"{RECORDS}/gone", headers=CAROL, status=404)
    assert response.json["errno"] == 110
    app.patch_json(f"{RECORDS}/gone", {"data": {}}, headers=CAROL, status=404)


def test_deleting_an_existing_record_stays_forbidden_for_a_reader(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"read": [userid("carol")]})
    app.delete(f"{RECORDS}/r1", headers=CAROL, status=403)


def test_deleting_a_missing_record_is_403_for_a_stranger(app, tree):
    tree()
    app.delete(f"{RECORDS}/gone", headers=CAROL, status=403)


def test_the_creator_keeps_write_on_what_it_creates(app, tree, put):
    tree()
    put("/buckets/b1/collections/c1", permissions={"record:create": ["system.Authenticated"]})
    created = app.post_json(RECORDS, {"data": {}, "permissions": {"read": ["system.Everyone"]}}, headers=CAROL).json
    assert created["permissions"] == {"read": ["system.Everyone"], "write": [userid("carol")]}
    assert app.get(f"{RECORDS}/{created['data']['id']}").json["data"]["id"] == created["data"]["id"]
