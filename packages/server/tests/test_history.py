"""kinto.plugins.history through HTTP, on every backend: entries, querying, permissions, trimming, deletion."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import webtest
from pyramid.exceptions import ConfigurationError

from kinto.server import main

from .conftest import (
    ALICE,
    BASE_SETTINGS,
    BOB,
    CAROL,
    backend_settings,
    build_app,
    close_clients,
    flush,
    needs_application_in_process,
    userid,
)

HISTORY = {"kinto.includes": "kinto.plugins.history"}


@pytest.fixture(scope="module")
def extra_settings() -> dict[str, Any]:
    return HISTORY


@pytest.fixture
def history_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., webtest.TestApp]]:
    """``history_app(**settings)``: an application with the plugin and settings of its own, emptied."""
    needs_application_in_process("settings of its own")
    built: list[webtest.TestApp] = []

    def build(**settings: str) -> webtest.TestApp:
        folder = tmp_path_factory.mktemp("history")
        app = build_app({**backend_settings(backend, folder), **HISTORY, **settings})
        flush(app)
        built.append(app)
        return app

    yield build
    for app in built:
        close_clients(app)


def history(
    app: webtest.TestApp, query: str = "", headers: dict[str, str] = ALICE, bucket: str = "b1", status: int = 200
) -> Any:
    response = app.get(f"/v1/buckets/{bucket}/history{query}", headers=headers, status=status)
    return response.json["data"] if status == 200 else response.json


def uris(entries: list[dict[str, Any]]) -> list[str]:
    return [f"{entry['action']} {entry['uri']}" for entry in entries]


def put(
    app: webtest.TestApp,
    path: str,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] = ALICE,
    permissions: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"data": data or {}}
    if permissions is not None:
        body["permissions"] = permissions
    return app.put_json(f"/v1{path}", body, headers=headers).json


# --- entries ----------------------------------------------------------------------------------------


def test_each_change_adds_an_entry_newest_first(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    put(app, "/buckets/b1/collections/c1/records/r1", {"n": 1})
    app.patch_json("/v1/buckets/b1/collections/c1/records/r1", {"data": {"n": 2}}, headers=ALICE)
    put(app, "/buckets/b1/groups/g1", {"members": [userid("bob")]})
    app.delete("/v1/buckets/b1/collections/c1/records/r1", headers=ALICE)

    assert uris(history(app)) == [
        "delete /buckets/b1/collections/c1/records/r1",
        "create /buckets/b1/groups/g1",
        "update /buckets/b1/collections/c1/records/r1",
        "create /buckets/b1/collections/c1/records/r1",
        "create /buckets/b1/collections/c1",
        "create /buckets/b1",
    ]


def test_an_entry_holds_the_object_its_permissions_and_who_changed_it(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    stored = put(app, "/buckets/b1/collections/c1/records/r1", {"n": 1}, permissions={"read": [userid("bob")]})

    entry = history(app, "?resource_name=record")[0]

    assert entry["action"] == "create"
    assert entry["resource_name"] == "record"
    assert entry["uri"] == "/buckets/b1/collections/c1/records/r1"
    assert (entry["collection_id"], entry["record_id"]) == ("c1", "r1")
    assert "bucket_id" not in entry  # as Kinto: the bucket is where the history lives
    assert entry["user_id"] == userid("alice")
    assert entry["target"] == {
        "data": stored["data"],
        "permissions": {"read": [userid("bob")], "write": [userid("alice")]},
    }
    assert datetime.fromisoformat(entry["date"]).utcoffset().total_seconds() == 0
    assert isinstance(entry["id"], str) and isinstance(entry["last_modified"], int)


def test_entries_of_buckets_groups_and_deletions(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1", {"title": "one"})
    put(app, "/buckets/b1/groups/g1", {"members": ["x"]})
    app.delete("/v1/buckets/b1/groups/g1", headers=ALICE)

    deleted, group, bucket = history(app)

    assert (bucket["bucket_id"], bucket["target"]["data"]["title"]) == ("b1", "one")
    assert (group["group_id"], group["target"]["data"]["members"]) == ("g1", ["x"])
    assert deleted["action"] == "delete" and deleted["group_id"] == "g1"
    assert deleted["target"]["data"]["deleted"] is True
    assert deleted["target"]["permissions"] == {}


def test_changes_of_one_batch_are_recorded_one_by_one(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    requests = [{"method": "PUT", "path": f"/buckets/b1/collections/c1/records/r{n}"} for n in range(3)]
    app.post_json("/v1/batch", {"requests": requests}, headers=ALICE)
    app.delete("/v1/buckets/b1/collections/c1/records", headers=ALICE)

    recorded = sorted(uris(history(app, "?resource_name=record")))

    assert recorded == sorted(
        [f"{action} /buckets/b1/collections/c1/records/r{n}" for action in ("create", "delete") for n in range(3)]
    )


def test_history_changes_are_not_recorded_and_there_is_no_entry_url(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    app.delete("/v1/buckets/b1/history", headers=ALICE)
    assert history(app) == []
    assert app.get("/v1/buckets/b1/history/some-id", headers=ALICE, status=404).json["errno"] == 111
    for method in ("put_json", "post_json", "patch_json"):
        assert getattr(app, method)("/v1/buckets/b1/history", {}, headers=ALICE, status=405).json["errno"] == 115


# --- querying ---------------------------------------------------------------------------------------


def test_filters_on_any_field_of_the_entries(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    put(app, "/buckets/b1/collections/c1/records/1", {"kind": "a"})
    put(app, "/buckets/b1/collections/c1/records/r2", {"kind": "b"})
    app.delete("/v1/buckets/b1/collections/c1/records/r2", headers=ALICE)

    assert uris(history(app, "?record_id=1")) == ["create /buckets/b1/collections/c1/records/1"]  # text, not 1
    assert uris(history(app, "?target.data.kind=b")) == ["create /buckets/b1/collections/c1/records/r2"]
    assert uris(history(app, "?action=delete")) == ["delete /buckets/b1/collections/c1/records/r2"]
    assert uris(history(app, "?exclude_resource_name=record")) == [
        "create /buckets/b1/collections/c1",
        "create /buckets/b1",
    ]
    assert uris(history(app, "?uri=/buckets/b1/collections/c1&_sort=date")) == ["create /buckets/b1/collections/c1"]


def test_fields_entries_do_not_have_are_refused(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    for query, name in (("?foo=1", "foo"), ("?gt_nothing.here=1", "gt_nothing.here"), ("?_sort=-foo", "_sort")):
        error = history(app, query, status=400)
        assert (error["errno"], error["details"][0]["name"]) == (107, name)
    assert history(app, "?_sort=target.data.id") != []


def test_since_limit_and_pages_walk_the_history(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    since = history(app)[0]["last_modified"]
    for n in range(7):
        put(app, f"/buckets/b1/collections/c1/records/r{n}")

    first = app.get(f"/v1/buckets/b1/history?_since={since}&_sort=last_modified&_limit=3", headers=ALICE)
    seen = [entry["record_id"] for entry in first.json["data"]]
    next_page = first.headers.get("Next-Page")
    while next_page:
        parts = urlsplit(next_page)
        page = app.get(f"{parts.path}?{parts.query}", headers=ALICE)
        seen += [entry["record_id"] for entry in page.json["data"]]
        next_page = page.headers.get("Next-Page")

    assert seen == [f"r{n}" for n in range(7)]
    assert len(history(app, "?_limit=2")) == 2


def test_deleted_entries_show_as_tombstones_since_a_timestamp(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    since = history(app)[0]["last_modified"]
    deleted = app.delete("/v1/buckets/b1/history?resource_name=collection", headers=ALICE).json["data"]

    assert [entry["deleted"] for entry in deleted] == [True]
    assert uris(history(app)) == ["create /buckets/b1"]
    tombstones = history(app, f"?_since={since - 1}")
    assert [(entry["id"], entry.get("deleted")) for entry in tombstones] == [(deleted[0]["id"], True)]


# --- permissions ------------------------------------------------------------------------------------


def test_readers_of_the_bucket_see_every_entry(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1", permissions={"read": [userid("bob")]})
    put(app, "/buckets/b1/collections/c1")
    put(app, "/buckets/b1/collections/c1/records/r1")
    assert uris(history(app, headers=BOB)) == uris(history(app))
    assert len(history(app, headers=BOB)) == 3


def test_others_see_the_entries_of_the_objects_they_may_read(app: webtest.TestApp) -> None:
    bob = userid("bob")
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/shared", permissions={"read": [bob]})
    put(app, "/buckets/b1/collections/shared/records/r1")
    put(app, "/buckets/b1/collections/private")
    put(app, "/buckets/b1/collections/private/records/r2")
    put(app, "/buckets/b1/collections/private/records/r3", permissions={"read": [bob]})
    put(app, "/buckets/b1/groups/g1", permissions={"write": [bob]})
    put(app, "/buckets/b1/groups/g2")

    assert sorted(uris(history(app, headers=BOB))) == [
        "create /buckets/b1/collections/private/records/r3",
        "create /buckets/b1/collections/shared",
        "create /buckets/b1/collections/shared/records/r1",
        "create /buckets/b1/groups/g1",
    ]
    assert uris(history(app, "?resource_name=group", headers=BOB)) == ["create /buckets/b1/groups/g1"]


def test_an_entry_keeps_the_readers_of_the_time_of_the_change(app: webtest.TestApp) -> None:
    bob = userid("bob")
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1", permissions={"read": [bob]})
    put(app, "/buckets/b1/collections/c1/records/r1")
    put(app, "/buckets/b1/collections/c1", permissions={"read": []})  # Bob may not read c1 any more
    put(app, "/buckets/b1/collections/c1/records/r2")

    seen = uris(history(app, headers=BOB))

    assert "create /buckets/b1/collections/c1/records/r1" in seen
    assert "create /buckets/b1/collections/c1/records/r2" not in seen


def test_who_may_read_nothing_is_refused(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    assert history(app, headers=CAROL, status=403)["errno"] == 121
    assert app.get("/v1/buckets/b1/history", status=401).json["errno"] == 104
    assert history(app, bucket="missing", status=403)["errno"] == 121


def test_only_the_bucket_writers_delete_entries(app: webtest.TestApp) -> None:
    bob = userid("bob")
    put(app, "/buckets/b1", permissions={"read": [bob]})
    put(app, "/buckets/b1/collections/c1", permissions={"write": [bob]})
    put(app, "/buckets/b1/collections/c1/records/r1")

    app.delete("/v1/buckets/b1/history", headers=BOB, status=403)
    deleted = app.delete("/v1/buckets/b1/history?resource_name=record", headers=ALICE).json["data"]

    assert len(deleted) == 1
    assert uris(history(app, headers=BOB)) == ["create /buckets/b1/collections/c1", "create /buckets/b1"]


def test_without_explicit_permissions_only_the_bucket_readers_see_the_history(
    history_app: Callable[..., webtest.TestApp],
) -> None:
    app = history_app(**{"kinto.explicit_permissions": "false"})
    bob = userid("bob")
    put(app, "/buckets/b1", permissions={"write": [userid("alice")]})  # writers are not added implicitly
    put(app, "/buckets/b1/collections/c1", permissions={"read": [bob]})
    put(app, "/buckets/b1/collections/c1/records/r1")
    put(app, "/buckets/b1/collections/c1/records/r2")

    assert len(history(app)) == 4
    history(app, headers=BOB, status=403)


# --- deletion ---------------------------------------------------------------------------------------


def test_deleting_a_bucket_deletes_its_history(app: webtest.TestApp) -> None:
    bob = userid("bob")
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1", permissions={"read": [bob]})
    put(app, "/buckets/b1/collections/c1/records/r1")
    put(app, "/buckets/b1/groups/g1")
    put(app, "/buckets/b2")
    assert len(history(app, headers=BOB)) == 2

    app.delete("/v1/buckets/b1", headers=ALICE)
    put(app, "/buckets/b1")

    assert uris(history(app)) == ["create /buckets/b1"]  # not even the deletions
    history(app, headers=BOB, status=403)  # the entries Bob could read are gone with their permissions
    assert uris(history(app, bucket="b2")) == ["create /buckets/b2"]


def test_deleting_every_bucket_deletes_every_history(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b2")
    app.delete("/v1/buckets", headers=ALICE)
    put(app, "/buckets/b1")
    put(app, "/buckets/b2")
    assert uris(history(app)) == ["create /buckets/b1"]
    assert uris(history(app, bucket="b2")) == ["create /buckets/b2"]


def test_deleting_a_collection_records_the_deletion_of_its_records(app: webtest.TestApp) -> None:
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    put(app, "/buckets/b1/collections/c1/records/r1")
    app.delete("/v1/buckets/b1/collections/c1", headers=ALICE)
    assert sorted(uris(history(app, "?action=delete"))) == [
        "delete /buckets/b1/collections/c1",
        "delete /buckets/b1/collections/c1/records/r1",
    ]


# --- settings ---------------------------------------------------------------------------------------


def test_the_capability_is_announced(app: webtest.TestApp) -> None:
    capability = app.get("/v1/").json["capabilities"]["history"]
    assert capability == {
        "description": "Track changes on data.",
        "url": "http://kinto.readthedocs.io/en/latest/api/1.x/history.html",
    }


def test_excluded_resources_and_users_are_not_recorded(history_app: Callable[..., webtest.TestApp]) -> None:
    app = history_app(
        **{
            "kinto.history.exclude_resources": "/buckets/quiet /buckets/b1/collections/c2 /buckets/b1/groups/g2 "
            "/buckets/b1/collections/c1/records/r2",
            "kinto.history.exclude_user_ids": userid("bob"),
        }
    )
    put(app, "/buckets/b1", permissions={"write": [userid("bob")]})
    put(app, "/buckets/quiet")
    put(app, "/buckets/quiet/collections/c1")
    for collection in ("c1", "c2"):
        put(app, f"/buckets/b1/collections/{collection}")
        put(app, f"/buckets/b1/collections/{collection}/records/r1")
    put(app, "/buckets/b1/collections/c1/records/r2")
    put(app, "/buckets/b1/collections/c1/records/r3", headers=BOB)
    put(app, "/buckets/b1/groups/g1")
    put(app, "/buckets/b1/groups/g2")

    assert sorted(uris(history(app))) == [
        "create /buckets/b1",
        "create /buckets/b1/collections/c1",
        "create /buckets/b1/collections/c1/records/r1",
        "create /buckets/b1/groups/g1",
    ]
    assert history(app, bucket="quiet") == []
    capability = app.get("/v1/").json["capabilities"]["history"]
    assert capability["excluded_resources"] == [
        {"bucket": "quiet"},
        {"bucket": "b1", "collection": "c2"},
        {"bucket": "b1", "group": "g2"},
        {"bucket": "b1", "collection": "c1", "record": "r2"},
    ]


def test_an_excluded_resource_that_is_no_uri_is_refused_at_start_up(tmp_path: Any) -> None:
    settings = {
        **BASE_SETTINGS,
        **backend_settings("memory", tmp_path),
        **HISTORY,
        "kinto.history.exclude_resources": "/buckets/b1/nothing",
    }
    with pytest.raises(ConfigurationError, match="history.exclude_resources"):
        main({}, **settings)


# --- trimming ---------------------------------------------------------------------------------------


def test_trimming_keeps_the_newest_entries_of_each_kind(history_app: Callable[..., webtest.TestApp]) -> None:
    app = history_app(**{"kinto.history.auto_trim_max_count": "3", "kinto.history.auto_trim_threshold": "2"})
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")

    kept = []
    for n in range(1, 10):
        put(app, f"/buckets/b1/collections/c1/records/r{n}")
        kept.append(sorted(entry["record_id"] for entry in history(app, "?resource_name=record")))

    # Up to max + threshold (5) entries, then back to the newest 3.
    assert [len(ids) for ids in kept] == [1, 2, 3, 4, 5, 3, 4, 5, 3]
    assert kept[-1] == ["r7", "r8", "r9"]
    assert uris(history(app, "?exclude_resource_name=record")) == [
        "create /buckets/b1/collections/c1",
        "create /buckets/b1",
    ]
    capability = app.get("/v1/").json["capabilities"]["history"]
    assert capability["auto_trim_max_count"] == 3


def test_trimmed_entries_lose_their_permissions(history_app: Callable[..., webtest.TestApp]) -> None:
    app = history_app(**{"kinto.history.auto_trim_max_count": "1", "kinto.history.auto_trim_threshold": "0"})
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1", permissions={"read": [userid("bob")]})
    put(app, "/buckets/b1/collections/c1/records/r1")
    put(app, "/buckets/b1/collections/c1/records/r2")
    put(app, "/buckets/b1/collections/c1/records/r3")

    assert uris(history(app, "?resource_name=record", headers=BOB)) == ["create /buckets/b1/collections/c1/records/r3"]
    readable = app.app.registry.permission.get_accessible_objects([userid("bob")])
    entry_ids = {entry["id"] for entry in history(app)}
    assert {uri.rsplit("/", 1)[1] for uri in readable if "/history/" in uri} == entry_ids - {
        entry["id"] for entry in history(app, "?resource_name=bucket")
    }


def test_trimming_by_user_leaves_the_others_entries(history_app: Callable[..., webtest.TestApp]) -> None:
    app = history_app(
        **{
            "kinto.history.auto_trim_max_count": "1",
            "kinto.history.auto_trim_threshold": "0",
            "kinto.history.auto_trim_user_ids": userid("alice"),
        }
    )
    put(app, "/buckets/b1", permissions={"write": [userid("bob")]})
    put(app, "/buckets/b1/collections/c1")
    for n in range(3):
        put(app, f"/buckets/b1/collections/c1/records/alice{n}")
        put(app, f"/buckets/b1/collections/c1/records/bob{n}", headers=BOB)

    assert sorted(entry["record_id"] for entry in history(app, "?resource_name=record")) == [
        "alice2",
        "bob0",
        "bob1",
        "bob2",
    ]
    assert app.get("/v1/").json["capabilities"]["history"]["auto_trim_user_ids"] == [userid("alice")]


def test_trimming_goes_on_after_entries_were_deleted(history_app: Callable[..., webtest.TestApp]) -> None:
    app = history_app(**{"kinto.history.auto_trim_max_count": "2", "kinto.history.auto_trim_threshold": "0"})
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    put(app, "/buckets/b1/collections/c1/records/r1")
    put(app, "/buckets/b1/collections/c1/records/r2")
    app.delete("/v1/buckets/b1/history?resource_name=record", headers=ALICE)
    for n in range(3, 6):
        put(app, f"/buckets/b1/collections/c1/records/r{n}")

    assert sorted(entry["record_id"] for entry in history(app, "?resource_name=record")) == ["r4", "r5"]


def test_trimming_starts_afresh_in_a_bucket_created_again(history_app: Callable[..., webtest.TestApp]) -> None:
    app = history_app(**{"kinto.history.auto_trim_max_count": "2", "kinto.history.auto_trim_threshold": "0"})
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    for n in range(3):
        put(app, f"/buckets/b1/collections/c1/records/r{n}")
    app.delete("/v1/buckets/b1", headers=ALICE)
    put(app, "/buckets/b1")
    put(app, "/buckets/b1/collections/c1")
    put(app, "/buckets/b1/collections/c1/records/new")

    assert uris(history(app)) == [
        "create /buckets/b1/collections/c1/records/new",
        "create /buckets/b1/collections/c1",
        "create /buckets/b1",
    ]
