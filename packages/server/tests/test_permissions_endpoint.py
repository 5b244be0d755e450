"""``GET /v1/permissions``: the caller's permissions, in Kinto's format."""

from __future__ import annotations

import pytest

from .conftest import (
    ALICE,
    BOB,
    backend_settings,
    build_app,
    close_clients,
    flush,
    needs_application_in_process,
    userid,
)


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
        "uri": "/buckets/b1",
        "resource_name": "bucket",
        "id": "b1",
        "bucket_id": "b1",
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


# --- pagination -------------------------------------------------------------------------------------


def _share_many(registry, owner: str, count: int) -> None:
    """``count`` ACEs for ``owner`` through the permission backend: records mostly, some collections and groups."""
    entries = []
    for index in range(count):
        if index % 50 == 0:
            entries.append((f"/buckets/b{index % 3}/collections/c{index}", "write", owner))
        elif index % 50 == 1:
            entries.append((f"/buckets/b{index % 3}/groups/g{index}", "read", owner))
        else:
            record = f"/buckets/b{index % 3}/collections/c{index % 7}/records/r{index:05d}"
            entries.append((record, "read" if index % 2 else "write", owner))
    registry.permission.import_permissions(access_control_entries=entries)


def _walk(app, url, headers=ALICE):
    """Every object of every page, following Next-Page from ``url``, and the size of each page."""
    objects, sizes = [], []
    while url:
        response = app.get(url, headers=headers)
        objects.extend(response.json["data"])
        sizes.append(len(response.json["data"]))
        url = response.headers.get("Next-Page", "").replace("http://localhost", "")
    return objects, sizes


@pytest.mark.parametrize("query", ["", "_sort=uri", "_sort=-resource_name,uri", "resource_name=record"])
@pytest.mark.parametrize(("limit", "count"), [(1000, 2500), (7, 300)])
def test_pages_hold_every_entry_once_in_the_single_page_order(app, registry, tree, query, limit, count):
    tree()
    _share_many(registry, userid("alice"), count)
    _share_many(registry, userid("bob"), 30)
    single_page = app.get(f"/v1/permissions?{query}", headers=ALICE).json["data"]
    assert len(single_page) > count * 0.9
    paged, sizes = _walk(app, f"/v1/permissions?{query}&_limit={limit}")
    assert len(sizes) == -(-len(single_page) // limit)
    assert paged == single_page


@pytest.mark.parametrize("query", ["_before=1", "_since=1", "last_modified=5", "gt_last_modified=3"])
def test_entries_carry_no_timestamp_and_timestamp_filters_are_ignored(app, tree, query):
    tree()
    every_entry = app.get("/v1/permissions", headers=ALICE).json["data"]
    uris = [entry["uri"] for entry in every_entry]
    assert uris == sorted(uris, reverse=True)
    assert all("last_modified" not in entry for entry in every_entry)
    assert app.get(f"/v1/permissions?{query}", headers=ALICE).json["data"] == every_entry


@pytest.mark.parametrize("setting", ["kinto.paginate_by", "kinto.storage_max_fetch_size"])
def test_a_limit_beyond_the_page_size_is_capped_as_on_other_endpoints(backend, setting, tmp_path):
    needs_application_in_process("settings of its own")
    app = build_app(
        {**backend_settings(backend, tmp_path), "kinto.experimental_permissions_endpoint": "true", setting: "10"}
    )
    try:
        flush(app)
        for index in range(25):
            app.put_json(f"/v1/buckets/b{index:02d}", {"data": {}}, headers=ALICE)
        buckets, bucket_sizes = _walk(app, "/v1/buckets?_limit=50")
        entries, sizes = _walk(app, "/v1/permissions?resource_name=bucket&_limit=50")
        assert bucket_sizes == sizes == [10, 10, 5]
        assert sorted(entry["id"] for entry in entries) == sorted(bucket["id"] for bucket in buckets)
    finally:
        close_clients(app)
