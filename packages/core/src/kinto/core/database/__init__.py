"""Shared SQL clients for the SQLite and PostgreSQL backends.

The storage, cache and permission backends of one application that point at the
same database share one client (see ``client_from_config`` in each module), hence
one connection and one transaction per request: a request that fails rolls back
its objects and its permissions together.

Both clients offer the same three context managers:

``transaction(write=True)``
    Opens a transaction bound to the current execution context (thread or
    asyncio task, through :mod:`contextvars`). Nested calls join the outer one.
    Normal exit commits, an exception rolls back.

``savepoint()``
    Inside a write transaction, makes the block undoable on its own: an
    exception leaving it rolls back to where it started (``SAVEPOINT``/``ROLLBACK
    TO``) and propagates, the transaction staying open; normal exit keeps the
    block's statements (``RELEASE``). Savepoints nest. Outside a write
    transaction the block simply runs.

``connect(readonly=False)``
    Yields a DB-API connection. Inside a ``transaction()`` it is that
    transaction's connection (nothing is committed on exit); otherwise the block
    runs in a transaction of its own. Driver errors become
    :class:`kinto.core.storage.exceptions.BackendError`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["registry_clients"]

#: Registry key under which clients are shared, per (kind, url).
REGISTRY_KEY = "kinto.database.clients"


def registry_clients(config: Any) -> dict[Any, Any]:
    """The dict of shared clients on the Pyramid registry (created on first use)."""
    return config.registry.setdefault(REGISTRY_KEY, {})
