"""Kinto's plugin migration objects, accepted by ``config.add_migration``.

Our directive is ``config.add_migration(name, fn)`` with ``fn(registry, dry_run=False)``.
Plugins written for Kinto 26.5 call ``config.add_migration(migration)`` with an object
providing :class:`IMigratable` (usually a :class:`PostgreSQLPluginMigration` subclass,
also importable from ``kinto.core.storage.postgresql``): that form is accepted too, and
:func:`as_migration_step` turns the object into a step of ours.

Such objects run SQL written for Kinto's PostgreSQL client (SQLAlchemy), which our
backends do not use; ``kinto migrate`` therefore does not run them, and says so in its log
when the storage is PostgreSQL. A plugin that needs schema steps on our backends registers
them with ``config.add_migration(name, fn)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from zope.interface import Interface, implementer

__all__ = ["IMigratable", "PostgreSQLPluginMigration", "as_migration_step"]

logger = logging.getLogger(__name__)


class IMigratable(Interface):  # type: ignore[misc]  # zope interfaces are declared without self
    """Kinto's interface of a plugin migration object (``name`` and ``initialize_schema``)."""

    def initialize_schema(client: Any = None, dry_run: bool = False) -> None:
        """Create or upgrade the plugin's schema through ``client`` (backend specific)."""


@implementer(IMigratable)
class PostgreSQLPluginMigration:
    """Kinto's base class of plugin schema steps on PostgreSQL (``name``, ``schema_version``).

    Kept so that plugins subclassing it import and register; see the module docstring
    for why its SQL is not run on our backends.
    """

    name: str | None = None
    schema_version: int | None = None
    migrations_directory: str | None = None
    client: Any = None

    def initialize_schema(self, client: Any = None, dry_run: bool = False) -> None:
        self.client = client
        raise NotImplementedError(
            f"{type(self).__name__} is written for Kinto's PostgreSQL client; "
            "register a step with config.add_migration(name, fn) instead"
        )

    def migrate_schema(self, start_version: int, dry_run: bool = False) -> None:
        raise NotImplementedError


def as_migration_step(migration: Any) -> tuple[str, Callable[..., None]]:
    """``(name, fn)`` of our ``add_migration`` for a Kinto migration object."""
    name = getattr(migration, "name", None) or type(migration).__name__

    def step(registry: Any, dry_run: bool = False) -> None:
        storage = getattr(registry, "storage", None)
        # Worth a warning where Kinto would have run it: a database server, not an embedded store.
        log = logger.debug if storage is None or storage.embedded else logger.warning
        log("Migration %r is written for Kinto's PostgreSQL client (SQLAlchemy) and is not run", name)

    return name, step
