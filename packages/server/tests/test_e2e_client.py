"""End to end: the real Python client (``kinto-http``) against ``kinto start``, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kinto.core.testing.postgresql import postgresql_test_database
from kinto_http import Client, KintoException

from kinto.server.testing import LiveServer, run_kinto

pytestmark = pytest.mark.e2e

ALICE = ("alice", "alice-password")
BOB = ("bob", "bob-password")


def _postgresql_database(name: str) -> str:
    """A fresh database ``name`` on the test server; its URL."""
    return postgresql_test_database(name, fresh=True)


def write_ini(folder, backend: str, database: str = "kinto_server_e2e_test") -> str:
    """``kinto init`` for ``backend`` (PostgreSQL: a fresh database, migrated), small pages."""
    result = run_kinto("init", "--backend", backend, "--auth", "basicauth", "--ini", "kinto.ini", cwd=folder)
    assert result.returncode == 0, result.stderr
    ini = folder / "kinto.ini"
    text = ini.read_text().replace("# kinto.paginate_by =", "kinto.paginate_by = 500")
    if backend == "postgresql":
        text = text.replace("postgresql://postgres:postgres@localhost/postgres", _postgresql_database(database))
    ini.write_text(text)
    if backend == "postgresql":
        result = run_kinto("migrate", "--ini", "kinto.ini", cwd=folder)
        assert result.returncode == 0, result.stderr
    return str(ini)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with LiveServer(ini=write_ini(folder, request.param), cwd=folder) as live:
        yield live


@pytest.fixture
def bucket() -> str:
    return f"b-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def alice(server, bucket) -> Client:
    client = Client(server_url=server.url, auth=ALICE, bucket=bucket, collection="tasks")
    client.create_bucket()
    client.create_collection()
    return client


@pytest.fixture
def bob(server, bucket) -> Client:
    return Client(server_url=server.url, auth=BOB, bucket=bucket, collection="tasks")


def status_of(call) -> int:
    with pytest.raises(KintoException) as raised:
        call()
    return raised.value.response.status_code


def test_the_client_reads_the_server_info(server):
    info = Client(server_url=server.url).server_info()
    assert info["project_name"] == "kinto"
    assert "permissions_endpoint" in info["capabilities"]


def test_buckets_collections_groups_and_records_crud(alice, bucket):
    assert alice.get_bucket()["data"]["id"] == bucket
    alice.patch_bucket(data={"title": "Tasks"})
    assert alice.get_bucket()["data"]["title"] == "Tasks"
    alice.create_collection(id="notes", data={"kind": "notes"})
    assert {c["id"] for c in alice.get_collections()} == {"tasks", "notes"}
    alice.delete_collection(id="notes")
    alice.create_group(id="friends", data={"members": ["basicauth:someone"]})
    assert alice.get_group(id="friends")["data"]["members"] == ["basicauth:someone"]
    created = alice.create_record(data={"title": "write tests"})
    record_id = created["data"]["id"]
    alice.update_record(id=record_id, data={"title": "write more tests", "done": False})
    alice.patch_record(id=record_id, data={"done": True})
    assert alice.get_record(id=record_id)["data"] == {**alice.get_record(id=record_id)["data"], "done": True}
    assert [r["title"] for r in alice.get_records()] == ["write more tests"]
    alice.delete_record(id=record_id)
    assert alice.get_records() == []
    alice.delete_bucket()
    assert status_of(lambda: alice.get_bucket()) == 403


def test_permissions_between_two_users(alice, bob, bucket):
    alice.create_record(id="secret", data={"text": "mine"})
    assert status_of(lambda: bob.get_record(id="secret")) == 403
    assert status_of(lambda: bob.create_record(data={"text": "intrusion"})) == 403
    bob_id = bob.server_info()["user"]["id"]
    alice.patch_collection(permissions={"read": [bob_id]})
    assert bob.get_record(id="secret")["data"]["text"] == "mine"
    assert status_of(lambda: bob.update_record(id="secret", data={"text": "changed"})) == 403
    alice.create_group(id="writers", data={"members": [bob_id]})
    alice.patch_collection(permissions={"write": [f"/buckets/{bucket}/groups/writers"]})
    bob.update_record(id="secret", data={"text": "changed by bob"})
    assert alice.get_record(id="secret")["data"]["text"] == "changed by bob"
    permissions = {entry["uri"]: entry["permissions"] for entry in bob.get_permissions()}
    assert "write" in permissions[f"/buckets/{bucket}/collections/tasks"]
    assert f"/buckets/{bucket}" not in permissions


def test_bucket_listing_shows_each_user_their_buckets(alice, bob, bucket):
    bob.create_bucket(id=f"{bucket}-bob")
    assert bucket in {b["id"] for b in alice.get_buckets()}
    assert bucket not in {b["id"] for b in bob.get_buckets()}
    assert f"{bucket}-bob" in {b["id"] for b in bob.get_buckets()}


def test_batch_requests(alice):
    with alice.batch() as batch:
        for index in range(60):
            batch.create_record(id=f"r{index:02d}", data={"index": index})
    assert len(alice.get_records()) == 60
    results = batch.results()
    assert len(results) == 60


def test_safe_writes_conflict_with_412(alice):
    created = alice.create_record(id="doc", data={"v": 1})["data"]
    alice.update_record(id="doc", data={"v": 2})
    stale = {**created, "v": 3}
    assert status_of(lambda: alice.update_record(data=stale, safe=True)) == 412
    assert status_of(lambda: alice.create_record(id="doc", data={"v": 4})) == 412
    assert alice.get_record(id="doc")["data"]["v"] == 2
    fresh = alice.get_record(id="doc")["data"]
    alice.update_record(data={**fresh, "v": 5}, safe=True)
    assert alice.get_record(id="doc")["data"]["v"] == 5


def test_collection_schema_validation(alice):
    alice.patch_collection(
        data={"schema": {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}}
    )
    alice.create_record(data={"title": "ok"})
    assert status_of(lambda: alice.create_record(data={"title": 12})) == 400
    assert status_of(lambda: alice.patch_collection(data={"schema": {"type": "no-such-type"}})) == 400


def test_pagination_over_thousands_of_records(alice):
    with alice.batch() as batch:
        for index in range(2600):
            batch.create_record(id=f"r{index:04d}", data={"index": index})
    pages = list(alice.get_paginated_records(_sort="index"))
    assert len(pages) == 6  # kinto.paginate_by = 500
    indexes = [record["index"] for page in pages for record in page["data"]]
    assert indexes == list(range(2600))


def test_since_sync_sees_creations_updates_and_deletions(alice):
    for index in range(5):
        alice.create_record(id=f"r{index}", data={"n": index})
    first_sync = alice.get_records()
    since = alice.get_records_timestamp()
    alice.update_record(id="r1", data={"n": 10})
    alice.delete_record(id="r2")
    alice.create_record(id="r5", data={"n": 5})
    changes = {record["id"]: record for record in alice.get_records(_since=since)}
    assert len(first_sync) == 5
    assert set(changes) == {"r1", "r2", "r5"}
    assert changes["r1"]["n"] == 10
    assert changes["r2"]["deleted"] is True
    assert alice.get_records(_since=alice.get_records_timestamp()) == []


def test_records_of_a_deleted_collection_are_gone(alice):
    alice.create_record(id="r1", data={})
    alice.delete_collection()
    assert status_of(lambda: alice.get_records()) == 404
