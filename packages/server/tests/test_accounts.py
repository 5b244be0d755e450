"""kinto.plugins.accounts through HTTP, on every backend: sign up, log in, change password, admins, delete."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest
from pyramid.exceptions import ConfigurationError

from kinto.plugins.accounts.authentication import hash_password
from kinto.server import main
from kinto.server.testing import LiveServer, run_kinto

from .conftest import backend_settings, build_app, close_clients, flush, needs_application_in_process

ACCOUNT_SETTINGS = {
    "kinto.includes": "kinto.plugins.accounts",
    "multiauth.policies": "account",
    "multiauth.policy.account.use": "kinto.plugins.accounts.AccountsPolicy",
    "kinto.account_create_principals": "system.Everyone",
    "kinto.account_write_principals": "account:admin",
    "kinto.bucket_create_principals": "system.Authenticated",
    # The cheapest bcrypt cost: the tests hash many passwords (production keeps the default, 12).
    "kinto.account_bcrypt_rounds": "4",
}


def auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def accounts(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[webtest.TestApp]:
    needs_application_in_process("settings of its own")
    app = build_app({**backend_settings(backend, tmp_path_factory.mktemp("accounts")), **ACCOUNT_SETTINGS})
    flush(app)
    yield app
    close_clients(app)


def sign_up(app: webtest.TestApp, username: str, password: str) -> webtest.TestResponse:
    return app.put_json(f"/v1/accounts/{username}", {"data": {"password": password}}, status=201)


def create_administrator(app: webtest.TestApp, username: str = "admin", password: str = "pw") -> None:
    """An administrator's account, stored as ``kinto create-user`` stores it (nobody may sign up as one)."""
    registry = app.app.registry
    registry.storage.update("account", username, username, {"id": username, "password": hash_password(password, 4)})
    registry.permission.add_principal_to_ace(f"/accounts/{username}", "write", f"account:{username}")


def test_anybody_signs_up_and_logs_in_as_account_user(accounts: webtest.TestApp) -> None:
    created = sign_up(accounts, "alice", "s3cret").json
    assert created["data"]["id"] == "alice"
    assert created["permissions"] == {"write": ["account:alice"]}
    root = accounts.get("/v1/", headers=auth("alice", "s3cret")).json
    assert root["user"]["id"] == "account:alice"
    assert "accounts" in root["capabilities"]
    # The login is a real one: the user creates a bucket of its own.
    bucket = accounts.put_json("/v1/buckets/b1", {"data": {}}, headers=auth("alice", "s3cret"), status=201).json
    assert "account:alice" in bucket["permissions"]["write"]


def test_a_wrong_password_or_an_unknown_user_is_anonymous(accounts: webtest.TestApp) -> None:
    sign_up(accounts, "alice", "s3cret")
    for headers in (auth("alice", "wrong"), auth("nobody", "s3cret")):
        assert "user" not in accounts.get("/v1/", headers=headers).json
        accounts.get("/v1/accounts/alice", headers=headers, status=401)
        accounts.put_json("/v1/buckets/b2", {"data": {}}, headers=headers, status=401)


def test_passwords_are_stored_hashed_and_never_answered(accounts: webtest.TestApp) -> None:
    sign_up(accounts, "alice", "s3cret")
    shown = accounts.get("/v1/accounts/alice", headers=auth("alice", "s3cret")).json["data"]
    assert "password" not in shown
    listed = accounts.get("/v1/accounts", headers=auth("alice", "s3cret")).json["data"]
    assert [account["id"] for account in listed] == ["alice"]
    assert all("password" not in account for account in listed)
    stored = accounts.app.registry.storage.get("account", "alice", "alice")
    assert stored["password"].startswith("$2b$04$") and "s3cret" not in stored["password"]


def test_changing_the_password_ends_the_old_one_at_once(accounts: webtest.TestApp) -> None:
    sign_up(accounts, "alice", "s3cret")
    accounts.get("/v1/accounts/alice", headers=auth("alice", "s3cret"))  # the login is now cached
    accounts.patch_json("/v1/accounts/alice", {"data": {"password": "n3w"}}, headers=auth("alice", "s3cret"))
    accounts.get("/v1/accounts/alice", headers=auth("alice", "s3cret"), status=401)
    assert accounts.get("/v1/", headers=auth("alice", "n3w")).json["user"]["id"] == "account:alice"


def test_nobody_takes_over_an_existing_account(accounts: webtest.TestApp) -> None:
    sign_up(accounts, "alice", "s3cret")
    sign_up(accounts, "eve", "evil")
    accounts.put_json("/v1/accounts/alice", {"data": {"password": "taken"}}, status=403)
    accounts.post_json("/v1/accounts", {"data": {"id": "alice", "password": "taken"}}, status=(200, 401, 403))
    accounts.put_json("/v1/accounts/alice", {"data": {"password": "taken"}}, headers=auth("eve", "evil"), status=400)
    accounts.patch_json("/v1/accounts/alice", {"data": {"password": "taken"}}, headers=auth("eve", "evil"), status=403)
    accounts.delete("/v1/accounts/alice", headers=auth("eve", "evil"), status=403)
    accounts.get("/v1/accounts/alice", headers=auth("eve", "evil"), status=403)
    assert accounts.get("/v1/", headers=auth("alice", "s3cret")).json["user"]["id"] == "account:alice"
    assert "user" not in accounts.get("/v1/", headers=auth("alice", "taken")).json


