"""Buckets: creation rights, id rules, listing only what the caller may read."""

from __future__ import annotations

import re

import pytest

from .conftest import ALICE, BOB, CAROL, userid


def test_an_authenticated_user_creates_a_bucket_and_owns_it(app):
    response = app.put_json("/v1/buckets/b1", {"data": {"title": "mine"}}, headers=ALICE, status=201)
    assert response.json["data"]["id"] == "b1"
    assert response.json["data"]["title"] == "mine"
    assert response.json["permissions"] == {"write": [userid("alice")]}
    assert response.headers["ETag"] == f'"{response.json["data"]["last_modified"]}"'


def test_anonymous_users_cannot_create_buckets(app):
    response = app.put_json("/v1/buckets/b1", {"data": {}}, status=401)
    assert response.json["errno"] == 104
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_posting_a_bucket_draws_a_short_name(app):
    created = app.post_json("/v1/buckets", {"data": {}}, headers=ALICE, status=201).json["data"]
    assert re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{7}$", created["id"])
    app.get(f"/v1/buckets/{created['id']}", headers=ALICE, status=200)


def test_posting_an_existing_bucket_returns_it(app, put):
    put("/buckets/b1", {"a": 1})
    response = app.post_json("/v1/buckets", {"data": {"id": "b1"}}, headers=ALICE, status=200)
    assert response.json["data"]["a"] == 1


@pytest.mark.parametrize("bad_id", ["-leading-dash", "_leading", "with space", "with.dot", "é"])
def test_bucket_ids_follow_the_name_rule(app, bad_id):
    response = app.post_json("/v1/buckets", {"data": {"id": bad_id}}, headers=ALICE, status=400)
    assert response.json["errno"] == 107


def test_another_user_can_neither_read_nor_change_a_bucket(app, put):
    put("/buckets/b1")
    assert app.get("/v1/buckets/b1", headers=BOB, status=403).json["errno"] == 121
    app.patch_json("/v1/buckets/b1", {"data": {"x": 1}}, headers=BOB, status=403)
    app.delete("/v1/buckets/b1", headers=BOB, status=403)
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=BOB, status=403)


def test_anonymous_reads_of_a_private_bucket_ask_for_credentials(app, put):
    put("/buckets/b1")
    app.get("/v1/buckets/b1", status=401)


def test_a_bucket_readable_by_everyone_is_readable_anonymously(app, put):
    put("/buckets/b1", permissions={"read": ["system.Everyone"]})
    assert app.get("/v1/buckets/b1").json["data"]["id"] == "b1"
    app.patch_json("/v1/buckets/b1", {"data": {"x": 1}}, status=401)


def test_the_bucket_list_shows_only_what_the_caller_may_read(app, put):
    put("/buckets/alice-only")
    put("/buckets/shared", permissions={"read": [userid("bob")]})
    put("/buckets/bobs", headers=BOB)
    put("/buckets/public", headers=CAROL, permissions={"read": ["system.Authenticated"]})
    listed = {bucket["id"] for bucket in app.get("/v1/buckets", headers=BOB).json["data"]}
    assert listed == {"shared", "bobs", "public"}
    listed = {bucket["id"] for bucket in app.get("/v1/buckets", headers=ALICE).json["data"]}
    assert listed == {"alice-only", "shared", "public"}


def test_a_user_with_nothing_readable_gets_an_empty_bucket_list(app, put):
    put("/buckets/b1")
    assert app.get("/v1/buckets", headers=BOB).json == {"data": []}


def test_anonymous_bucket_lists_ask_for_credentials_when_nothing_is_public(app, put):
    put("/buckets/b1")
    app.get("/v1/buckets", status=401)


def test_the_bucket_list_counts_only_readable_buckets(app, put):
    put("/buckets/b1")
    put("/buckets/b2", permissions={"read": [userid("bob")]})
    response = app.head("/v1/buckets", headers=BOB)
    assert response.headers["Total-Records"] == "1"


def test_collection_create_lets_one_read_the_bucket_attributes(app, put):
    put("/buckets/b1", {"title": "t"}, permissions={"collection:create": [userid("bob")]})
    assert app.get("/v1/buckets/b1", headers=BOB).json["data"]["title"] == "t"
    assert [b["id"] for b in app.get("/v1/buckets", headers=BOB).json["data"]] == ["b1"]
    app.patch_json("/v1/buckets/b1", {"data": {"title": "no"}}, headers=BOB, status=403)


def test_write_on_a_bucket_may_be_shared(app, put):
    put("/buckets/b1", permissions={"write": [userid("bob")]})
    app.patch_json("/v1/buckets/b1", {"data": {"by": "bob"}}, headers=BOB, status=200)
    body = app.get("/v1/buckets/b1", headers=BOB).json
    assert body["permissions"]["write"] == sorted([userid("alice"), userid("bob")])


def test_readers_do_not_see_the_permissions(app, put):
    put("/buckets/b1", permissions={"read": [userid("bob")]})
    assert app.get("/v1/buckets/b1", headers=BOB).json["permissions"] == {}


def test_deleting_a_missing_bucket_is_a_403_for_strangers(app):
    app.delete("/v1/buckets/nothing", headers=BOB, status=403)


def test_a_deleted_bucket_leaves_the_list(app, put):
    put("/buckets/b1")
    put("/buckets/b2")
    app.delete("/v1/buckets/b2", headers=ALICE)
    assert [bucket["id"] for bucket in app.get("/v1/buckets", headers=ALICE).json["data"]] == ["b1"]
    app.get("/v1/buckets/b2", headers=ALICE, status=403)
