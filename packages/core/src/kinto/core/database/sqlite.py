"""SQLite client: stdlib sqlite3, one connection per thread, WAL, per-context transactions.

One database file is safe to share between threads and processes: write
transactions start with ``BEGIN IMMEDIATE`` (they take the file's write lock
up front and wait up to ``timeout`` seconds for it), reads run concurrently
thanks to WAL. Within a process, writers queue on a lock before asking SQLite:
SQLite's own wait polls with growing sleeps, so a thread that kept losing the
race to another one waited hundreds of milliseconds for a lock that had been
free many times (the benchmark's write p99 was 100 times its median).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kinto.core.database import registry_clients
from kinto.core.database.client import SQLClient
from kinto.core.database.schema import read_version
from kinto.core.settings import client_setting, read_setting
from kinto.core.storage.exceptions import BackendError

__all__ = ["SQLiteClient", "client_from_config", "path_from_url"]

logger = logging.getLogger(__name__)

ConnectionHook = Callable[[sqlite3.Connection], None]


def path_from_url(url_or_path: str) -> str:
    """``sqlite:///relative.sqlite`` -> ``relative.sqlite``; ``sqlite:////abs.sqlite`` -> ``/abs.sqlite``;
    a plain path is returned unchanged."""
    for scheme in ("sqlite:///", "sqlite://"):
        if url_or_path.startswith(scheme):
            return url_or_path[len(scheme) :]
    return url_or_path


class SQLiteClient(SQLClient):
    """Connections to one SQLite file (one per thread and process) and the current transaction."""

    driver_error = sqlite3.Error
    context_name = "kinto_sqlite_transaction"

    def __init__(self, url_or_path: str, *, timeout: float = 30.0) -> None:
        super().__init__()
        self.path = path_from_url(url_or_path)
        if self.path in ("", ":memory:"):
            raise ValueError("SQLite backends need a file path (several connections must see one database)")
        self.timeout = timeout
        self._local = threading.local()
        self._hooks: list[ConnectionHook] = []
        self._all_connections: list[sqlite3.Connection] = []
        #: Connections in a session now, and those of them ``close()`` left to close at its end.
        self._busy: set[sqlite3.Connection] = set()
        self._retiring: set[sqlite3.Connection] = set()
        self._lock = threading.Lock()
        self._writer = threading.Lock()
        self._writer_pid = os.getpid()

    def __repr__(self) -> str:
        return f"<SQLiteClient {self.path}>"

    def add_connection_hook(self, hook: ConnectionHook) -> None:
        """Run ``hook(connection)`` on every connection (e.g. to register SQL functions)."""
        with self._lock:
            if hook not in self._hooks:
                self._hooks.append(hook)

    def _open(self) -> sqlite3.Connection:
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        # WAL lets readers run while one writer writes; NORMAL sync is durable
        # across application crashes (not power loss), the usual WAL choice.
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        with self._lock:
            self._all_connections.append(connection)
        return connection

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        # A forked child must not reuse its parent's connection.
        if getattr(local, "pid", None) != os.getpid():
            local.connection = None
            local.hooks_applied = 0
            local.pid = os.getpid()
        if local.connection is None:
            try:
                local.connection = self._open()
            except sqlite3.Error as error:
                raise BackendError(error, f"SQLite database {self.path} unavailable: {error}") from error
        while local.hooks_applied < len(self._hooks):
            self._hooks[local.hooks_applied](local.connection)
            local.hooks_applied += 1
        return local.connection

    @contextmanager
    def _writing(self, write: bool) -> Iterator[None]:
        """Hold this process's writer lock around a write transaction (nothing for reads)."""
        if not write:
            yield
            return
        if self._writer_pid != os.getpid():  # a forked child starts with a lock of its own
            self._writer, self._writer_pid = threading.Lock(), os.getpid()
        writer = self._writer
        if not writer.acquire(timeout=self.timeout):
            raise BackendError(message=f"SQLite database {self.path} is locked: no write slot in {self.timeout:g}s")
        try:
            yield
        finally:
            writer.release()

    @contextmanager
    def _session(self, write: bool) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        with self._lock:
            self._busy.add(connection)
        try:
            with self._writing(write):
                try:
                    connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                except sqlite3.Error as error:
                    raise BackendError(error) from error
                yield connection
        finally:
            with self._lock:
                self._busy.discard(connection)
                retiring = connection in self._retiring
                self._retiring.discard(connection)
            if retiring:
                connection.close()

    @staticmethod
    def _end(connection: sqlite3.Connection, commit: bool) -> None:
        if not connection.in_transaction:
            return
        try:
            connection.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error as error:
            if not commit:
                logger.warning("Rollback failed", exc_info=True)
                return
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise BackendError(error) from error

    # --- the schema's version (see kinto.core.database.schema) ------------------------------------

    def schema_version(self, connection: sqlite3.Connection, key: str) -> int:
        """The version in the ``metadata`` row ``key`` (0: none); ValueError when unreadable."""
        exists = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metadata'").fetchone()
        if exists is None:
            return 0
        rows = connection.execute("SELECT value FROM metadata WHERE name = ?", (key,)).fetchall()
        return read_version(key, [str(value) for (value,) in rows])

    def record_schema_version(self, connection: sqlite3.Connection, key: str, version: int) -> None:
        connection.execute("CREATE TABLE IF NOT EXISTS metadata (name TEXT NOT NULL, value TEXT NOT NULL)")
        connection.execute("DELETE FROM metadata WHERE name = ?", (key,))
        connection.execute("INSERT INTO metadata (name, value) VALUES (?, ?)", (key, str(version)))

    def lock_schema(self, connection: sqlite3.Connection, name: str) -> None:
        """Nothing to do: a write transaction holds the file's write lock from its start."""

    def close(self) -> None:
        """Close every connection opened by this client (in this process).

        A connection another thread is using (a request, a background index build) is closed
        by that thread when its session ends: closing it under a running statement crashed
        the process. Threads open new connections afterwards.
        """
        with self._lock:
            connections, self._all_connections = self._all_connections, []
            self._retiring.update(connection for connection in connections if connection in self._busy)
            connections = [connection for connection in connections if connection not in self._busy]
        for connection in connections:
            try:
                connection.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()


def client_from_config(config: Any, prefix: str) -> SQLiteClient:
    """The client for ``settings[prefix + "_url"]`` (a ``sqlite:///`` URL or a path), shared per file.

    Reads ``{prefix}_url`` and ``{prefix}_pool_timeout`` (seconds to wait for the write lock).
    """
    settings = config.get_settings()
    url = read_setting(settings, f"{prefix}_url")
    if not url:
        raise ValueError(f"Setting kinto.{prefix}_url is required for a SQLite backend")
    path = os.path.abspath(path_from_url(str(url)))
    clients = registry_clients(config)
    key = ("sqlite", path)
    client = clients.get(key)
    if client is None:
        client = SQLiteClient(path, timeout=client_setting(settings, prefix, "pool_timeout"))
        clients[key] = client
    return client
