"""Every storage schema Kinto shipped (1 to 26), built by Kinto's own migration files, converted by ``kinto migrate``.

Version 1 is Cliquet's first tables (written here: Kinto's package ships migrations from 1 on, not
that schema); every later version is reached by running Kinto 26.5.0's ``migration_NNN_MMM.sql``
files, from the venv the benchmark builds. At each version, objects and tombstones are written
with plain SQL into Kinto's tables of that version; what Kinto's ``as_epoch`` shows for them is
recorded; after the conversion our storage must list the same objects, tombstones and
collection timestamps. A database whose metadata and columns disagree is refused, untouched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from test_from_kinto import SECRET

DATABASE = "kinto_migration_versions_test"

# Cliquet's first storage tables (schema 1), as Kinto's migration 1 to 2 expects to find them.
VERSION_1 = """
CREATE TABLE metadata (name VARCHAR(128) NOT NULL, value VARCHAR(512) NOT NULL);
INSERT INTO metadata (name, value) VALUES ('created_at', NOW()::TEXT);
CREATE FUNCTION as_epoch(ts TIMESTAMP) RETURNS BIGINT AS $$
BEGIN RETURN (EXTRACT(EPOCH FROM ts) * 1000)::BIGINT; END;
$$ LANGUAGE plpgsql IMMUTABLE;
CREATE TABLE records (
    id UUID NOT NULL, user_id VARCHAR(256) NOT NULL, resource_name VARCHAR(256) NOT NULL,
    last_modified TIMESTAMP NOT NULL, data JSON NOT NULL DEFAULT '{}',
    UNIQUE (id, user_id, resource_name, last_modified)
);
CREATE TABLE deleted (
    id UUID, user_id VARCHAR(256) NOT NULL, resource_name VARCHAR(256) NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    UNIQUE (id, user_id, resource_name, last_modified)
);
CREATE FUNCTION resource_timestamp(uid VARCHAR, resource VARCHAR) RETURNS TIMESTAMP AS $$
BEGIN RETURN localtimestamp; END;
$$ LANGUAGE plpgsql;
"""

IDS = [
    "6d1b7bd4-5b43-4c8e-9d2b-5a0e6f1f0a01",
    "6d1b7bd4-5b43-4c8e-9d2b-5a0e6f1f0a02",
    "6d1b7bd4-5b43-4c8e-9d2b-5a0e6f1f0a03",
    "6d1b7bd4-5b43-4c8e-9d2b-5a0e6f1f0a04",
]
PARENT = "/buckets/b/collections/c"


@pytest.fixture(scope="module")
def migrations_folder(kinto_core: Path) -> Path:
    return kinto_core / "storage/postgresql/migrations"


def _columns(version: int) -> tuple[str, str, str]:
    """Kinto's table of objects and its parent and resource columns at ``version``."""
    table = "records" if version < 21 else "objects"
    parent = "user_id" if version < 7 else "parent_id"
    resource = "collection_id" if 7 <= version < 21 else "resource_name"
    return table, parent, resource


def _build(url: str, folder: Path, version: int) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(VERSION_1)
        for step in range(1, version):
            connection.execute((folder / f"migration_{step:03d}_{step + 1:03d}.sql").read_text())


