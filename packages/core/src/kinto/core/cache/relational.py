"""What the SQL caches (SQLite, PostgreSQL) share: their capabilities and the shared client.

Both keep one ``cache_entries`` table (``key``, the JSON text of ``value``, an absolute
``expires_at`` in seconds since the epoch, ``NULL`` for none). Reads ignore expired rows;
writes delete them every ``PURGE_EVERY_WRITES`` writes of a process.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kinto.core.cache import CacheBase

__all__ = ["PURGE_EVERY_WRITES", "RelationalCache"]

PURGE_EVERY_WRITES = 200


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

    def _time_to_purge(self) -> bool:
        """Count a write; whether it is the one that should delete the expired rows."""
        self._writes += 1
        return self._writes % PURGE_EVERY_WRITES == 0
