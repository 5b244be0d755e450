"""The schema methods of the backend contracts, written once for the three of them.

:class:`~kinto.core.cache.CacheBase`, :class:`~kinto.core.storage.StorageBase` and
:class:`~kinto.core.permission.PermissionBase` take these two functions as their
``initialize_schema`` and ``schema_mismatch`` methods: ``kinto migrate`` calls the first
on each backend, the heartbeat and ``kinto start`` the second. The SQL backends implement
both with :mod:`kinto.core.database.schema`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["initialize_schema", "schema_mismatch"]


def initialize_schema(self: Any, dry_run: bool = False) -> None:
    """Create or migrate what the backend needs (tables, indexes, buckets), idempotently.

    Run by ``kinto migrate``. With ``dry_run`` nothing changes; the steps are
    only logged. The default does nothing, for backends that need no schema.
    """


def schema_mismatch(self: Any) -> str | None:
    """Why the backend's tables are not those this code expects, in one line naming the fix; None when they are.

    The heartbeat and ``kinto start`` call it, so that a server on a missing,
    outdated or foreign schema says so instead of failing request by request.
    A backend that cannot be reached returns None (its heartbeat reports that).
    The default returns None, for backends without a schema.
    """
    return None