def _fill(url: str, version: int) -> tuple[list[tuple[Any, ...]], int]:
    """Objects and tombstones written into Kinto's tables; what Kinto showed: rows and collection timestamp."""
    table, parent, resource = _columns(version)
    with psycopg.connect(url, autocommit=True) as connection:
        for number, object_id in enumerate(IDS[:3]):
            connection.execute(
                sql.SQL("INSERT INTO {} (id, {}, {}, last_modified, data) VALUES (%s, %s, 'record', now(), %s)").format(
                    sql.Identifier(table), sql.Identifier(parent), sql.Identifier(resource)
                ),
                (object_id, PARENT, f'{{"n": {number}, "text": "é \\" ü"}}'),
            )
        if version < 18:
            connection.execute(
                sql.SQL("INSERT INTO deleted (id, {}, {}, last_modified) VALUES (%s, %s, 'record', now())").format(
                    sql.Identifier(parent), sql.Identifier(resource)
                ),
                (IDS[3], PARENT),
            )
            tombstones = sql.SQL("SELECT id::text, as_epoch(last_modified), TRUE, NULL FROM deleted")
            live = sql.SQL("SELECT id::text, as_epoch(last_modified), FALSE, data::jsonb FROM records")
        else:
            connection.execute(
                sql.SQL(
                    "INSERT INTO {} (id, {}, {}, last_modified, data, deleted)"
                    " VALUES (%s, %s, 'record', now(), '{{\"deleted\": true}}', TRUE)"
                ).format(sql.Identifier(table), sql.Identifier(parent), sql.Identifier(resource)),
                (IDS[3], PARENT),
            )
            tombstones = sql.SQL("SELECT id::text, as_epoch(last_modified), TRUE, NULL FROM {} WHERE deleted").format(
                sql.Identifier(table)
            )
            live = sql.SQL(
                "SELECT id::text, as_epoch(last_modified), FALSE, data::jsonb FROM {} WHERE NOT deleted"
            ).format(sql.Identifier(table))
        rows = connection.execute(sql.SQL("{} UNION ALL {} ORDER BY 1").format(live, tombstones)).fetchall()
        stamp = max(row[1] for row in rows)
        if version >= 10:
            recorded = connection.execute("SELECT max(as_epoch(last_modified)) FROM timestamps").fetchone()[0]
            stamp = max(stamp, recorded if recorded is not None else stamp)
    return rows, stamp


def _storage(url: str) -> Any:
    from kinto.core.database.postgresql import PostgreSQLClient
    from kinto.core.storage.postgresql import Storage

    return Storage(PostgreSQLClient(url, pool_size=1))


def _ini(tmp_path: Path, url: str) -> Path:
    """An ini with the three PostgreSQL backends on ``url``."""
    ini = tmp_path / "kinto.ini"
    ini.write_text(
        "[app:main]\n"
        + "".join(
            f"kinto.{kind}_backend = kinto.core.{kind}.postgresql\nkinto.{kind}_url = {url}\n"
            for kind in ("storage", "permission", "cache")
        )
        + f"kinto.userid_hmac_secret = {SECRET}\n"
    )
    return ini


def _migrate(tmp_path: Path, url: str, *options: str) -> subprocess.CompletedProcess[str]:
    ini = _ini(tmp_path, url)
    return subprocess.run(
        [sys.executable, "-m", "kinto.server", "migrate", "--ini", str(ini), *options],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("version", range(1, 27))
def test_every_kinto_storage_schema_is_converted_with_its_timestamps(version: int, migrations_folder: Path) -> None:
    from kinto.core.testing.postgresql import postgresql_test_database

    url = postgresql_test_database(DATABASE, fresh=True)
    _build(url, migrations_folder, version)
    rows, collection_timestamp = _fill(url, version)

    storage = _storage(url)
    try:
        assert f"Kinto's storage schema {version}" in storage.schema_mismatch()
        storage.initialize_schema()  # what kinto migrate runs (the CLI itself: test_from_kinto)
        assert storage.schema_mismatch() is None
        listed = storage.list_all("record", PARENT, include_deleted=True)
        assert storage.resource_timestamp("record", PARENT) == collection_timestamp
    finally:
        storage.client.close()
    converted = sorted(
        (
            item["id"],
            item["last_modified"],
            bool(item.get("deleted")),
            None if item.get("deleted") else {k: v for k, v in item.items() if k not in ("id", "last_modified")},
        )
        for item in listed
    )
    assert converted == [tuple(row) for row in rows]


def test_a_database_whose_columns_disagree_with_its_metadata_is_refused_untouched(
    migrations_folder: Path, tmp_path: Path
) -> None:
    from kinto.core.testing.postgresql import postgresql_test_database

    url = postgresql_test_database(DATABASE, fresh=True)
    _build(url, migrations_folder, 26)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("INSERT INTO metadata (name, value) VALUES ('storage_schema_version', '17')")
        connection.execute("DELETE FROM metadata WHERE name = 'storage_schema_version' AND value <> '17'")
    result = _migrate(tmp_path, url)
    assert result.returncode == 1
    assert "Kinto's storage schema 17" in result.stderr and "nothing was changed" in result.stderr
    with psycopg.connect(url) as connection:
        kind = connection.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'objects' AND column_name = 'last_modified'"
        ).fetchone()[0]
    assert kind == "timestamp without time zone"