def test_users_list_only_their_own_account_and_admins_list_all(accounts: webtest.TestApp) -> None:
    create_administrator(accounts)
    for username in ("alice", "bob"):
        sign_up(accounts, username, "pw")
    mine = accounts.get("/v1/accounts", headers=auth("bob", "pw")).json["data"]
    assert [account["id"] for account in mine] == ["bob"]
    every = accounts.get("/v1/accounts", headers=auth("admin", "pw")).json["data"]
    assert sorted(account["id"] for account in every) == ["admin", "alice", "bob"]


def test_admins_create_change_and_delete_other_accounts(accounts: webtest.TestApp) -> None:
    create_administrator(accounts)
    admin = auth("admin", "pw")
    created = accounts.post_json(
        "/v1/accounts", {"data": {"id": "carol", "password": "c"}}, headers=admin, status=201
    ).json
    assert created["permissions"]["write"] == ["account:carol"]  # carol owns her account, not the admin
    assert accounts.get("/v1/", headers=auth("carol", "c")).json["user"]["id"] == "account:carol"
    accounts.patch_json("/v1/accounts/carol", {"data": {"password": "reset"}}, headers=admin)
    assert accounts.get("/v1/", headers=auth("carol", "reset")).json["user"]["id"] == "account:carol"
    accounts.delete("/v1/accounts/carol", headers=admin)
    assert "user" not in accounts.get("/v1/", headers=auth("carol", "reset")).json


def test_deleting_ones_account_ends_its_login(accounts: webtest.TestApp) -> None:
    sign_up(accounts, "alice", "s3cret")
    accounts.delete("/v1/accounts/alice", headers=auth("alice", "s3cret"))
    accounts.get("/v1/accounts/alice", headers=auth("alice", "s3cret"), status=401)


@pytest.mark.parametrize("body", [{"data": {}}, {"data": {"password": ""}}, {"data": {"password": 12}}])
def test_an_account_needs_a_password(accounts: webtest.TestApp, body: dict[str, Any]) -> None:
    response = accounts.put_json("/v1/accounts/alice", body, status=400).json
    assert response["errno"] == 107


@pytest.mark.parametrize("username", ["-x", "a b", "a/b"])
def test_usernames_follow_kintos_rule(accounts: webtest.TestApp, username: str) -> None:
    accounts.post_json("/v1/accounts", {"data": {"id": username, "password": "pw"}}, status=400)


def test_email_addresses_are_usernames(accounts: webtest.TestApp) -> None:
    sign_up(accounts, "alice+test@example.com", "pw")
    assert (
        accounts.get("/v1/", headers=auth("alice+test@example.com", "pw")).json["user"]["id"]
        == "account:alice+test@example.com"
    )


@pytest.mark.parametrize("body", [{"data": {"password": "pw"}}, {}, {"data": {"id": ""}}])
def test_a_post_must_name_the_account(accounts: webtest.TestApp, body: dict[str, Any]) -> None:
    error = accounts.post_json("/v1/accounts", body, status=400).json
    # Kinto 26.5.0's answer, word for word.
    assert error["message"] == "data.id in body: Required"
    assert error["details"] == [{"location": "body", "name": "data.id", "description": "data.id in body: Required"}]


def test_without_create_principals_nobody_signs_up(backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    needs_application_in_process("settings of its own")
    settings = {key: value for key, value in ACCOUNT_SETTINGS.items() if key != "kinto.account_create_principals"}
    app = build_app({**backend_settings(backend, tmp_path_factory.mktemp("closed")), **settings})
    try:
        flush(app)
        app.put_json("/v1/accounts/alice", {"data": {"password": "pw"}}, status=401)
    finally:
        close_clients(app)


def test_the_permissions_endpoint_lists_ones_account(backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    needs_application_in_process("settings of its own")
    app = build_app(
        {
            **backend_settings(backend, tmp_path_factory.mktemp("perms")),
            **ACCOUNT_SETTINGS,
            "kinto.experimental_permissions_endpoint": "true",
        }
    )
    try:
        flush(app)
        sign_up(app, "alice", "pw")
        entries = app.get("/v1/permissions", headers=auth("alice", "pw")).json["data"]
        mine = [entry for entry in entries if entry["uri"] == "/accounts/alice"]
        assert mine == [
            {
                "uri": "/accounts/alice",
                "resource_name": "account",
                "id": "alice",
                "account_id": "alice",
                "permissions": ["read", "write"],
            }
        ]
    finally:
        close_clients(app)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"multiauth.policy.account.use": None, "multiauth.policies": "basicauth"}, "needs its authentication policy"),
        (
            {
                "multiauth.policies": "basicauth account",
                "multiauth.policy.basicauth.use": "kinto.core.authentication.BasicAuthAuthenticationPolicy",
            },
            "must come after",
        ),
        ({"kinto.account_create_principals": "account:alice"}, "not in account_write_principals"),
    ],
)
def test_misconfigurations_refuse_to_start(changes: dict[str, Any], message: str) -> None:
    settings = {**ACCOUNT_SETTINGS, "kinto.userid_hmac_secret": "s", **backend_settings("memory", None)}
    for key, value in changes.items():
        if value is None:
            settings.pop(key)
        else:
            settings[key] = value
    with pytest.raises(ConfigurationError, match=message):
        main({}, **settings)


