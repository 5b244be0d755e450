"""Databases ``kinto migrate`` must refuse, saying what it found, and leave exactly as they were.

A Kinto storage schema numbered beyond the last one Kinto shipped (26), another application's
``records`` or ``metadata`` table, and our own schema at a version newer than this code's. (The
columns of one Kinto version under the number of another: test_every_kinto_schema.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from test_every_kinto_schema import _migrate

DATABASE = "kinto_migration_refused"


def _kinto_27(url: str, kinto_core: Path) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute((kinto_core / "storage/postgresql/schema.sql").read_text())
        connection.execute(
            "INSERT INTO objects (id, parent_id, resource_name, last_modified, data, deleted)"
            " VALUES ('b', '', 'bucket', now(), '{}', FALSE)"
        )
        connection.execute("UPDATE metadata SET value = '27' WHERE name = 'storage_schema_version'")


def _foreign_records(url: str, kinto_core: Path) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE records (id SERIAL PRIMARY KEY, title TEXT, created TIMESTAMP)")
        connection.execute("INSERT INTO records (title, created) VALUES ('a song', now())")


def _foreign_metadata(url: str, kinto_core: Path) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE metadata (id SERIAL PRIMARY KEY, key TEXT, data JSONB)")
        connection.execute("""INSERT INTO metadata (key, data) VALUES ('release', '{"v": 3}')""")


def _ours_newer(url: str, kinto_core: Path, tmp_path: Path) -> None:
    created = _migrate(tmp_path, url)
    assert created.returncode == 0, created.stderr
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("UPDATE metadata SET value = '99' WHERE name = 'storage_schema_version'")


def _snapshot(url: str) -> dict[str, Any]:
    """Every table's columns and rows."""
    with psycopg.connect(url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
            )
        ]
        return {
            table: (
                connection.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s ORDER BY 1",
                    (table,),
                ).fetchall(),
                sorted(map(str, connection.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))))),
            )
            for table in tables
        }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (_kinto_27, "Kinto's storage schema 27 is not one Kinto shipped (1 to 26)"),
        (
            _foreign_records,
            "tables records (created timestamp without time zone, id integer, title text)"
            " and no storage_schema_version row: neither this schema nor one Kinto shipped",
        ),
        (_foreign_metadata, "table metadata has columns (data jsonb, id integer, key text), not (name, value)"),
        (_ours_newer, "storage schema version 99 is newer than this code's"),
    ],
    ids=["kinto-27", "foreign-records", "foreign-metadata", "ours-newer"],
)
def test_an_unknown_schema_is_refused_and_left_untouched(
    build: Any, message: str, kinto_core: Path, tmp_path: Path
) -> None:
    from kinto.core.testing.postgresql import postgresql_test_database

    url = postgresql_test_database(DATABASE, fresh=True)
    if build is _ours_newer:
        build(url, kinto_core, tmp_path)
    else:
        build(url, kinto_core)
    before = _snapshot(url)

    for options in (["--dry-run"], []):
        result = _migrate(tmp_path, url, *options)
        assert result.returncode == 1, (options, result.stderr)
        assert message in result.stderr and "nothing was changed" in result.stderr, result.stderr
        assert "up to date" not in result.stderr
        assert _snapshot(url) == before
