"""``kinto copy``: a store copied between SQLite and PostgreSQL answers the same through the HTTP API.

The source is filled through the API (records, updates, deletions, a record
holding ``deleted: true``, groups, shared and private collections, a
collection whose tombstones were purged), copied with the command, and both
sides are then read through the API as three users: every list with its
ETag, pages, ``_since`` and ``_before`` answers, single objects, ``/permissions``
and the principals of ``GET /v1/``.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from kinto.core.database.sqlite import client_from_config
from kinto.core.storage import sqlite as sqlite_storage
from kinto.core.testing.postgresql import postgresql_test_database

from kinto.server import cli, copying
from kinto.server.testing import run_kinto

from .conftest import ALICE, BASE_SETTINGS, BOB, CAROL, backend_settings, build_app, close_clients, userid

USERS = {"alice": ALICE, "bob": BOB, "carol": CAROL}
RECORDS = 5000
TARGET_DATABASE = "kinto_copy_target"
#: What the servers on both sides add to the tests' usual settings.
SERVED = {"kinto.experimental_permissions_endpoint": "true"}
SOURCE_DATABASE = "kinto_copy_source"


def serve(settings: dict[str, str]) -> Any:
    """A WebTest application on ``settings`` (tables created)."""
    return build_app({**settings, **SERVED})


def write_ini(path: pathlib.Path, settings: dict[str, str]) -> pathlib.Path:
    lines = ["[app:main]", *(f"{key} = {value}" for key, value in settings.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def batch(app: Any, requests: list[dict[str, Any]], user: dict[str, str] = ALICE) -> None:
    for start in range(0, len(requests), 25):
        answer = app.post_json("/v1/batch", {"requests": requests[start : start + 25]}, headers=user)
        assert {response["status"] for response in answer.json["responses"]} <= {200, 201}


def populate(app: Any, records: int) -> None:
    """Every kind of data a copy must carry, written through the API."""
    app.put_json("/v1/buckets/b", {"data": {"title": "main"}}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {"permissions": {"read": ["system.Authenticated"]}}, headers=ALICE)
    path = "/buckets/b/collections/c/records"
    batch(
        app,
        [
            {
                "method": "PUT",
                "path": f"{path}/r{i:05}",
                "body": {"data": {"n": i, "tags": [f"t{i % 7}"], "nested": {"half": i / 2, "none": None}, "é": "ü"}},
            }
            for i in range(records)
        ],
    )
    batch(
        app,
        [
            {"method": "PATCH", "path": f"{path}/r{i:05}", "body": {"data": {"updated": True}}}
            for i in range(0, records, records // 20)
        ],
    )
    batch(app, [{"method": "DELETE", "path": f"{path}/r{i:05}"} for i in range(3, records, records // 50)])
    app.put_json(f"/v1{path}/looks-like-a-tombstone", {"data": {"deleted": True}}, headers=ALICE)
    app.patch_json(f"/v1{path}/r00001", {"permissions": {"write": [userid("carol")]}}, headers=ALICE)
    app.put_json("/v1/buckets/b/groups/readers", {"data": {"members": [userid("bob")]}}, headers=ALICE)
    app.put_json(
        "/v1/buckets/b/collections/private", {"permissions": {"read": ["/buckets/b/groups/readers"]}}, headers=ALICE
    )
    batch(
        app,
        [
            {"method": "PUT", "path": f"/buckets/b/collections/private/records/p{i}", "body": {"data": {"i": i}}}
            for i in range(30)
        ],
    )
    app.put_json("/v1/buckets/b/collections/emptied", {}, headers=ALICE)
    for i in range(3):
        app.put_json(f"/v1/buckets/b/collections/emptied/records/e{i}", {"data": {}}, headers=ALICE)
    app.delete("/v1/buckets/b/collections/emptied/records", headers=ALICE)
    app.put_json("/v1/buckets/bobs", {"permissions": {"read": [userid("carol")]}}, headers=BOB)
    app.put_json("/v1/buckets/bobs/collections/notes", {}, headers=BOB)
    app.put_json("/v1/buckets/bobs/collections/notes/records/n1", {"data": {"text": "hi"}}, headers=BOB)
    app.delete("/v1/buckets/bobs/collections/notes/records/n1", headers=BOB)


def crawl(app: Any, url: str, user: dict[str, str]) -> dict[str, Any]:
    """Every page of a plural endpoint: the first page's status line and ETag, and all objects."""
    first = app.get(url, headers=user)
    objects, answer = list(first.json["data"]), first
    while "Next-Page" in answer.headers:
        parts = urlsplit(answer.headers["Next-Page"])
        answer = app.get(f"{parts.path}?{parts.query}", headers=user)
        objects += answer.json["data"]
    return {"etag": first.headers.get("ETag"), "objects": objects}


