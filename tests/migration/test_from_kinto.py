"""A database written by Kinto 26.5.0, converted by ``kinto migrate`` and served by our ``kinto start``.

Kinto 26.5.0 runs from its own venv (the benchmark's, ``bench/.venvs/kinto-26.5.0``, built once
and reused) on a fresh PostgreSQL database of its own (``kinto_migration_test_<run id>``); three users fill it through
its HTTP API: buckets, collections with schemas, groups, 10,000 records with per-record permissions
through the batch endpoint, then updates and deletions leaving tombstones. Every object, ACL, ETag
and tombstone is recorded through the API; Kinto stops; before ``kinto migrate`` our server refuses
the database, saying why; after it, our server answers every recorded request identically, and
``_since`` from a timestamp read on Kinto returns exactly the changes after it.

Run by ``nox -s migration`` (PostgreSQL needed: ``KINTO_TEST_POSTGRESQL_URL``); about five minutes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import webtest
from kinto_processes import Server

from kinto.server.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
#: This run's database is ``kinto_migration_test_<run id>`` (see kinto.core.testing.postgresql).
DATABASE = "kinto_migration_test"
SECRET = "migration-test-secret"
USERS = ("alice", "bob", "carol")
#: Records per (user, bucket, collection); 10,000 in all, "scratch" deleted with its collection.
COLLECTIONS = {
    "alice": {"notes": 4000, "tasks": 2000, "scratch": 20},
    "bob": {"photos": 2980},
    "carol": {"links": 1000},
}
BATCH = 500


def _auth(user: str) -> tuple[str, str]:
    return (user, f"{user}-password")


@pytest.fixture(scope="module")
def database_url() -> str:
    from kinto.core.testing.postgresql import postgresql_test_database

    return postgresql_test_database(DATABASE, fresh=True)


@pytest.fixture(scope="module")
def kinto_bin() -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from httpbench.servers import KintoReference
    finally:
        sys.path.remove(str(ROOT / "bench"))
    reference = KintoReference()
    reference.install()  # cached in bench/.venvs across runs
    return reference.bin_dir()


@pytest.fixture(scope="module")
def ini(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Path:
    """One ini for both servers: ours reads Kinto's ``[app:main]`` as it is."""
    path = tmp_path_factory.mktemp("migration") / "kinto.ini"
    backends = [
        f"kinto.{kind}_backend = kinto.core.{kind}.postgresql\nkinto.{kind}_url = {database_url}"
        for kind in ("storage", "permission", "cache")
    ]
    path.write_text(
        "[app:main]\nuse = egg:kinto\n" + "\n".join(backends) + "\n"
        f"kinto.userid_hmac_secret = {SECRET}\n"
        "multiauth.policies = basicauth\n"
        "kinto.bucket_create_principals = system.Authenticated\n"
        "kinto.experimental_collection_schema_validation = true\n"
        f"kinto.batch_max_requests = {BATCH}\n"
        # Kinto logs every sub-request at INFO: 10,000 lines slow it down.
        "\n[loggers]\nkeys = root\n[handlers]\nkeys = console\n[formatters]\nkeys = plain\n"
        "[logger_root]\nlevel = WARNING\nhandlers = console\n"
        "[handler_console]\nclass = StreamHandler\nargs = (sys.stderr,)\nlevel = NOTSET\nformatter = plain\n"
        "[formatter_plain]\nformat = %(levelname)s %(name)s %(message)s\n"
        # Kinto's kinto start is pserve: it needs a server section (its port is added per run).
        "\n[server:main]\nuse = egg:waitress#main\nhost = 127.0.0.1\n"
    )
    return path


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _ours(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "kinto.server", *arguments]


# --- filling Kinto ----------------------------------------------------------------------------------


def _call(base: str, method: str, path: str, user: str, body: Any = None) -> requests.Response:
    response = requests.request(method, base + path, json=body, auth=_auth(user), timeout=120)
    assert response.status_code < 400, (method, path, response.status_code, response.text)
    return response


def _batch(base: str, user: str, requests_: list[dict[str, Any]]) -> None:
    for start in range(0, len(requests_), BATCH):
        answer = _call(base, "POST", "/batch", user, {"requests": requests_[start : start + BATCH]}).json()
        failed = [item for item in answer["responses"] if item["status"] >= 400]
        assert not failed, failed[:3]


def _user_ids(base: str) -> dict[str, str]:
    return {user: _call(base, "GET", "/", user).json()["user"]["id"] for user in USERS}


