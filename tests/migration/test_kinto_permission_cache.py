"""Kinto's permission and cache tables, built by Kinto's own SQL files, converted by ``kinto migrate``.

Permission schema: Kinto 26.5.0's ``schema.sql`` creates version 2 (our version 2 less the
``idx_user_principals_principal`` index); version 1 is the same file before Kinto versioned it
(no ``permission_schema_version`` row, no ``COLLATE "C"``), and ``migration_001_002.sql`` takes
it to 2. Cache: Kinto's ``cache`` table has had one shape since Cliquet renamed its ``session``
table in 2015 (``key VARCHAR(256)``, ``value TEXT``, ``ttl TIMESTAMP``, written through
``sec2ttl``), never versioned; entries written before Kinto made TTLs mandatory have a NULL
``ttl``, which Kinto 26.5.0 never returns.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from test_every_kinto_schema import _migrate

if TYPE_CHECKING:
    from kinto.core.permission.postgresql import Permission

DATABASE = "kinto_migration_permcache"

PRINCIPALS = [
    ("basicauth:5f0c", "/buckets/b/groups/friends"),
    ("basicauth:5f0c", "system.Everyone"),
    ("basicauth:77aa", "/buckets/b/groups/friends"),
    ("account:admin", "/buckets/other/groups/é"),
]
ACES = [
    ("/buckets/b", "write", "basicauth:5f0c"),
    ("/buckets/b", "read", "system.Authenticated"),
    ("/buckets/b/collections/c", "record:create", "/buckets/b/groups/friends"),
    ("/buckets/b/collections/c/records/r1", "read", "system.Everyone"),
    ("/buckets/b/collections/c/records/r1", "write", "basicauth:77aa"),
    ("/buckets/B/collections/Zé", "read", "account:admin"),
]


def _permission_schema_1(kinto_core: Path) -> str:
    """Kinto's permission schema before it was versioned: today's file less the collation and the version row."""
    text = (kinto_core / "permission/postgresql/schema.sql").read_text()
    text = text.replace(' COLLATE "C"', "")
    versionless = re.sub(r"INSERT INTO metadata VALUES \('permission_schema_version', '2'\);", "", text)
    assert versionless != text and "COLLATE" not in versionless
    return versionless


def _permission_sql(kinto_core: Path, how: str) -> list[str]:
    folder = kinto_core / "permission/postgresql"
    if how == "1":
        return [_permission_schema_1(kinto_core)]
    if how == "2":
        return [(folder / "schema.sql").read_text()]
    return [_permission_schema_1(kinto_core), (folder / "migrations/migration_001_002.sql").read_text()]


def _database() -> str:
    from kinto.core.testing.postgresql import postgresql_test_database

    return postgresql_test_database(DATABASE, fresh=True)


def _permission(url: str) -> Permission:
    from kinto.core.database.postgresql import PostgreSQLClient
    from kinto.core.permission.postgresql import Permission

    return Permission(PostgreSQLClient(url, pool_size=1))


@pytest.mark.parametrize("how", ["1", "2", "1 then migration_001_002"])
def test_kinto_permission_schema_is_converted_with_every_entry(how: str, kinto_core: Path, tmp_path: Path) -> None:
    url = _database()
    with psycopg.connect(url, autocommit=True) as connection:
        for script in _permission_sql(kinto_core, how):
            connection.execute(script)
        # As Kinto writes them (its add_user_principal and add_principal_to_ace).
        for user_id, principal in PRINCIPALS:
            connection.execute("INSERT INTO user_principals (user_id, principal) VALUES (%s, %s)", (user_id, principal))
        for object_id, permission, principal in ACES:
            connection.execute(
                "INSERT INTO access_control_entries (object_id, permission, principal) VALUES (%s, %s, %s)",
                (object_id, permission, principal),
            )

    version = "1" if how == "1" else "2"
    backend = _permission(url)
    try:
        assert f"Kinto's permission schema {version}" in backend.schema_mismatch()
        backend.initialize_schema(dry_run=True)  # what kinto migrate --dry-run runs: nothing written
        assert f"Kinto's permission schema {version}" in backend.schema_mismatch()
    finally:
        backend.client.close()

    result = _migrate(tmp_path, url)
    assert result.returncode == 0, result.stderr
    assert f"Permission: the database holds Kinto's permission schema {version}" in result.stderr

    backend = _permission(url)
    try:
        assert backend.schema_mismatch() is None
        assert sorted(backend.export_user_principals()) == sorted(PRINCIPALS)
        assert sorted(backend.export_access_control_entries()) == sorted(ACES)
        assert backend.get_user_principals("basicauth:5f0c") == {"/buckets/b/groups/friends", "system.Everyone"}
        assert backend.get_object_permission_principals("/buckets/b/collections/c/records/r1", "write") == {
            "basicauth:77aa"
        }
        # Prefix listings rely on the "C" collation the conversion gives the ids.
        assert backend.get_accessible_objects(["basicauth:5f0c", "system.Authenticated"]) == {
            "/buckets/b": {"write", "read"}
        }
    finally:
        backend.client.close()
    with psycopg.connect(url) as connection:
        collations = connection.execute(
            "SELECT table_name, collation_name FROM information_schema.columns"
            " WHERE column_name IN ('user_id', 'object_id') ORDER BY 1"
        ).fetchall()
        assert collations == [("access_control_entries", "C"), ("user_principals", "C")]
        assert connection.execute("SELECT to_regclass('idx_user_principals_principal')").fetchone()[0] is not None


def test_kinto_cache_table_keeps_unexpired_entries_with_their_ttls(kinto_core: Path, tmp_path: Path) -> None:
    url = _database()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute((kinto_core / "cache/postgresql/schema.sql").read_text())
        # As Kinto's Cache.set writes them: the JSON text, the expiry from sec2ttl.
        for key, value, seconds in [
            ("fxa:token1", '{"user": "a", "scope": ["profile"]}', 3600),
            ("openid:state", '"xyz"', 600.5),
            ("accounts:cache", '["é", 1, null]', 86400 * 30),
            ("expired:one", '"gone"', -5),
            ("expired:two", "1", -86400),
        ]:
            connection.execute(
                "INSERT INTO cache (key, value, ttl) VALUES (%s, %s, sec2ttl(%s))", (key, value, seconds)
            )
        # Written by a Kinto of before 2017 (TTLs optional): Kinto 26.5.0 never returns it.
        connection.execute("INSERT INTO cache (key, value, ttl) VALUES ('no-ttl', '\"old\"', NULL)")
    written = time.time()

    from kinto.core.cache.postgresql import Cache
    from kinto.core.database.postgresql import PostgreSQLClient

    cache = Cache(PostgreSQLClient(url, pool_size=1))
    try:
        assert "Kinto's cache table" in cache.schema_mismatch()
        cache.initialize_schema(dry_run=True)  # what kinto migrate --dry-run runs: nothing written
        assert "Kinto's cache table" in cache.schema_mismatch()
    finally:
        cache.client.close()
    result = _migrate(tmp_path, url)
    assert result.returncode == 0, result.stderr

    cache = Cache(PostgreSQLClient(url, pool_size=1))
    try:
        assert cache.schema_mismatch() is None
        assert cache.get("fxa:token1") == {"user": "a", "scope": ["profile"]}
        assert cache.get("openid:state") == "xyz"
        assert cache.get("accounts:cache") == ["é", 1, None]
        elapsed = time.time() - written
        for key, seconds in [("fxa:token1", 3600), ("openid:state", 600.5), ("accounts:cache", 86400 * 30)]:
            assert seconds - elapsed - 1 <= cache.ttl(key) <= seconds, key
        for key in ("expired:one", "expired:two", "no-ttl"):
            assert cache.get(key) is None and cache.ttl(key) == -1
    finally:
        cache.client.close()
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT to_regclass('cache')").fetchone()[0] is None
        assert connection.execute("SELECT count(*) FROM cache_entries").fetchone()[0] == 3


def test_a_foreign_cache_table_is_left_untouched(tmp_path: Path) -> None:
    url = _database()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE cache (key TEXT PRIMARY KEY, value BYTEA, expires INTEGER)")
        connection.execute("INSERT INTO cache VALUES ('mine', 'x', 1)")
    result = _migrate(tmp_path, url)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT key, value, expires FROM cache").fetchall() == [("mine", b"x", 1)]
