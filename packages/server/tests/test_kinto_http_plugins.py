"""kinto-http.py as Kinto users use it with the plugins `kinto init` turns on: accounts and the default bucket.

The server is ``kinto start`` on the ini ``kinto init`` writes (SQLite, PostgreSQL), unchanged but
for a cheaper bcrypt cost.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kinto.core.testing.postgresql import postgresql_test_database
from kinto_http import Client, KintoException

from kinto.server.testing import LiveServer, run_kinto

pytestmark = pytest.mark.e2e


def write_ini(folder, backend: str) -> str:
    result = run_kinto("init", "--backend", backend, "--ini", "kinto.ini", cwd=folder)
    assert result.returncode == 0, result.stderr
    ini = folder / "kinto.ini"
    text = ini.read_text().replace("\n[app:main]\n", "\n[app:main]\nkinto.account_bcrypt_rounds = 4\n", 1)
    if backend == "postgresql":
        url = postgresql_test_database("kinto_server_plugins_e2e_test", fresh=True)
        text = text.replace("postgresql://postgres:postgres@localhost/postgres", url)
    ini.write_text(text)
    if backend == "postgresql":
        result = run_kinto("migrate", "--ini", "kinto.ini", cwd=folder)
        assert result.returncode == 0, result.stderr
    return str(ini)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"plugins-{request.param}")
    with LiveServer(ini=write_ini(folder, request.param), cwd=folder) as live:
        yield live


def sign_up(server: LiveServer, username: str, password: str) -> Client:
    """Create the account anonymously, as a web page does, and return a client logged in with it."""
    Client(server_url=server.url).session.request("put", f"/accounts/{username}", data={"password": password})
    return Client(server_url=server.url, auth=(username, password))


def test_an_account_signs_up_logs_in_and_changes_its_password(server):
    alice = sign_up(server, "alice", "first-password")
    assert alice.server_info()["user"]["id"] == "account:alice"
    account, _ = alice.session.request("get", "/accounts/alice")
    assert account["data"]["id"] == "alice" and "password" not in account["data"]

    alice.session.request("patch", "/accounts/alice", data={"password": "second-password"})

    old = Client(server_url=server.url, auth=("alice", "first-password"))
    assert "user" not in old.server_info()
    with pytest.raises(KintoException) as refused:
        old.get_records(bucket="default", collection="tasks")
    assert refused.value.response.status_code == 401
    new = Client(server_url=server.url, auth=("alice", "second-password"))
    assert new.server_info()["user"]["id"] == "account:alice"


def test_a_wrong_password_is_no_login(server):
    sign_up(server, "bob", "bobs-password")
    intruder = Client(server_url=server.url, auth=("bob", "guessed"))
    assert "user" not in intruder.server_info()
    with pytest.raises(KintoException) as refused:
        intruder.create_record(data={"x": 1}, bucket="default", collection="tasks")
    assert refused.value.response.status_code == 401


def test_the_default_bucket_holds_each_users_records(server):
    carol = sign_up(server, "carol", "carols-password").clone(bucket="default", collection="tasks")
    created = carol.create_record(data={"title": "buy milk"})["data"]
    with carol.batch() as batch:
        batch.create_record(data={"title": "call mum"})
        batch.create_record(data={"title": "water plants"}, collection="chores")
    assert sorted(record["title"] for record in carol.get_records()) == ["buy milk", "call mum"]
    assert carol.get_record(id=created["id"])["data"]["title"] == "buy milk"
    assert [record["title"] for record in carol.get_records(collection="chores")] == ["water plants"]
    # "default" is her bucket, under its own id too.
    bucket = carol.server_info()["user"]["bucket"]
    assert carol.get_bucket()["data"]["id"] == bucket
    assert len(carol.get_records(bucket=bucket)) == 2

    dave = sign_up(server, "dave", "daves-password").clone(bucket="default", collection="tasks")
    assert dave.get_records() == []
    with pytest.raises(KintoException) as refused:
        dave.get_records(bucket=bucket)
    assert refused.value.response.status_code == 403