def fill(base: str) -> int:
    """Users, buckets, collections with schemas, groups, 10,000 records with their own ACLs; a timestamp."""
    ids = _user_ids(base)
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "n": {"type": "integer"}}}
    for user, collections in COLLECTIONS.items():
        bucket = f"/buckets/{user}-bucket"
        _call(base, "PUT", bucket, user, {"data": {"owner": user}, "permissions": {"read": ["system.Authenticated"]}})
        others = [ids[other] for other in USERS if other != user]
        _call(base, "PUT", f"{bucket}/groups/friends", user, {"data": {"members": others}})
        _call(base, "PUT", f"{bucket}/groups/gone", user, {"data": {"members": [others[0]]}})
        for collection, count in collections.items():
            _call(base, "PUT", f"{bucket}/collections/{collection}", user, {"data": {"schema": schema}})
            principals = [[others[0]], [f"{bucket}/groups/friends"], ["system.Authenticated"], []]
            _batch(
                base,
                user,
                [
                    {
                        "method": "PUT",
                        "path": f"{bucket}/collections/{collection}/records/r{number:05d}",
                        "body": {
                            "data": {"title": f"{user} {collection} {number}", "n": number},
                            "permissions": {"read": principals[number % 4], "write": principals[(number + 1) % 4]},
                        },
                    }
                    for number in range(count)
                ],
            )
    return int(
        _call(base, "GET", "/buckets/alice-bucket/collections/notes/records", "alice").headers["ETag"].strip('"')
    )


def change(base: str) -> None:
    """After the timestamp: updates, deletions (tombstones), a deleted group and collection."""
    notes = "/buckets/alice-bucket/collections/notes/records"
    _batch(
        base,
        "alice",
        [
            {"method": "PATCH", "path": f"{notes}/r{number:05d}", "body": {"data": {"title": f"edited {number}"}}}
            for number in range(0, 400, 4)
        ],
    )
    _batch(base, "alice", [{"method": "DELETE", "path": f"{notes}/r{number:05d}"} for number in range(1, 600, 2)])
    _call(base, "POST", notes, "alice", {"data": {"title": "late", "n": 1}})
    _call(base, "DELETE", "/buckets/alice-bucket/collections/scratch", "alice")
    _batch(
        base,
        "bob",
        [
            {"method": "DELETE", "path": f"/buckets/bob-bucket/collections/photos/records/r{number:05d}"}
            for number in range(0, 100)
        ],
    )
    for user in USERS:
        _call(base, "DELETE", f"/buckets/{user}-bucket/groups/gone", user)


# --- recording through the API --------------------------------------------------------------------------


def _pages(base: str, path: str, user: str) -> tuple[list[Any], str | None]:
    """Every item of a plural endpoint (following Next-Page), and the first page's ETag."""
    response = _call(base, "GET", path, user)
    etag, items = response.headers.get("ETag"), list(response.json()["data"])
    while response.headers.get("Next-Page"):
        next_page = response.headers["Next-Page"]
        response = _call(base, "GET", next_page[next_page.index("/v1") + 3 :], user)
        items += response.json()["data"]
    return items, etag


def _one(base: str, path: str, user: str) -> tuple[int, Any, str | None]:
    response = requests.get(base + path, auth=_auth(user), timeout=60)
    body = response.json()
    # Kinto answers a reader without write permission ``"permissions": {}``, ours leaves the key
    # out: an API difference of its own, not something the conversion could lose.
    if body.get("permissions") == {}:
        del body["permissions"]
    if "permissions" in body:
        body["permissions"] = _sorted_principals(body["permissions"])
    return response.status_code, body, response.headers.get("ETag")


def _sorted_principals(permissions: dict[str, list[str]]) -> dict[str, list[str]]:
    """Kinto lists a permission's principals in the order of a Python set: compare them as sets."""
    return {name: sorted(principals) for name, principals in permissions.items()}


