"""What the SQL caches (SQLite, PostgreSQL) share: their table, capabilities, shared client and reads.

Both keep one ``cache_entries`` table (``key``, the JSON text of ``value``, an absolute
``expires_at`` in seconds since the epoch, ``NULL`` for none). Reads ignore expired rows;
writes delete them every ``PURGE_EVERY_WRITES`` writes of a process.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from kinto.core.cache import CacheBase
from kinto.core.cache.encoding import check_key, decode
from kinto.core.database.schema import Schema

__all__ = ["PURGE_EVERY_WRITES", "RelationalCache", "cache_schema"]

PURGE_EVERY_WRITES = 200


def cache_schema(*, key_type: str, seconds_type: str, table_options: str = "") -> Schema:
    """The ``cache_entries`` table in one dialect: the column types of its key and expiry, and
    what follows the table's definition (SQLite's ``WITHOUT ROWID``)."""
    table = (
        f"CREATE TABLE IF NOT EXISTS cache_entries"
        f" (key {key_type} PRIMARY KEY, value TEXT NOT NULL, expires_at {seconds_type}){table_options}"
    )
    index = "CREATE INDEX IF NOT EXISTS idx_cache_entries_expires_at ON cache_entries (expires_at)"
    return Schema("cache", steps=((table, index),))


class RelationalCache(CacheBase):
    """A cache in the ``cache_entries`` table of the database of ``client``."""

    supports_delete_prefix: ClassVar[bool] = True
    supports_set_without_ttl: ClassVar[bool] = True
    supports_concurrent_processes: ClassVar[bool] = True

    def __init__(self, client: Any, *args: Any, **kwargs: Any) -> None:
        self.client = client
        self._writes = 0
        # CacheBase's keywords (cache_prefix, cache_max_size_bytes...) pass through, as Kinto's do.
        super().__init__(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.Cache {self.client!r} prefix={self.prefix!r}>"

    def get(self, key: str) -> Any:
        text = self._live_value(self.prefix + check_key(key))
        if text is None:
            self.metrics_backend.count_miss()
            return None
        self.metrics_backend.count_hit()
        return decode(text)

    @abc.abstractmethod
    def _live_value(self, full_key: str) -> str | None:
        """The JSON text stored under ``full_key`` unless it expired (None then, or when absent)."""

    def _time_to_purge(self) -> bool:
        """Count a write; whether it is the one that should delete the expired rows."""
        self._writes += 1
        return self._writes % PURGE_EVERY_WRITES == 0
