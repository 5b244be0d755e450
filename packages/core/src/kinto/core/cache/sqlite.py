"""The SQLite cache: one table of a SQLite file, safe with several processes.

Each row holds the JSON text of a value and its absolute expiry (seconds
since the epoch, ``NULL`` for none). Reads ignore expired rows; writes delete
them now and then. Settings: ``cache_url`` (``sqlite:///path`` or a path),
``cache_prefix``, ``cache_pool_timeout``. ``cache_max_size_bytes`` is not
enforced by this backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from kinto.core.cache.encoding import check_key, decode, encode, expiry
from kinto.core.cache.relational import RelationalCache, cache_schema
from kinto.core.database.sqlite import SQLiteClient, client_from_config
from kinto.core.settings import typed_setting

__all__ = ["Cache", "load_from_config"]

SCHEMA = cache_schema(key_type="TEXT", seconds_type="REAL", table_options=" WITHOUT ROWID")

_LIVE = "(expires_at IS NULL OR expires_at > ?)"
_LIVE_NOW = "(expires_at IS NULL OR expires_at > :now)"


def _glob_literal(text: str) -> str:
    # GLOB, unlike SQLite's LIKE, is case-sensitive; bracket its wildcards to make them literal.
    return text.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


class Cache(RelationalCache):
    """A cache held in the ``cache_entries`` table of a SQLite file."""

    embedded: ClassVar[bool] = True
    client: SQLiteClient

    def __init__(self, client: SQLiteClient, *args: Any, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(client, *args, **kwargs)
        self._clock = clock

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.Cache {self.client.path} prefix={self.prefix!r}>"

    def initialize_schema(self, dry_run: bool = False) -> None:
        SCHEMA.migrate(self.client, dry_run=dry_run)

    def flush(self) -> None:
        with self.client.connect() as connection:
            if self.prefix:
                connection.execute("DELETE FROM cache_entries WHERE key GLOB ?", (_glob_literal(self.prefix) + "*",))
            else:
                connection.execute("DELETE FROM cache_entries")

    def ttl(self, key: str) -> float:
        now = self._clock()
        with self.client.connect(readonly=True) as connection:
            row = connection.execute(
                f"SELECT expires_at FROM cache_entries WHERE key = ? AND {_LIVE}", (self.prefix + check_key(key), now)
            ).fetchone()
        if row is None or row[0] is None:
            return -1
        return row[0] - now

    def expire(self, key: str, ttl: float) -> None:
        self._write(
            self.prefix + check_key(key),
            ttl,
            f"UPDATE cache_entries SET expires_at = :expires_at WHERE key = :key AND {_LIVE_NOW}",
        )

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        full_key = self.prefix + check_key(key)
        upsert = (
            "INSERT INTO cache_entries (key, value, expires_at) VALUES (:key, :value, :expires_at)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
        )
        if self._write(full_key, ttl, upsert, value=encode(value)) and self._time_to_purge():
            with self.client.connect() as connection:
                connection.execute("DELETE FROM cache_entries WHERE expires_at <= ?", (self._clock(),))

    def _write(self, full_key: str, ttl: float | None, statement: str, **values: Any) -> bool:
        """Run ``statement`` (named parameters ``key``, ``expires_at``, ``now`` and ``values``) for a key
        whose new expiry is ahead; delete the key instead when it is already past. Whether it ran."""
        now = self._clock()
        expires_at = expiry(now, ttl)
        with self.client.connect() as connection:
            if expires_at is not None and expires_at <= now:
                connection.execute("DELETE FROM cache_entries WHERE key = ?", (full_key,))
                return False
            connection.execute(statement, {"key": full_key, "expires_at": expires_at, "now": now, **values})
        return True

    def _live_value(self, full_key: str) -> str | None:
        with self.client.connect(readonly=True) as connection:
            row = connection.execute(
                f"SELECT value FROM cache_entries WHERE key = ? AND {_LIVE}", (full_key, self._clock())
            ).fetchone()
        return None if row is None else row[0]

    def delete(self, key: str) -> Any:
        full_key = self.prefix + check_key(key)
        now = self._clock()
        with self.client.connect() as connection:
            row = connection.execute(
                "DELETE FROM cache_entries WHERE key = ? RETURNING value, expires_at", (full_key,)
            ).fetchone()
        if row is None or (row[1] is not None and row[1] <= now):
            return None
        return decode(row[0])

    def delete_prefix(self, key_prefix: str) -> int:
        pattern = _glob_literal(self.prefix + check_key(key_prefix)) + "*"
        now = self._clock()
        with self.client.connect() as connection:
            (live,) = connection.execute(
                f"SELECT count(*) FROM cache_entries WHERE key GLOB ? AND {_LIVE}", (pattern, now)
            ).fetchone()
            connection.execute("DELETE FROM cache_entries WHERE key GLOB ?", (pattern,))
        return int(live)

    def heartbeat(self) -> bool:
        return self.client.answers("SELECT 1 FROM cache_entries LIMIT 1")


def load_from_config(config: Any) -> Cache:
    """Build the SQLite cache on the client shared for ``cache_url``."""
    settings = config.get_settings()
    return Cache(client_from_config(config, "cache"), cache_prefix=typed_setting(settings, "cache_prefix"))