def record(base: str, since: int) -> dict[str, Any]:
    """What every user sees: every bucket, collection, group and record (tombstones included), with ACLs.

    ACLs are read on the objects themselves (every bucket, collection and group, one record in 50
    per user). ``GET /v1/permissions`` is left out: on this data its listing differs from Kinto
    26.5.0's (ours leaves out other users' collections a bucket's read permission reaches), an
    endpoint difference of its own that no conversion step is involved in.
    """
    seen: dict[str, Any] = {}
    for user in USERS:
        buckets, etag = _pages(base, "/buckets?_since=0", user)
        seen[f"{user} buckets"] = (buckets, etag)
        for bucket in buckets:
            if bucket.get("deleted"):
                continue
            path = f"/buckets/{bucket['id']}"
            seen[f"{user} {path}"] = _one(base, path, user)
            live: dict[str, list[str]] = {}
            for plural in ("collections", "groups"):
                items, etag = _pages(base, f"{path}/{plural}?_since=0", user)
                seen[f"{user} {path}/{plural}"] = (items, etag)
                live[plural] = [item["id"] for item in items if not item.get("deleted")]
                for item_id in live[plural]:
                    seen[f"{user} {path}/{plural}/{item_id}"] = _one(base, f"{path}/{plural}/{item_id}", user)
            for collection in live["collections"]:
                records = f"{path}/collections/{collection}/records"
                items, etag = _pages(base, f"{records}?_since=0", user)
                seen[f"{user} {records}"] = (items, etag)
                for item in [item for item in items if not item.get("deleted")][::50]:
                    seen[f"{user} {records}/{item['id']}"] = _one(base, f"{records}/{item['id']}", user)
    notes = "/buckets/alice-bucket/collections/notes/records"
    seen["alice since"] = _pages(base, f"{notes}?_since={since}", "alice")
    seen["alice since, sorted"] = _pages(base, f"{notes}?_since={since}&_sort=last_modified", "alice")
    return seen


# --- the test --------------------------------------------------------------------------------------------


def test_a_database_written_by_kinto_is_served_identically_after_kinto_migrate(
    kinto_bin: Path, ini: Path, database_url: str, servers: list[Server], tmp_path: Path
) -> None:
    kinto = str(kinto_bin / "kinto")
    subprocess.run([kinto, "migrate", "--ini", str(ini)], check=True, capture_output=True)
    port = free_port()
    kinto_ini = tmp_path / "kinto-26.ini"
    kinto_ini.write_text(ini.read_text() + f"port = {port}\n")
    servers.append(Server([kinto, "start", "--ini", str(kinto_ini)], tmp_path / "kinto.log", port=port))
    base = servers[-1].url
    since = fill(base)
    change(base)
    before = record(base, since)
    servers[-1].stop()

    records = before["alice /buckets/alice-bucket/collections/notes/records"][0]
    assert len(records) == 4001 and sum(1 for item in records if item.get("deleted")) == 300
    # 10,000 written, 20 gone with their collection, 400 deleted (tombstones), one more created.
    seen_by_alice = [value[0] for key, value in before.items() if key.startswith("alice ") and key.endswith("/records")]
    assert sum(len(items) for items in seen_by_alice) == 9981
    changed = before["alice since"][0]
    assert changed and all(item["last_modified"] > since for item in changed)

    # Before the conversion our server says why it cannot serve, instead of failing request by request.
    refused = subprocess.run(
        _ours("start", "--ini", str(ini), "--port", str(free_port())), capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1
    assert "Kinto's storage schema 26" in refused.stderr and "kinto migrate" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    _check_app_before_conversion(ini)

    plan = subprocess.run(_ours("migrate", "--ini", str(ini), "--dry-run"), capture_output=True, text=True)
    assert plan.returncode == 0, plan.stderr
    assert "Kinto's storage schema 26" in plan.stderr and "would copy" in plan.stderr
    converted = subprocess.run(_ours("migrate", "--ini", str(ini)), capture_output=True, text=True, timeout=600)
    assert converted.returncode == 0, converted.stderr
    assert "Converted Kinto's storage schema 26" in converted.stderr
    again = subprocess.run(_ours("migrate", "--ini", str(ini)), capture_output=True, text=True)
    assert again.returncode == 0 and "up to date" in again.stderr

    servers.append(Server(_ours("start", "--ini", str(ini)), tmp_path / "ours.log"))
    after = record(servers[-1].url, since)
    assert after.keys() == before.keys()
    different = [key for key in before if before[key] != after[key]]
    assert not different, (different[:5], before[different[0]], after[different[0]])


def _check_app_before_conversion(ini: Path) -> None:
    """The application on Kinto's schema: 503 with the reason on the heartbeat and on reads, never a 500."""
    from kinto.server import configuration, main

    app = webtest.TestApp(main({}, **configuration.read_ini(ini).settings))
    try:
        heartbeat = app.get("/v1/__heartbeat__", status=503).json
        assert heartbeat["storage"] is False
        assert "Kinto's storage schema 26" in heartbeat["reasons"]["storage"]
        read = app.get("/v1/buckets/alice-bucket", headers={"Authorization": _basic("alice")}, status=503).json
        assert read["errno"] == 201
    finally:
        from kinto.server.cli import close_app

        close_app(app.app)


def _basic(user: str) -> str:
    import base64

    return "Basic " + base64.b64encode(":".join(_auth(user)).encode()).decode()
