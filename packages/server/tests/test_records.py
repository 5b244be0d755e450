"""Records: CRUD, ids, parents that must exist, ``_since`` synchronisation, concurrency control."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import ALICE, BOB

RECORDS = "/v1/buckets/b1/collections/c1/records"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def collection(put):
    put("/buckets/b1")
    put("/buckets/b1/collections/c1")


def test_posted_records_get_a_uuid4(app, collection):
    created = app.post_json(RECORDS, {"data": {"title": "a"}}, headers=ALICE, status=201).json["data"]
    assert UUID4.match(created["id"])
    assert app.get(f"{RECORDS}/{created['id']}", headers=ALICE).json["data"]["title"] == "a"


def test_records_may_have_any_name_picked_by_the_client(app, collection):
    app.put_json(f"{RECORDS}/my-record_1", {"data": {"title": "a"}}, headers=ALICE, status=201)
    app.put_json(f"{RECORDS}/my-record_1", {"data": {"title": "b"}}, headers=ALICE, status=200)
    assert app.get(f"{RECORDS}/my-record_1", headers=ALICE).json["data"]["title"] == "b"


@pytest.mark.parametrize("bad_id", ["-x", "a b", "a.b", "a%00b"])
def test_record_ids_follow_the_name_rule(app, collection, bad_id):
    response = app.put_json(f"{RECORDS}/{bad_id}", {"data": {}}, headers=ALICE, status=400)
    assert response.json["errno"] == 107  # as Kinto 26.5.0


def test_records_of_a_missing_collection_are_404(app, put):
    put("/buckets/b1")
    response = app.get(RECORDS, headers=ALICE, status=404)
    assert response.json["details"] == {"id": "c1", "resource_name": "collection"}
    app.post_json(RECORDS, {"data": {}}, headers=ALICE, status=404)


def test_collections_of_a_missing_bucket_are_hidden_from_strangers(app):
    app.get("/v1/buckets/nothing/collections", headers=BOB, status=403)
    app.put_json("/v1/buckets/nothing/collections/c1", {"data": {}}, headers=BOB, status=403)


def test_merge_patch_merges_and_null_removes(app, collection, put):
    put("/buckets/b1/collections/c1/records/r1", {"a": 1, "b": {"c": 1, "d": 2}})
    body = json.dumps({"data": {"a": None, "b": {"d": 3}}})
    patched = app.patch(f"{RECORDS}/r1", body, headers={**ALICE, "Content-Type": "application/merge-patch+json"}).json
    assert {key: patched["data"][key] for key in ("b",)} == {"b": {"c": 1, "d": 3}}
    assert "a" not in patched["data"]


def test_a_json_patch_replaces_top_level_fields_and_stores_nulls_as_kinto(app, collection, put):
    # The example of issue 18, checked against Kinto 26.5.0.
    put("/buckets/b1/collections/c1/records/r1", {"n": {"x": 1, "y": 2}, "k": 1})
    patched = app.patch_json(f"{RECORDS}/r1", {"data": {"n": {"x": 5}, "k": None}}, headers=ALICE).json["data"]
    assert {key: patched[key] for key in ("n", "k")} == {"n": {"x": 5}, "k": None}
    assert app.get(f"{RECORDS}/r1", headers=ALICE).json["data"] == patched


def test_since_returns_changes_and_tombstones(app, collection, put):
    first = put("/buckets/b1/collections/c1/records/r1", {"n": 1})["data"]["last_modified"]
    put("/buckets/b1/collections/c1/records/r2", {"n": 2})
    put("/buckets/b1/collections/c1/records/r1", {"n": 10})
    app.delete(f"{RECORDS}/r2", headers=ALICE)
    response = app.get(f"{RECORDS}?_since={first}", headers=ALICE)
    changes = {record["id"]: record for record in response.json["data"]}
    assert changes["r1"]["n"] == 10
    assert changes["r2"]["deleted"] is True
    assert response.headers["ETag"] == f'"{max(r["last_modified"] for r in changes.values())}"'
    etag = response.headers["ETag"].strip('"')
    assert app.get(f"{RECORDS}?_since={etag}", headers=ALICE).json["data"] == []


def test_the_list_is_not_modified_since_its_etag(app, collection, put):
    put("/buckets/b1/collections/c1/records/r1")
    etag = app.get(RECORDS, headers=ALICE).headers["ETag"]
    app.get(RECORDS, headers={**ALICE, "If-None-Match": etag}, status=304)


def test_if_match_refuses_a_stale_update(app, collection, put):
    stamp = put("/buckets/b1/collections/c1/records/r1", {"n": 1})["data"]["last_modified"]
    app.put_json(f"{RECORDS}/r1", {"data": {"n": 2}}, headers={**ALICE, "If-Match": f'"{stamp}"'}, status=200)
    response = app.put_json(
        f"{RECORDS}/r1", {"data": {"n": 3}}, headers={**ALICE, "If-Match": f'"{stamp}"'}, status=412
    )
    assert response.json["errno"] == 114
    assert response.json["details"]["existing"]["n"] == 2


def test_if_none_match_star_refuses_to_overwrite(app, collection, put):
    put("/buckets/b1/collections/c1/records/r1", {"n": 1})
    app.put_json(f"{RECORDS}/r1", {"data": {"n": 2}}, headers={**ALICE, "If-None-Match": "*"}, status=412)


def test_records_are_paginated(app, collection):
    for number in range(7):
        app.put_json(f"{RECORDS}/r{number}", {"data": {"n": number}}, headers=ALICE)
    seen = []
    url = f"{RECORDS}?_limit=3&_sort=n"
    while url:
        response = app.get(url, headers=ALICE)
        seen += [record["n"] for record in response.json["data"]]
        url = response.headers.get("Next-Page", "").replace("http://localhost", "")
    assert seen == list(range(7))


def test_records_are_filtered_on_their_fields(app, collection):
    for number in range(5):
        app.put_json(f"{RECORDS}/r{number}", {"data": {"n": number, "even": number % 2 == 0}}, headers=ALICE)
    found = app.get(f"{RECORDS}?even=true&min_n=2&_sort=-n", headers=ALICE).json["data"]
    assert [record["n"] for record in found] == [4, 2]


def test_record_events_name_their_bucket_and_collection(app, collection, events):
    events.clear()
    app.put_json(f"{RECORDS}/r1", {"data": {"n": 1}}, headers=ALICE)
    (event,) = [e for e in events.events if type(e).__name__ == "AfterResourceChanged"]
    assert event.payload["bucket_id"] == "b1"
    assert event.payload["collection_id"] == "c1"
    assert event.payload["record_id"] == "r1"
    assert event.payload["uri"] == "/buckets/b1/collections/c1/records/r1"
    assert event.payload["action"] == "create"


def test_anonymous_reads_of_a_public_collection_get_its_cache_expires(app, put):
    put("/buckets/b1")
    put("/buckets/b1/collections/c1", {"cache_expires": 60}, permissions={"read": ["system.Everyone"]})
    put("/buckets/b1/collections/c1/records/r1")
    response = app.get(f"{RECORDS}/r1")
    assert "max-age=60" in response.headers["Cache-Control"]
    assert app.get(f"{RECORDS}/r1", headers=ALICE).headers["Cache-Control"] == "no-cache, no-store"
