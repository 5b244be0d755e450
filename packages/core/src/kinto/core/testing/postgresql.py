"""PostgreSQL databases for tests, private to one test run.

Two test runs on one PostgreSQL server (two developers' shells, two nox sessions, CI beside a
developer) must never share tables: one run's flush would empty the other's. So a suite never
uses a fixed database name, nor the database of ``KINTO_TEST_POSTGRESQL_URL`` itself; it asks for
a database by name and gets ``<name>_<run id>``::

    from kinto.core.testing.postgresql import postgresql_test_database

    url = postgresql_test_database("myplugin_tests")  # postgresql://.../myplugin_tests_3fa9c2d1

* **The server** is ``KINTO_TEST_POSTGRESQL_URL``. Set, it must answer: a test asking for a
  database fails otherwise. Unset, ``postgresql://postgres@127.0.0.1:5432/postgres`` is tried
  and the test is skipped, saying why, when nothing answers there. The URL's own database is
  only where ``CREATE DATABASE`` and ``DROP DATABASE`` are sent from; no test writes to it.
* **The run id** is random per process, unless ``KINTO_TEST_RUN_ID`` is set (lowercase
  letters, digits, underscores): processes given the same id share their databases, e.g. a
  ``pytest`` started by a test, or pytest-xdist workers that must see the same data. By default
  each process, hence each xdist worker and each nox session, has databases of its own.
* **Lifetime**: a database is created on first use (``fresh=True``: dropped and created again)
  and dropped when the process that created it exits (``DROP DATABASE ... WITH (FORCE)``, which
  also closes the connections of servers the tests started). A process only drops databases it
  created: to share one with a subprocess, create it first, then pass ``run_id()`` down as
  ``KINTO_TEST_RUN_ID``.
* **Leftovers**: a run killed before it could exit (SIGKILL, a power cut) leaves its databases
  behind. Each one carries the comment ``kinto test run <id>``; when no test run is active, this
  drops them all::

      psql "$URL" -Atc "SELECT format('DROP DATABASE %I WITH (FORCE);', datname) FROM pg_database
                        WHERE shobj_description(oid, 'pg_database') LIKE 'kinto test run %'" | psql "$URL"
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import sys
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import pytest

__all__ = [
    "DEFAULT_SERVER_URL",
    "RUN_ID_VARIABLE",
    "SERVER_VARIABLE",
    "drop_run_databases",
    "postgresql_test_database",
    "postgresql_test_server",
    "postgresql_test_url",
    "run_id",
]

#: The variable naming the test server; set, the PostgreSQL tests must run.
SERVER_VARIABLE = "KINTO_TEST_POSTGRESQL_URL"
#: The variable that makes processes share their databases (see the module docstring).
RUN_ID_VARIABLE = "KINTO_TEST_RUN_ID"
#: Tried when ``KINTO_TEST_POSTGRESQL_URL`` is unset.
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The database name :func:`postgresql_test_url` gives a run.
DEFAULT_DATABASE = "kinto_tests"
#: The comment on every database made here, the mark the cleanup one-liner looks for.
COMMENT_PREFIX = "kinto test run "

_RUN_ID_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
_MAX_IDENTIFIER_BYTES = 63  # PostgreSQL cuts longer names silently: two names could become one


@dataclass
class _RunDatabases:
    """What this process knows of its run: its id, the databases that exist, the ones it must drop."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    run_id: str | None = None
    reachable: set[str] = field(default_factory=set)
    existing: set[tuple[str, str]] = field(default_factory=set)
    created: dict[tuple[str, str], int] = field(default_factory=dict)  # (server, name) -> creator's pid
    drop_registered: bool = False


# A process-wide registry by nature: the databases are dropped when the process exits.
_RUN = _RunDatabases()


def run_id() -> str:
    """This process's run id: ``KINTO_TEST_RUN_ID`` when set, else random (drawn once per process)."""
    given = os.environ.get(RUN_ID_VARIABLE, "").strip()
    if given:
        if not _RUN_ID_PATTERN.match(given):
            raise ValueError(f"{RUN_ID_VARIABLE}={given!r}: use 1 to 32 lowercase letters, digits or underscores")
        return given
    with _RUN.lock:
        if _RUN.run_id is None:
            _RUN.run_id = secrets.token_hex(4)
        return _RUN.run_id


