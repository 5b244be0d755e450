"""A conversion of Kinto's storage interrupted in the middle, then finished by ``kinto migrate``.

A database of Kinto's storage schema (built by Kinto's own migration files, filled with objects
spanning tens of table pages and with tombstones) is cloned (``CREATE DATABASE ... TEMPLATE``):
the clone is converted in one go, the original through a conversion that stops at a chosen
point: the copy made to copy four pages per transaction and to fail after some of them, or the
last step failing before its commit. ``kinto migrate --dry-run`` then prints what remains and
writes nothing; ``kinto migrate`` finishes, and both databases hold the same objects, tombstones,
timestamps and collection timestamps, to the millisecond.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from test_every_kinto_schema import VERSION_1, _ini, _migrate

DATABASE = "kinto_migration_resume"
PAGES_PER_TRANSACTION = 4
#: Distinct per collection, with microseconds (Kinto's API rounded them to the millisecond).
STAMP = "TIMESTAMP '2024-05-01 10:00:00' + n * INTERVAL '1.337 ms'"


class Interrupted(RuntimeError):
    """Raised by the test hook where the conversion is made to stop."""


def _build(url: str, kinto_core: Path, version: int) -> None:
    """Kinto's storage schema ``version``, filled: 3 collections of 120 objects (~20 pages), tombstones."""
    folder = kinto_core / "storage/postgresql/migrations"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(VERSION_1)
        for step in range(1, version):
            connection.execute((folder / f"migration_{step:03d}_{step + 1:03d}.sql").read_text())
        table, resource = ("records", "collection_id") if version < 21 else ("objects", "resource_name")
        live = sql.SQL(STAMP)
        dead = sql.SQL(STAMP.replace("n *", "(n + 500) *"))
        for collection in ("c1", "c2", "c3"):
            parent = f"/buckets/b/collections/{collection}"
            connection.execute(
                sql.SQL(
                    "INSERT INTO {} (id, parent_id, {}, last_modified, data)"
                    " SELECT 'r' || n, %s, 'record', {}, jsonb_build_object('n', n, 'text', repeat('é', 200))"
                    " FROM generate_series(1, 120) AS n"
                ).format(sql.Identifier(table), sql.Identifier(resource), live),
                (parent,),
            )
            if version < 18:
                # Tombstones of other ids, and of r1..r5, which live again (the object wins).
                tombstones = sql.SQL(
                    "INSERT INTO deleted (id, parent_id, collection_id, last_modified)"
                    " SELECT CASE WHEN n <= 5 THEN 'r' || n ELSE 'gone' || n END, %s, 'record', {}"
                    " FROM generate_series(1, 200) AS n"
                )
            else:
                tombstones = sql.SQL(
                    "INSERT INTO objects (id, parent_id, resource_name, last_modified, data, deleted)"
                    " SELECT 'gone' || n, %s, 'record', {}, '{{\"deleted\": true}}', TRUE"
                    " FROM generate_series(1, 200) AS n"
                )
            connection.execute(tombstones.format(dead), (parent,))


def _clone(source: str, target_name: str) -> str:
    """A copy of the database at ``source``, dropped at the end of the run (nobody may be connected to it)."""
    from kinto.core.database.postgresql import normalize_url
    from kinto.core.testing.postgresql import postgresql_test_database, postgresql_test_server

    target = postgresql_test_database(target_name, fresh=True)  # registered to be dropped at exit
    with psycopg.connect(normalize_url(postgresql_test_server()), autocommit=True) as connection:
        names = [sql.Identifier(url.rsplit("/", 1)[1]) for url in (target, source)]
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(names[0]))
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(*names))
    return target


def _convert(url: str) -> None:
    """What ``kinto migrate`` runs for the storage, in this process (where the test hooks apply)."""
    from kinto.core.database.postgresql import PostgreSQLClient
    from kinto.core.storage.postgresql import Storage

    storage = Storage(PostgreSQLClient(url, pool_size=1))
    try:
        storage.initialize_schema()
    finally:
        storage.client.close()


def _dump(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as connection:
        return {
            "objects": connection.execute(
                "SELECT parent_id, resource_name, id, last_modified, deleted, data FROM objects ORDER BY 1, 2, 3"
            ).fetchall(),
            "timestamps": connection.execute("SELECT * FROM timestamps ORDER BY 1, 2").fetchall(),
            "version": connection.execute(
                "SELECT value FROM metadata WHERE name = 'storage_schema_version' OR name LIKE 'kinto_storage_%'"
            ).fetchall(),
            "kinto tables": connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kinto%'"
            ).fetchall(),
        }