def test_kinto_create_user_makes_an_account_the_server_accepts(tmp_path: Path) -> None:
    needs_application_in_process("a server of its own")
    ini = tmp_path / "kinto.ini"
    initialized = run_kinto("init", "--backend", "sqlite", "--ini", str(ini), cwd=tmp_path)
    assert initialized.returncode == 0, initialized.stdout + initialized.stderr
    # `kinto init` turns accounts on, as Kinto's template does.
    ini.write_text(ini.read_text().replace("\n[app:main]\n", "\n[app:main]\nkinto.account_bcrypt_rounds = 4\n", 1))
    done = run_kinto("create-user", "--ini", str(ini), "--username", "ops", "--password", "pw", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    server = LiveServer(cwd=tmp_path, args=["--ini", str(ini)]).start()
    try:
        request = urllib.request.Request(f"{server.url}/", headers=auth("ops", "pw"))
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer)["user"]["id"] == "account:ops"
    finally:
        server.stop()


def test_as_in_kinto_the_first_comer_may_take_an_administrators_name(accounts: webtest.TestApp) -> None:
    # kinto-http's own test configuration relies on it (account_write_principals = account:user).
    sign_up(accounts, "admin", "mine")
    every = accounts.get("/v1/accounts", headers=auth("admin", "mine")).json["data"]
    assert [account["id"] for account in every] == ["admin"]


def test_reserved_admin_names_are_not_for_sign_up(backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    needs_application_in_process("settings of its own")
    settings = {**ACCOUNT_SETTINGS, "kinto.account_reserve_admin_names": "true"}
    app = build_app({**backend_settings(backend, tmp_path_factory.mktemp("reserved")), **settings})
    try:
        flush(app)
        check_admin_names_are_reserved(app)
    finally:
        close_clients(app)


def check_admin_names_are_reserved(accounts: webtest.TestApp) -> None:
    # account:admin administers every account: the first comer must not become it.
    refused = accounts.put_json("/v1/accounts/admin", {"data": {"password": "mine"}}, status=403).json
    assert "kinto create-user" in refused["message"]
    accounts.post_json("/v1/accounts", {"data": {"id": "admin", "password": "mine"}}, status=403)
    sign_up(accounts, "alice", "pw")
    accounts.put_json(
        "/v1/accounts/admin", {"data": {"password": "mine"}}, headers=auth("alice", "pw"), status=(400, 403)
    )
    assert "user" not in accounts.get("/v1/", headers=auth("admin", "mine")).json


def test_an_administrator_creates_another_administrator(backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    needs_application_in_process("settings of its own")
    settings = {**ACCOUNT_SETTINGS, "kinto.account_write_principals": "account:admin account:ops"}
    app = build_app({**backend_settings(backend, tmp_path_factory.mktemp("admins")), **settings})
    try:
        flush(app)
        create_administrator(app)
        app.put_json("/v1/accounts/ops", {"data": {"password": "o"}}, headers=auth("admin", "pw"), status=201)
        assert app.get("/v1/", headers=auth("ops", "o")).json["user"]["id"] == "account:ops"
    finally:
        close_clients(app)


def test_a_password_longer_than_bcrypt_reads_is_a_400(accounts: webtest.TestApp) -> None:
    refused = accounts.put_json("/v1/accounts/alice", {"data": {"password": "é" * 37}}, status=400).json
    assert (refused["errno"], refused["details"][0]["name"]) == (107, "data.password")
    accounts.get("/v1/accounts/alice", headers=auth("alice", "é" * 37), status=401)


def test_long_passwords_hashed_by_kinto_still_log_in(accounts: webtest.TestApp) -> None:
    # Kinto's bcrypt (< 5) hashed the first 72 bytes of a longer password; its users keep logging in.
    password = "p" * 100
    registry = accounts.app.registry
    registry.storage.update("account", "old", "old", {"id": "old", "password": hash_password(password[:72], 4)})
    registry.permission.add_principal_to_ace("/accounts/old", "write", "account:old")
    assert accounts.get("/v1/", headers=auth("old", password)).json["user"]["id"] == "account:old"