def postgresql_test_server(default: str = DEFAULT_SERVER_URL) -> str:
    """The test server's URL (its path names the database administrative commands go to).

    ``KINTO_TEST_POSTGRESQL_URL`` set: that server MUST answer (``pytest.fail`` otherwise).
    Unset: ``default`` is tried, and ``pytest.skip`` says why when nothing answers there.
    """
    url = os.environ.get(SERVER_VARIABLE)
    required = bool(url)
    url = url or default
    if url in _RUN.reachable:
        return url
    try:
        import psycopg
    except ImportError:
        if required:
            pytest.fail(f"{SERVER_VARIABLE} is set but psycopg is not installed")
        pytest.skip("PostgreSQL tests need psycopg (pip install 'kinto-core[postgresql]')")
    from kinto.core.database.postgresql import mask_password, normalize_url

    try:
        with psycopg.connect(normalize_url(url), connect_timeout=2):
            pass
    except psycopg.Error as error:
        if required:
            pytest.fail(f"{SERVER_VARIABLE}={mask_password(url)} is set but unreachable: {error}")
        pytest.skip(f"no PostgreSQL server answers at {mask_password(url)} (set {SERVER_VARIABLE} to require one)")
    _RUN.reachable.add(url)
    return url


def postgresql_test_database(name: str, default: str = DEFAULT_SERVER_URL, fresh: bool = False) -> str:
    """The URL of this run's database ``<name>_<run id>`` on the test server, created on first use.

    ``fresh``: dropped (its sessions closed) and created again, so the caller starts empty. The
    process that creates the database drops it when it exits. ``default``: the server to try when
    ``KINTO_TEST_POSTGRESQL_URL`` is unset (see :func:`postgresql_test_server`).
    """
    run = run_id()
    database = f"{name}_{run}"
    if len(database.encode()) > _MAX_IDENTIFIER_BYTES:
        raise ValueError(f"database name {database!r} is longer than PostgreSQL's {_MAX_IDENTIFIER_BYTES} bytes")
    server = postgresql_test_server(default=default)  # fails or skips when unusable
    key = (server, database)
    with _RUN.lock:
        if fresh or key not in _RUN.existing:
            if _create(server, database, run, fresh=fresh):
                _RUN.created[key] = os.getpid()
                if not _RUN.drop_registered:
                    atexit.register(drop_run_databases)
                    _RUN.drop_registered = True
            _RUN.existing.add(key)
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def postgresql_test_url(default: str = DEFAULT_SERVER_URL) -> str:
    """This run's general-purpose test database, ``kinto_tests_<run id>`` (never the server URL's own)."""
    return postgresql_test_database(DEFAULT_DATABASE, default=default)


def drop_run_databases() -> list[str]:
    """Drop the databases this process created; their names. Runs by itself when the process exits."""
    import psycopg
    from psycopg import sql

    from kinto.core.database.postgresql import normalize_url

    with _RUN.lock:
        # A forked child inherits the list: only the creating process drops.
        mine = [key for key, pid in _RUN.created.items() if pid == os.getpid()]
        dropped = []
        for server, database in mine:
            try:
                with psycopg.connect(normalize_url(server), connect_timeout=5, autocommit=True) as connection:
                    connection.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
                    )
            except psycopg.Error as error:
                print(f"kinto.core.testing: could not drop test database {database}: {error}", file=sys.stderr)
                continue
            del _RUN.created[(server, database)]
            _RUN.existing.discard((server, database))
            dropped.append(database)
        return dropped


def _create(server: str, database: str, run: str, fresh: bool) -> bool:
    """Create ``database`` (first dropping it when ``fresh``); whether this call created it."""
    import psycopg
    from psycopg import sql

    from kinto.core.database.postgresql import normalize_url

    identifier = sql.Identifier(database)
    with psycopg.connect(normalize_url(server), connect_timeout=5, autocommit=True) as connection:
        if fresh:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        try:
            # template0: nobody connects to it, whereas CREATE DATABASE from template1 fails while
            # any other session (another run creating its databases) is connected there.
            connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(identifier))
        except psycopg.errors.DuplicateDatabase:
            return False  # another process of this run (same KINTO_TEST_RUN_ID) made it first
        comment = sql.Literal(f"{COMMENT_PREFIX}{run}, pid {os.getpid()}")
        connection.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(identifier, comment))
    return True