def _stop_copy_after(transactions: int, step: str) -> Callable[..., Any]:
    from kinto.core.storage.postgresql import from_kinto

    original = from_kinto.copy_pages
    done = {"count": 0}

    def copy_pages(connection: Any, layout: Any, current: str, first_page: int, pages: int) -> int:
        if current == step:
            if done["count"] == transactions:
                raise Interrupted(f"stopped before page {first_page} of {current}")
            done["count"] += 1
        return original(connection, layout, current, first_page, pages)

    return copy_pages


def _fail_at_finish() -> Callable[..., Any]:
    from kinto.core.storage.postgresql import from_kinto

    original = from_kinto.finish

    def finish(*arguments: Any) -> None:
        original(*arguments)  # everything done, then the transaction fails before its commit
        raise Interrupted("stopped before the last step's commit")

    return finish


@pytest.mark.parametrize(
    ("version", "where", "remaining"),
    [
        (26, ("copy-objects", 2), "copy 960 objects from kinto_objects, from page 8"),
        (17, ("copy-objects", 3), "copy 360 objects from kinto_records, from page 12"),
        (17, ("copy-tombstones", 1), "copy 600 tombstones of the deleted table from kinto_deleted, from page 4"),
        (17, ("finish", 0), "check that every object arrived"),
    ],
    ids=["26-objects", "17-objects", "17-tombstones", "17-finish"],
)
def test_an_interrupted_conversion_is_finished_by_kinto_migrate_as_if_uninterrupted(
    version: int,
    where: tuple[str, int],
    remaining: str,
    kinto_core: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kinto.core.storage.postgresql import from_kinto, migration
    from kinto.core.storage.postgresql.schema import SCHEMA
    from kinto.core.testing.postgresql import postgresql_test_database

    url = postgresql_test_database(DATABASE, fresh=True)
    _build(url, kinto_core, version)
    reference = _clone(url, DATABASE + "_ref")
    _convert(reference)
    expected = _dump(reference)
    assert len(expected["objects"]) == 3 * (120 + 200 - (5 if version < 18 else 0))
    assert expected["kinto tables"] == [] and expected["version"] == [(str(SCHEMA.version),)]

    step, transactions = where
    with monkeypatch.context() as hooks:
        hooks.setattr(migration, "PAGES_PER_TRANSACTION", PAGES_PER_TRANSACTION)
        if step == "finish":
            hooks.setattr(from_kinto, "finish", _fail_at_finish())
        else:
            hooks.setattr(from_kinto, "copy_pages", _stop_copy_after(transactions, step))
        with pytest.raises(Interrupted):
            _convert(url)
    half = _dump(url)
    assert half["kinto tables"], "the interrupted conversion should have left Kinto's tables aside"

    plan = _migrate(tmp_path, url, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert f"a conversion from Kinto's storage schema {version} under way" in plan.stderr
    assert f"would {remaining}" in plan.stderr, plan.stderr
    assert _dump(url) == half  # the dry run wrote nothing

    finished = _migrate(tmp_path, url)
    assert finished.returncode == 0, finished.stderr
    assert f"Converted Kinto's storage schema {version}" in finished.stderr
    assert _dump(url) == expected


def test_a_kinto_migrate_killed_mid_copy_is_finished_by_the_next_one(kinto_core: Path, tmp_path: Path) -> None:
    """The real command, SIGKILLed in its second copy transaction (a copy of about 1,600 pages, 1,000 per transaction)."""
    from kinto.core.testing.postgresql import postgresql_test_database

    url = postgresql_test_database(DATABASE, fresh=True)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute((kinto_core / "storage/postgresql/schema.sql").read_text())  # Kinto's schema 26
        connection.execute(
            "INSERT INTO objects (id, parent_id, resource_name, last_modified, data, deleted)"
            f" SELECT 'r' || n, '/buckets/b/collections/big', 'record', {STAMP},"
            " jsonb_build_object('n', n, 'text', repeat('x', 1400)), n % 10 = 0"
            " FROM generate_series(1, 8000) AS n"
        )
    reference = _clone(url, DATABASE + "_ref")
    _convert(reference)
    expected = _dump(reference)

    command = [sys.executable, "-m", "kinto.server", "migrate", "--ini", str(_ini(tmp_path, url))]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "Copied Kinto's objects: page" in line:  # said after the first 1,000 pages' commit
                process.send_signal(signal.SIGKILL)
                break
        process.wait()
    assert process.returncode == -signal.SIGKILL, "".join(lines)
    half = _dump(url)
    assert half["kinto tables"] and 0 < len(half["objects"]) < len(expected["objects"])

    plan = _migrate(tmp_path, url, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "a conversion from Kinto's storage schema 26 under way" in plan.stderr
    assert "would copy 8,000 objects from kinto_objects, from page 1000," in plan.stderr, plan.stderr
    finished = _migrate(tmp_path, url)
    assert finished.returncode == 0, finished.stderr
    assert _dump(url) == expected
