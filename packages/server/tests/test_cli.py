"""The ``kinto`` command, run as users run it (a subprocess), against real servers and databases."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import textwrap
import urllib.request
from base64 import b64encode

import pytest
from kinto.core.testing.postgresql import postgresql_test_database

from kinto.server.configuration import read_ini
from kinto.server.testing import LiveServer, free_port, run_kinto

AUTH = "Basic " + b64encode(b"alice:secret").decode()


def request(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    prepared = urllib.request.Request(
        url, data=data, method=method, headers={"Authorization": AUTH, "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(prepared, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


def test_version_prints_the_package_version():
    from kinto.server import __version__

    result = run_kinto("version")
    assert (result.returncode, result.stdout.strip()) == (0, __version__)


def test_help_lists_the_commands():
    result = run_kinto("--help")
    assert result.returncode == 0
    for command in ("init", "start", "migrate", "purge-deleted", "flush-cache", "version"):
        assert command in result.stdout


def test_init_writes_a_commented_sqlite_ini_readable_by_its_owner_only(tmp_path):
    result = run_kinto("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ini = tmp_path / "config" / "kinto.ini"
    text = ini.read_text()
    assert "kinto.storage_backend = kinto.core.storage.sqlite" in text
    assert "# " in text
    assert oct(ini.stat().st_mode & 0o777) == "0o600"
    assert "kinto start --ini config/kinto.ini" in result.stdout


def test_init_turns_on_kintos_plugins_with_accounts_as_kintos_template(tmp_path):
    result = run_kinto("init", cwd=tmp_path)
    settings = read_ini(tmp_path / "config" / "kinto.ini").settings
    # Kinto's template's three, in its order; the admin once it exists here.
    admin = ["kinto.plugins.admin"] if importlib.util.find_spec("kinto.plugins.admin") else []
    assert settings["kinto.includes"].split() == ["kinto.plugins.default_bucket", *admin, "kinto.plugins.accounts"]
    assert settings["multiauth.policies"] == "account"
    assert settings["multiauth.policy.account.use"] == "kinto.plugins.accounts.AccountsPolicy"
    assert (settings["kinto.account_create_principals"], settings["kinto.account_write_principals"]) == (
        "system.Everyone",
        "account:admin",
    )
    assert settings["kinto.bucket_create_principals"] == "account:admin"
    assert len(settings["kinto.default_bucket_hmac_secret"]) == 64
    assert settings["kinto.default_bucket_hmac_secret"] != settings["kinto.userid_hmac_secret"]
    assert "kinto create-user --ini config/kinto.ini --username admin" in result.stdout
    # The other built-in plugins are offered, commented out.
    assert "#                kinto.plugins.flush" in (tmp_path / "config" / "kinto.ini").read_text()


def test_init_with_basic_auth_keeps_the_default_bucket_without_accounts(tmp_path):
    assert run_kinto("init", "--auth", "basicauth", cwd=tmp_path).returncode == 0
    settings = read_ini(tmp_path / "config" / "kinto.ini").settings
    admin = ["kinto.plugins.admin"] if importlib.util.find_spec("kinto.plugins.admin") else []
    assert settings["kinto.includes"].split() == ["kinto.plugins.default_bucket", *admin]
    assert settings["multiauth.policies"] == "basicauth"
    assert settings["kinto.bucket_create_principals"] == "system.Authenticated"


def test_init_refuses_to_overwrite(tmp_path):
    assert run_kinto("init", cwd=tmp_path).returncode == 0
    result = run_kinto("init", cwd=tmp_path)
    assert result.returncode == 1
    assert "already exists" in result.stderr


@pytest.mark.parametrize(
    ("backend", "module"), [("postgresql", "kinto.core.storage.postgresql"), ("memory", "kinto.core.storage.memory")]
)
def test_init_chooses_the_backend(tmp_path, backend, module):
    result = run_kinto("init", "--ini", "k.ini", "--backend", backend, "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "k.ini").read_text()
    assert f"kinto.storage_backend = {module}" in text
    assert "host = 0.0.0.0" in text


def test_an_unknown_backend_is_a_usage_error(tmp_path):
    result = run_kinto("init", "--backend", "mongodb", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_init_then_start_serves_and_keeps_data_across_restarts(tmp_path):
    assert run_kinto("init", "--auth", "basicauth", cwd=tmp_path).returncode == 0
    with LiveServer(ini="config/kinto.ini", cwd=tmp_path) as server:
        status, hello = request("GET", server.url + "/")
        assert (status, hello["project_name"], hello["http_api_version"]) == (200, "kinto", "1.23")
        assert request("PUT", server.url + "/buckets/kept", {"data": {"n": 1}})[0] == 201
    assert (tmp_path / "data" / "kinto.sqlite").exists()
    with LiveServer(ini="config/kinto.ini", cwd=tmp_path) as server:
        assert request("GET", server.url + "/buckets/kept")[1]["data"]["n"] == 1


def test_start_without_ini_serves_sqlite_in_the_data_folder(tmp_path):
    with LiveServer(cwd=tmp_path) as server:
        user = request("GET", server.url + "/")[1]["user"]["id"]
        request("PUT", server.url + "/buckets/b1", {"data": {}})
    assert sorted(path.name for path in (tmp_path / "data").iterdir() if not path.name.endswith(("-wal", "-shm"))) == [
        "cache.sqlite",
        "kinto.sqlite",
        "userid_hmac_secret",
    ]
    with LiveServer(cwd=tmp_path) as server:
        # The HMAC secret was kept: the same credentials are the same user, who still owns the bucket.
        assert request("GET", server.url + "/")[1]["user"]["id"] == user
        assert request("GET", server.url + "/buckets/b1")[0] == 200


def test_start_uses_config_kinto_ini_when_present(tmp_path):
    assert run_kinto("init", "--backend", "memory", cwd=tmp_path).returncode == 0
    with LiveServer(cwd=tmp_path) as server:
        request("GET", server.url + "/")
        assert "config/kinto.ini" in server.output
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("server_name", ["waitress", "gunicorn"])
def test_start_runs_the_other_wsgi_servers(tmp_path, server_name):
    with LiveServer(cwd=tmp_path, args=["--server", server_name, "--workers", "1"]) as server:
        assert request("GET", server.url + "/")[0] == 200


def test_start_runs_several_granian_workers(tmp_path):
    with LiveServer(cwd=tmp_path, args=["--workers", "2"]) as server:
        for index in range(6):
            assert request("PUT", f"{server.url}/buckets/b{index}", {"data": {}})[0] == 201
        assert len(request("GET", server.url + "/buckets")[1]["data"]) == 6


def test_start_reads_host_and_port_from_the_ini(tmp_path):
    port = free_port()
    run_kinto("init", "--backend", "memory", cwd=tmp_path)
    ini = tmp_path / "config" / "kinto.ini"
    ini.write_text(ini.read_text().replace("port = 8888", f"port = {port}"))
    server = LiveServer(cwd=tmp_path, port=port)
    server.command = [*server.command[:4], "--ini", "config/kinto.ini"]  # python -m kinto.server start, no --port
    with server:
        assert request("GET", f"http://127.0.0.1:{port}/v1/")[0] == 200


def test_start_with_reload_serves(tmp_path):
    with LiveServer(cwd=tmp_path, args=["--reload"]) as server:
        assert request("GET", server.url + "/")[0] == 200


def test_a_port_in_use_is_refused_clearly(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_kinto("start", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert f"port {port} is already in use" in result.stderr


def test_a_missing_ini_is_refused_clearly(tmp_path):
    result = run_kinto("start", "--ini", "nowhere.ini", cwd=tmp_path)
    assert result.returncode == 1
    assert "nowhere.ini: no such file" in result.stderr


# An [app:main] whose only problem is the one its case names: the secret is there.
APP_MAIN = "[app:main]\nkinto.userid_hmac_secret = 5f0c7a2e\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[app:main\nkinto.x = 1\n", "not a valid ini file"),
        ("[server:main]\nport = 1\n", "no [app:main] section"),
        (f"{APP_MAIN}kinto.storage_backend = no.such.module\n", "kinto.storage_backend = no.such.module"),
        ("[app:main]\nkinto.batch_max_requests = many\n", "batch_max_requests"),
        (f"{APP_MAIN}kinto.includes = no_such_plugin\n", "no_such_plugin"),
        (f"{APP_MAIN}multiauth.policies = ghost\n", "multiauth.policy.ghost.use"),
        ("[app:main]\nkinto.userid_hmac_secret =\n", "kinto.userid_hmac_secret"),
        ("[app:main]\nkinto.x = %(undefined)s\n", "undefined"),
    ],
)
def test_a_bad_ini_is_refused_with_a_message_naming_the_problem(tmp_path, content, expected):
    (tmp_path / "bad.ini").write_text(content)
    result = run_kinto("start", "--ini", "bad.ini", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_refused_quickly_and_clearly(tmp_path):
    (tmp_path / "pg.ini").write_text(
        textwrap.dedent(f"""\
        [app:main]
        kinto.storage_backend = kinto.core.storage.postgresql
        kinto.storage_url = postgresql://postgres:hunter2@127.0.0.1:{free_port()}/kinto
        """)
    )
    result = run_kinto("start", "--ini", "pg.ini", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot connect to the storage database" in result.stderr
    assert "hunter2" not in result.stderr


def test_an_ini_written_for_kinto_serves_unchanged(tmp_path):
    (tmp_path / "kinto.ini").write_text(
        textwrap.dedent("""\
        [server:main]
        use = egg:waitress#main
        host = 127.0.0.1
        port = %(http_port)s

        [app:main]
        use = egg:kinto
        kinto.storage_backend = kinto.core.storage.memory
        kinto.permission_backend = kinto.core.permission.memory
        kinto.cache_backend = kinto.core.cache.memory
        kinto.userid_hmac_secret = 4d1d8e1b
        multiauth.policies = basicauth
        kinto.experimental_permissions_endpoint = true

        [loggers]
        keys = root, kinto

        [handlers]
        keys = console

        [formatters]
        keys = color

        [logger_root]
        level = INFO
        handlers = console

        [logger_kinto]
        level = DEBUG
        handlers = console
        qualname = kinto
        propagate = 0

        [handler_console]
        class = kinto.core.StreamHandlerWithRequestID
        args = (sys.stderr,)
        level = NOTSET
        formatter = color

        [formatter_color]
        class = logging_color_formatter.ColorFormatter
        """)
    )
    with LiveServer(ini="kinto.ini", cwd=tmp_path) as server:
        assert request("PUT", server.url + "/buckets/b1", {"data": {}})[0] == 201
        assert "Ignoring the logging sections" in server.output


@pytest.fixture
def postgresql_ini(tmp_path):
    """An ini on a fresh database of its own (dropped and created again)."""
    url = postgresql_test_database("kinto_server_cli_test", fresh=True)
    assert (
        run_kinto("init", "--backend", "postgresql", "--auth", "basicauth", "--ini", "pg.ini", cwd=tmp_path).returncode
        == 0
    )
    ini = tmp_path / "pg.ini"
    ini.write_text(ini.read_text().replace("postgresql://postgres:postgres@localhost/postgres", url))
    return ini


def test_migrate_creates_the_postgresql_tables_then_start_serves(tmp_path, postgresql_ini):
    result = run_kinto("start", "--ini", str(postgresql_ini), "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 1
    assert "kinto migrate" in result.stderr
    dry = run_kinto("migrate", "--ini", str(postgresql_ini), "--dry-run", cwd=tmp_path)
    expected = "Dry run, nothing changed; would migrate: storage, permission, cache, collection indexes."
    assert (dry.returncode, dry.stdout.strip()) == (0, expected)
    result = run_kinto("migrate", "--ini", str(postgresql_ini), cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "Migrated: storage, permission, cache, collection indexes.",
    )
    assert run_kinto("migrate", "--ini", str(postgresql_ini), cwd=tmp_path).returncode == 0
    with LiveServer(ini=postgresql_ini, cwd=tmp_path) as server:
        assert request("PUT", server.url + "/buckets/b1", {"data": {}})[0] == 201


def test_purge_deleted_keeps_the_newest_tombstones(tmp_path):
    run_kinto("init", "--auth", "basicauth", cwd=tmp_path)
    with LiveServer(ini="config/kinto.ini", cwd=tmp_path) as server:
        request("PUT", server.url + "/buckets/b1", {"data": {}})
        request("PUT", server.url + "/buckets/b1/collections/c1", {"data": {}})
        for index in range(5):
            request("PUT", f"{server.url}/buckets/b1/collections/c1/records/r{index}", {"data": {}})
            request("DELETE", f"{server.url}/buckets/b1/collections/c1/records/r{index}")
    result = run_kinto("purge-deleted", "record", "2", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "3 tombstone(s) deleted (kept at most 2 per collection).")
    result = run_kinto("purge-deleted", "record", "collection", "0", cwd=tmp_path)
    assert result.stdout.startswith("2 tombstone(s) deleted")


def test_purge_deleted_drops_the_indexes_of_collections_gone(tmp_path):
    """A collection deleted while its indexes stayed (a process stopped before dropping them)."""
    import sqlite3
    import time

    run_kinto("init", "--auth", "basicauth", cwd=tmp_path)
    database = tmp_path / "data" / "kinto.sqlite"  # as kinto init writes it
    catalogue = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'kinto^_field^_%' ESCAPE '^'"
    with LiveServer(ini="config/kinto.ini", cwd=tmp_path) as server:
        request("PUT", server.url + "/buckets/b1", {"data": {}})
        request("PUT", server.url + "/buckets/b1/collections/c1", {"data": {"indexed_fields": ["age", "-age"]}})
        request("PUT", server.url + "/buckets/b1/collections/c2", {"data": {"indexed_fields": ["age"]}})
        deadline = time.monotonic() + 30
        while sqlite3.connect(database).execute(catalogue).fetchone()[0] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    from kinto.core.database.sqlite import SQLiteClient
    from kinto.core.storage.sqlite import Storage

    client = SQLiteClient(str(database))
    Storage(client).delete("collection", "/buckets/b1", "c1")  # no request: nothing drops its indexes
    client.close()
    assert sqlite3.connect(database).execute(catalogue).fetchone()[0] == 3
    assert run_kinto("purge-deleted", "collection", "0", cwd=tmp_path).returncode == 0
    assert sqlite3.connect(database).execute(catalogue).fetchone()[0] == 1


def test_purge_deleted_needs_a_count(tmp_path):
    assert run_kinto("purge-deleted", "record", cwd=tmp_path).returncode == 2


def test_flush_cache_empties_the_cache(tmp_path):
    result = run_kinto("flush-cache", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "Cache flushed.")


def test_quiet_commands_print_nothing(tmp_path):
    result = run_kinto("flush-cache", "-q", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")


def test_plugins_add_commands_through_entry_points(tmp_path):
    plugin = tmp_path / "plugin"
    (plugin / "kinto_hello_plugin-1.0.dist-info").mkdir(parents=True)
    (plugin / "kinto_hello_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: kinto-hello-plugin\nVersion: 1.0\n"
    )
    (plugin / "kinto_hello_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[kinto.commands]\nhello = kinto_hello_plugin:hello\nbroken = kinto_hello_plugin:missing\n"
    )
    (plugin / "kinto_hello_plugin.py").write_text(
        textwrap.dedent('''\
        def hello(env, args):
            """Greet someone, with the application loaded."""
            print(f"hello {args.name} from {env['settings']['project_name']}")
            return 3

        hello.add_arguments = lambda parser: parser.add_argument("--name", default="world")
        ''')
    )
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(plugin), os.environ.get("PYTHONPATH")]))}
    assert "Greet someone" in run_kinto("--help", cwd=tmp_path, env=env).stdout
    result = run_kinto("hello", "--name", "you", cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout.strip()) == (3, "hello you from kinto")
    broken = run_kinto("broken", cwd=tmp_path, env=env)
    assert broken.returncode == 1
    assert "the plugin command 'broken' cannot be loaded" in broken.stderr


def test_the_pastedeploy_factory_loads_an_ini_written_by_init(tmp_path):
    import webtest
    from paste.deploy import loadapp

    assert run_kinto("init", "--backend", "memory", cwd=tmp_path).returncode == 0
    app = webtest.TestApp(loadapp(f"config:{tmp_path / 'config' / 'kinto.ini'}"))
    assert app.get("/v1/").json["project_name"] == "kinto"


def test_the_request_summary_goes_through_kintos_logger_and_obeys_quiet(tmp_path):
    assert run_kinto("init", "--backend", "memory", cwd=tmp_path).returncode == 0
    ini = tmp_path / "config" / "kinto.ini"
    # An ini written for Kinto configures its summary lines under the logger name "request.summary".
    ini.write_text(
        ini.read_text().replace("keys = root, kinto\n", "keys = root, kinto, summary\n")
        + textwrap.dedent("""
        [logger_summary]
        level = INFO
        handlers = console
        qualname = request.summary
        propagate = 0
        """)
    )
    with LiveServer(cwd=tmp_path) as server:
        request("GET", server.url + "/")
        lines = [line for line in server.output.splitlines() if "request.summary" in line]
        assert any("GET /v1/ 200" in line for line in lines)
        assert all("rid=" in line and "time=" in line for line in lines)
    with LiveServer(cwd=tmp_path, args=["-q"]) as server:
        assert request("GET", server.url + "/")[0] == 200
        assert "request.summary" not in server.output
