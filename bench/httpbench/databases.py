"""A fresh backend per server and per run: a new PostgreSQL database, or a new SQLite folder.

PostgreSQL databases are created on the server of ``--postgresql-url`` (its database is only used
to issue ``CREATE DATABASE``) and dropped when the run ends, whatever happened.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BACKENDS = ("memory", "sqlite", "postgresql")
DEFAULT_POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Storage:
    """Where one server keeps its data: ``kind`` names kinto.core's storage, cache and permission modules."""

    kind: str
    url: str | None = None  # storage and permission
    cache_url: str | None = None  # when it differs from ``url``


#: How long a server may take to build the indexes a collection declares, and how often to look.
BUILD_TIMEOUT = 3600.0
BUILD_POLL_SECONDS = 0.1


def sqlite_path(storage: Storage) -> str:
    return str(storage.url).removeprefix("sqlite:///")


def built_indexes(storage: Storage) -> int:
    """How many declared indexes the database's catalogue holds, built and valid (0 in memory)."""
    from kinto.core.storage.indexes import NAME_PREFIX

    if storage.kind == "memory":
        return 0
    if storage.kind == "sqlite":
        with sqlite3.connect(sqlite_path(storage)) as connection:
            query = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND substr(name, 1, ?) = ?"
            return int(connection.execute(query, (len(NAME_PREFIX), NAME_PREFIX)).fetchone()[0])
    import psycopg

    query = (
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indisvalid AND starts_with(c.relname, %s)"
    )
    with psycopg.connect(storage.url) as connection:
        return int(connection.execute(query, (NAME_PREFIX,)).fetchone()[0])


def wait_for_indexes(storage: Storage, count: int) -> None:
    """Until the catalogue holds ``count`` declared indexes: our server builds them after answering."""
    deadline = time.monotonic() + BUILD_TIMEOUT
    while built_indexes(storage) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"the {count} declared index(es) were not built in {BUILD_TIMEOUT:g} s")
        time.sleep(BUILD_POLL_SECONDS)


def database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def postgresql_unreachable(admin_url: str) -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (kinto-core[postgresql])"
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.Error as error:
        return f"{admin_url} does not answer: {error}".strip()
    return None


def add_postgresql_argument(parser: argparse.ArgumentParser) -> None:
    """``--postgresql-url``: where the run creates its databases (``$KINTO_BENCH_POSTGRESQL_URL`` by default)."""
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("KINTO_BENCH_POSTGRESQL_URL", DEFAULT_POSTGRESQL_URL),
        help="server on which each run creates (then drops) its databases",
    )


def require_postgresql(admin_url: str) -> None:
    """Exit with the reason when the PostgreSQL server of ``--postgresql-url`` cannot be used."""
    unreachable = postgresql_unreachable(admin_url)
    if unreachable:
        raise SystemExit(f"PostgreSQL: {unreachable}")


class Databases:
    """Hands out one fresh storage per (backend, name); ``drop_all`` removes what it created."""

    def __init__(self, admin_url: str, folder: Path, run_id: str) -> None:
        self.admin_url = admin_url
        self.folder = folder
        self.run_id = re.sub(r"\W", "_", run_id)
        self.created: list[str] = []

    @property
    def prefix(self) -> str:
        """Every database of this run is named with this prefix."""
        return f"kinto_bench_{self.run_id}_"

    def storage(self, kind: str, name: str) -> Storage:
        if kind == "memory":
            return Storage("memory")
        if kind == "sqlite":
            # As `kinto init` lays it out: objects and permissions in one file, the cache in another.
            folder = self.folder / name
            folder.mkdir(parents=True, exist_ok=True)
            return Storage("sqlite", f"sqlite:///{folder / 'kinto.sqlite'}", f"sqlite:///{folder / 'cache.sqlite'}")
        suffix = re.sub(r"\W", "_", name)
        database = self.prefix + suffix
        self._execute(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        return Storage("postgresql", database_url(self.admin_url, database))

    def analyze(self, storage: Storage) -> None:
        """Gather the planner's statistics of a seeded database, as autovacuum would in a while.

        Right after seeding, the statistics (if any) describe an almost empty table: each server
        would be measured on plans chosen for data it no longer has, at the mercy of when
        autovacuum wakes up. Every server's database gets the same ANALYZE.
        """
        if storage.kind != "postgresql":
            return
        import psycopg

        with psycopg.connect(storage.url, autocommit=True) as connection:
            connection.execute("ANALYZE")

    def drop_all(self) -> None:
        while self.created:
            self._execute(f'DROP DATABASE IF EXISTS "{self.created.pop()}" WITH (FORCE)')

    def _execute(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(statement)
