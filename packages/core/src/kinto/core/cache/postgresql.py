"""The PostgreSQL cache (psycopg 3, pooled through the shared client).

Each row holds the JSON text of a value and its absolute expiry in seconds
since the epoch, on the database server's clock so that every host sharing
the cache agrees. Reads ignore expired rows; writes delete them now and
then. Settings: ``cache_url``, ``cache_prefix``, ``cache_pool_size``,
``cache_pool_timeout``, ``cache_connect_timeout``,
``cache_statement_timeout_ms``. ``cache_max_size_bytes`` is not enforced.
"""

from __future__ import annotations

import logging
from typing import Any

from kinto.core.cache.encoding import check_key, decode, encode, expiry
from kinto.core.cache.relational import RelationalCache, cache_schema
from kinto.core.database.postgresql import PostgreSQLClient, client_from_config, table_columns
from kinto.core.settings import typed_setting

__all__ = ["Cache", "load_from_config"]

logger = logging.getLogger(__name__)

SCHEMA = cache_schema(key_type='TEXT COLLATE "C"', seconds_type="DOUBLE PRECISION")

#: Kinto's cache table (never versioned): its live entries are copied, then it is dropped.
KINTO_TABLE = {"key": "character varying", "value": "text", "ttl": "timestamp without time zone"}
_FROM_KINTO = (
    # Kinto wrote ``ttl`` as now() + seconds in the session's time zone, and never read a row without one.
    "INSERT INTO cache_entries (key, value, expires_at)"
    " SELECT key, value, extract(epoch FROM ttl::timestamptz)::double precision FROM cache"
    " WHERE ttl IS NOT NULL AND ttl::timestamptz > clock_timestamp() ON CONFLICT (key) DO NOTHING",
    "DROP TABLE cache",
    "DROP FUNCTION IF EXISTS sec2ttl(double precision)",
)


def _holds_kinto_table(connection: Any) -> bool:
    return table_columns(connection, ["cache"]).get("cache") == KINTO_TABLE


def _kinto_cache(connection: Any) -> str | None:
    if _holds_kinto_table(connection):
        return "the database holds Kinto's cache table: run kinto migrate to convert it"
    return None


# clock_timestamp(), not now(): now() stands still for a whole transaction.
_NOW = "extract(epoch FROM clock_timestamp())::double precision"
_LIVE = f"(expires_at IS NULL OR expires_at > {_NOW})"


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Cache(RelationalCache):
    """A cache held in the ``cache_entries`` table of a PostgreSQL database."""

    client: PostgreSQLClient

    def initialize_schema(self, dry_run: bool = False) -> None:
        with self.client.connect() as connection:
            SCHEMA.migrate_on(self.client, connection, dry_run=dry_run)
            if not _holds_kinto_table(connection):
                return
            verb = "Would copy" if dry_run else "Copying"
            logger.info("%s the unexpired entries of Kinto's cache table, then drop it", verb)
            if not dry_run:
                for statement in _FROM_KINTO:
                    connection.execute(statement)

    def schema_mismatch(self) -> str | None:
        return SCHEMA.check(self.client, unversioned=_kinto_cache)

    def flush(self) -> None:
        with self.client.connect() as connection:
            if self.prefix:
                connection.execute("DELETE FROM cache_entries WHERE key LIKE %s", (_like_prefix(self.prefix),))
            else:
                connection.execute("DELETE FROM cache_entries")

    def ttl(self, key: str) -> float:
        with self.client.connect(readonly=True) as connection:
            row = connection.execute(
                f"SELECT expires_at - {_NOW} FROM cache_entries WHERE key = %s AND {_LIVE}",
                (self.prefix + check_key(key),),
            ).fetchone()
        if row is None or row[0] is None:
            return -1
        return float(row[0])

    def expire(self, key: str, ttl: float) -> None:
        statement = f"UPDATE cache_entries SET expires_at = {_NOW} + %(seconds)s WHERE key = %(key)s AND {_LIVE}"
        self._write(self.prefix + check_key(key), ttl, statement)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        full_key = self.prefix + check_key(key)
        upsert = (
            f"INSERT INTO cache_entries (key, value, expires_at) VALUES (%(key)s, %(value)s, {_NOW} + %(seconds)s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
        )
        if self._write(full_key, ttl, upsert, value=encode(value)) and self._time_to_purge():
            with self.client.connect() as connection:
                connection.execute(f"DELETE FROM cache_entries WHERE expires_at <= {_NOW}")

    def _write(self, full_key: str, ttl: float | None, statement: str, **values: Any) -> bool:
        """Run ``statement`` (named parameters ``key``, ``seconds`` left and ``values``) for a key whose
        new expiry is ahead; delete the key instead when it is already past. Whether it ran."""
        seconds = expiry(0.0, ttl)
        with self.client.connect() as connection:
            if seconds is not None and seconds <= 0:
                connection.execute("DELETE FROM cache_entries WHERE key = %s", (full_key,))
                return False
            connection.execute(statement, {"key": full_key, "seconds": seconds, **values})
        return True

    def _live_value(self, full_key: str) -> str | None:
        with self.client.connect(readonly=True) as connection:
            row = connection.execute(
                f"SELECT value FROM cache_entries WHERE key = %s AND {_LIVE}", (full_key,)
            ).fetchone()
        return None if row is None else row[0]

    def delete(self, key: str) -> Any:
        with self.client.connect() as connection:
            row = connection.execute(
                f"DELETE FROM cache_entries WHERE key = %s RETURNING value, {_LIVE}", (self.prefix + check_key(key),)
            ).fetchone()
        if row is None or not row[1]:
            return None
        return decode(row[0])

    def delete_prefix(self, key_prefix: str) -> int:
        with self.client.connect() as connection:
            row = connection.execute(
                "WITH gone AS (DELETE FROM cache_entries WHERE key LIKE %s RETURNING expires_at)"
                f" SELECT count(*) FROM gone WHERE {_LIVE}",
                (_like_prefix(self.prefix + check_key(key_prefix)),),
            ).fetchone()
        return int(row[0]) if row else 0

    def heartbeat(self) -> bool:
        return self.client.answers("SELECT 1")


def load_from_config(config: Any) -> Cache:
    """Build the PostgreSQL cache on the client shared for ``cache_url``."""
    settings = config.get_settings()
    return Cache(client_from_config(config, "cache"), cache_prefix=typed_setting(settings, "cache_prefix"))