def snapshot(app: Any) -> dict[str, Any]:
    """What three users read through the API, keyed by what they asked."""
    seen: dict[str, Any] = {}
    for name, user in USERS.items():
        seen[f"{name} /"] = app.get("/v1/", headers=user).json["user"]
        # In one page: paging through /permissions skips entries (on any backend, copy or not).
        permissions = app.get("/v1/permissions", headers=user).json["data"]
        seen[f"{name} /permissions"] = sorted(permissions, key=lambda entry: entry["uri"])
        buckets = crawl(app, "/v1/buckets", user)
        seen[f"{name} /buckets"] = buckets
        for bucket in buckets["objects"]:
            prefix = f"/v1/buckets/{bucket['id']}"
            answer = app.get(prefix, headers=user, status="*")
            seen[f"{name} {prefix}"] = (answer.status, answer.headers.get("ETag"), answer.json)
            seen[f"{name} {prefix}/groups"] = crawl(app, f"{prefix}/groups", user)
            collections = crawl(app, f"{prefix}/collections", user)
            seen[f"{name} {prefix}/collections"] = collections
            for collection in collections["objects"]:
                seen.update(read_collection(app, name, user, f"{prefix}/collections/{collection['id']}"))
    return seen


def read_collection(app: Any, name: str, user: dict[str, str], prefix: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    answer = app.get(prefix, headers=user, status="*")
    seen[f"{name} {prefix}"] = (answer.status, answer.headers.get("ETag"), answer.json)
    records = f"{prefix}/records"
    oldest_first = crawl(app, f"{records}?_sort=last_modified&_limit=700", user)
    seen[f"{name} {records} oldest first"] = oldest_first
    seen[f"{name} {records}"] = crawl(app, f"{records}?_limit=1000", user)
    seen[f"{name} {records} by n"] = crawl(app, f"{records}?_sort=-n,id&_limit=900&has_n=true", user)
    stamps = [record["last_modified"] for record in oldest_first["objects"]]
    for stamp in stamps[len(stamps) // 3 :: max(1, len(stamps) // 3)][:2]:
        seen[f"{name} {records} since {stamp}"] = crawl(app, f"{records}?_since={stamp}&_limit=500", user)
        seen[f"{name} {records} before {stamp}"] = crawl(app, f"{records}?_before={stamp}&_limit=500", user)
    for record in oldest_first["objects"][:: max(1, len(stamps) // 10)]:
        answer = app.get(f"{records}/{record['id']}", headers=user)
        seen[f"{name} {records}/{record['id']}"] = (answer.headers["ETag"], answer.json)
    return seen


def copy(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(["copy", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def source_folder(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A SQLite store filled through the API, then one collection's tombstones purged with the command."""
    folder = tmp_path_factory.mktemp("source")
    settings = backend_settings("sqlite", folder)
    app = serve(settings)
    populate(app, RECORDS)
    close_clients(app)
    ini = write_ini(folder / "kinto.ini", {**BASE_SETTINGS, **settings})
    assert cli.main(["purge-deleted", "--ini", str(ini), "-q", "record", "0"]) == 0
    return folder


@pytest.fixture(scope="module")
def source_snapshot(source_folder: pathlib.Path) -> dict[str, Any]:
    app = serve(backend_settings("sqlite", source_folder))
    try:
        return snapshot(app)
    finally:
        close_clients(app)


@pytest.fixture
def target_url() -> str:
    return postgresql_test_database(TARGET_DATABASE, fresh=True)


def postgresql_settings(url: str) -> dict[str, str]:
    """The server's settings on the PostgreSQL database ``url`` (its cache in memory)."""
    settings = {f"kinto.{key}": value for key, value in copying.store_settings(url).items()}
    return {**settings, "kinto.cache_backend": "kinto.core.cache.memory"}


# --- SQLite -> PostgreSQL ----------------------------------------------------------------------------


def test_sqlite_to_postgresql_answers_the_same_through_the_api(source_folder, source_snapshot, target_url, capsys):
    status, out, err = copy(
        "--from", str(source_folder / "kinto.ini"), "--to", target_url, "--batch-size", "500", capsys=capsys
    )
    assert status == 0, err
    progress = re.findall(r"^copied ([\d,]+)/([\d,]+) records of /buckets/b/collections/c$", out, re.MULTILINE)
    assert progress[0][0] == "2,500" and progress[-1][0] == progress[-1][1]
    assert "Copied and verified" in out
    assert "The cache is not copied" in out
    app = serve(postgresql_settings(target_url))
    try:
        assert snapshot(app) == source_snapshot
    finally:
        close_clients(app)


def test_etags_and_since_of_the_source_stay_valid_on_the_target(source_folder, source_snapshot, target_url, capsys):
    assert copy("--from", str(source_folder / "kinto.ini"), "--to", target_url, "-q", capsys=capsys)[0] == 0
    app = serve(postgresql_settings(target_url))
    try:
        records = "/v1/buckets/b/collections/c/records"
        etag = source_snapshot[f"alice {records}"]["etag"]
        app.get(records, headers={**ALICE, "If-None-Match": etag}, status=304)
        emptied = "/v1/buckets/b/collections/emptied/records"
        emptied_etag = source_snapshot[f"alice {emptied}"]["etag"]
        app.get(emptied, headers={**ALICE, "If-None-Match": emptied_etag}, status=304)
        assert app.get(f"{emptied}?_since=0", headers=ALICE).json["data"] == []
        since = int(etag.strip('"'))
        created = app.post_json(records, {"data": {"after": "copy"}}, headers=ALICE).json["data"]
        assert created["last_modified"] > since
        changes = app.get(f"{records}?_since={since}", headers=ALICE).json["data"]
        assert [record["id"] for record in changes] == [created["id"]]
    finally:
        close_clients(app)


# --- PostgreSQL -> SQLite ----------------------------------------------------------------------------


def test_postgresql_to_sqlite_answers_the_same_through_the_api(tmp_path):
    source_url = postgresql_test_database(SOURCE_DATABASE, fresh=True)
    app = serve(postgresql_settings(source_url))
    try:
        populate(app, 400)
        app.app.registry.storage.purge_deleted("record", "/buckets/bobs/collections/notes")
        expected = snapshot(app)
    finally:
        close_clients(app)
    target = f"sqlite:///{tmp_path}/kinto.sqlite"
    result = run_kinto("copy", "--from", source_url, "--to", target, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Copied and verified" in result.stdout
    copied = serve(backend_settings("sqlite", tmp_path))
    try:
        assert snapshot(copied) == expected
    finally:
        close_clients(copied)


# --- refusals --------------------------------------------------------------------------------------


def test_a_target_holding_data_is_refused_unless_merge(source_folder, source_snapshot, target_url, capsys):
    app = serve(postgresql_settings(target_url))
    try:
        app.put_json("/v1/buckets/kept", {}, headers=CAROL)
        app.put_json("/v1/buckets/b", {"data": {"title": "stale"}}, headers=CAROL)
        status, _, err = copy("--from", str(source_folder / "kinto.ini"), "--to", target_url, capsys=capsys)
        assert status == 1
        assert "already holds" in err and "--merge" in err
        assert app.get("/v1/buckets/b", headers=CAROL).json["data"]["title"] == "stale"

        status, _, err = copy("--from", str(source_folder / "kinto.ini"), "--to", target_url, "--merge", capsys=capsys)
        assert status == 0, err
        assert app.get("/v1/buckets/kept", headers=CAROL).status_code == 200
        assert app.get("/v1/buckets/b", headers=ALICE).json["data"] == source_snapshot["alice /v1/buckets/b"][2]["data"]
        records = "/v1/buckets/b/collections/c/records"
        assert crawl(app, f"{records}?_limit=1000", ALICE) == source_snapshot[f"alice {records}"]
    finally:
        close_clients(app)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "sqlite:///{tmp}/missing.sqlite", "--to", "sqlite:///{tmp}/t.sqlite"], "does not exist"),
        (["--from", "{tmp}/memory.ini", "--to", "sqlite:///{tmp}/t.sqlite"], "in memory"),
        (["--from", "{tmp}/none.ini", "--to", "sqlite:///{tmp}/t.sqlite"], "no such file"),
        (["--from", "sqlite:///{tmp}/s.sqlite", "--to", "sqlite:///{tmp}/../{name}/s.sqlite"], "the same storage"),
    ],
    ids=["missing-sqlite-file", "memory-backend", "missing-ini", "same-file"],
)
def test_copies_that_cannot_work_stop_with_one_line(tmp_path, capsys, arguments, message):
    write_ini(tmp_path / "memory.ini", backend_settings("memory", tmp_path))
    (tmp_path / "s.sqlite").touch()
    status, _, err = copy(*(a.format(tmp=tmp_path, name=tmp_path.name) for a in arguments), capsys=capsys)
    assert status == 1
    assert err.startswith("kinto copy: error:") and message in err
    assert len(err.strip().splitlines()) == 1


def test_a_target_with_another_user_id_secret_is_pointed_out(source_folder, tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/t.sqlite"
    target = write_ini(tmp_path / "t.ini", {**copying.store_settings(url), "kinto.userid_hmac_secret": "another"})
    status, _, err = copy("--from", str(source_folder / "kinto.ini"), "--to", str(target), capsys=capsys)
    assert status == 0
    assert "different kinto.userid_hmac_secret" in err


# --- the copy checks itself ------------------------------------------------------------------------


class LossyStorage(sqlite_storage.Storage):
    """A target that silently drops the first object of every write: what verification is for."""

    def import_objects(self, resource_name, parent_id, objects, tombstones=None, **kwargs):
        super().import_objects(resource_name, parent_id, objects[1:], tombstones, **kwargs)


def load_from_config(config: Any) -> LossyStorage:
    return LossyStorage(client_from_config(config, "storage"))


def test_a_target_that_differs_after_the_copy_fails_it(source_folder, tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/lossy.sqlite"
    settings = {**copying.store_settings(url), "storage_backend": __name__}
    target = write_ini(tmp_path / "lossy.ini", settings)
    status, _, err = copy("--from", str(source_folder / "kinto.ini"), "--to", str(target), capsys=capsys)
    assert status == 1
    assert "verification failed" in err
    assert "buckets of /: 2 objects in the source, 1 of them in the target" in err
    assert "more)" in err


def test_writes_to_the_source_during_the_copy_fail_it(tmp_path):
    folder = tmp_path / "source"
    settings = backend_settings("sqlite", folder)
    app = serve(settings)
    populate(app, 50)
    source = copying.open_store(*copying.location_settings(f"sqlite:///{folder}/kinto.sqlite"), readonly=True)
    target = copying.open_store(*copying.location_settings(f"sqlite:///{tmp_path}/t.sqlite"), readonly=False)

    def write_meanwhile(line: str) -> None:
        if line.startswith("Copying"):
            app.put_json("/v1/buckets/b/collections/c/records/late", {"data": {}}, headers=ALICE)

    try:
        with pytest.raises(copying.CopyError, match="the source changed during the copy"):
            copying.copy_store(source, target, say=write_meanwhile)
    finally:
        source.close()
        target.close()
        close_clients(app)
