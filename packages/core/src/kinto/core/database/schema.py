"""Versioned schemas of the SQL backends, and the one runner that migrates them.

A backend declares its schema as data: a :class:`Schema` naming its kind (``cache``,
``permission``, ``storage``) and the statements of each step, step N bringing the schema
from version N - 1 to N. The installed version is a row of the ``metadata`` table named
``<kind>_schema_version``, as Kinto names it, so a database Kinto migrated is read as it is.

:meth:`Schema.migrate` (``kinto migrate``) applies the missing steps in order inside one
transaction, recording the version after each; with ``dry_run`` it only logs them. A
database newer than the code is refused, never reported as up to date. :meth:`Schema.check`
(the heartbeat, ``kinto start``) says in one line why the installed schema cannot serve.

The database specifics (reading and writing ``metadata``, keeping concurrent migrations
apart) are the clients' ``schema_version``, ``record_schema_version`` and ``lock_schema``.
Backends whose databases may hold another layout (Kinto's PostgreSQL tables) read the
installed version themselves and call :meth:`Schema.upgrade` with it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from kinto.core.storage.exceptions import BackendError

__all__ = ["Schema", "read_version"]

Step = Sequence[str]


def read_version(key: str, values: Sequence[str]) -> int:
    """The version the ``metadata`` rows named ``key`` hold (0: no row); ValueError when they disagree or are no number."""
    if len(set(values)) > 1 or (values and not values[0].isdigit()):
        raise ValueError(f"unreadable {key} rows in metadata: {list(values)}")
    return int(values[0]) if values else 0


@dataclasses.dataclass(frozen=True)
class Schema:
    """The schema of one kind of backend: ``steps[i]`` brings it from version ``i`` to ``i + 1``."""

    kind: str
    steps: Sequence[Step]
    #: The version this code creates and serves.
    version: int = dataclasses.field(init=False)
    #: The name of its ``metadata`` row.
    key: str = dataclasses.field(init=False)
    #: What concurrent migrations of this schema wait on (PostgreSQL's advisory lock).
    lock_name: str = dataclasses.field(init=False)
    #: Where its steps are logged: below ``kinto.core.<kind>``, whose level ``kinto migrate`` raises to INFO.
    logger: logging.Logger = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", len(self.steps))
        object.__setattr__(self, "key", f"{self.kind}_schema_version")
        object.__setattr__(self, "lock_name", f"kinto.core.{self.kind}.schema")
        object.__setattr__(self, "logger", logging.getLogger(f"kinto.core.{self.kind}.schema"))

    def statements(self) -> list[str]:
        """Every statement of every step, in order: the whole schema from nothing."""
        return [statement for step in self.steps for statement in step]

    def migrate(self, client: Any, *, dry_run: bool = False) -> None:
        """Bring the database of ``client`` to :attr:`version` in one transaction, or refuse with a RuntimeError."""
        with client.connect() as connection:
            self.migrate_on(client, connection, dry_run=dry_run)

    def migrate_on(self, client: Any, connection: Any, *, dry_run: bool = False) -> None:
        """:meth:`migrate` inside a transaction already open on ``connection`` (to add statements of one's own)."""
        client.lock_schema(connection, self.lock_name)
        try:
            installed = client.schema_version(connection, self.key)
        except ValueError as error:
            raise RuntimeError(f"{error}: nothing was changed") from None
        self.upgrade(client, connection, installed, dry_run=dry_run)

    def upgrade(
        self,
        client: Any,
        connection: Any,
        installed: int,
        *,
        dry_run: bool = False,
        pending: Sequence[tuple[int, Step]] | None = None,
    ) -> None:
        """Apply the steps after version ``installed`` on ``connection``, recording the version after each.

        ``pending`` replaces those steps by others, as ``(version reached, statements)``: for
        a layout that is not one of this schema's versions (Kinto's last permission schema).
        """
        if installed > self.version:
            raise RuntimeError(
                f"{self.kind} schema version {installed} is newer than this code's ({self.version}): "
                "upgrade the server; nothing was changed"
            )
        if pending is None:
            pending = [(version, self.steps[version - 1]) for version in range(installed + 1, self.version + 1)]
        if not pending:
            self.logger.info("%s schema is up to date (version %s)", self.kind.capitalize(), installed)
            return
        for version, statements in pending:
            self.logger.info(
                "%s %s schema version %s", "Would migrate to" if dry_run else "Migrating to", self.kind, version
            )
            if dry_run:
                continue
            for statement in statements:
                connection.execute(statement)
            client.record_schema_version(connection, self.key, version)

    def check(self, client: Any, unversioned: Callable[[Any], str | None] | None = None) -> str | None:
        """Why the database of ``client`` cannot serve with this code (one line naming the fix), or None.

        None too when the database cannot be reached: the heartbeat says so. Where no version is
        recorded, ``unversioned(connection)`` may name another layout found instead (Kinto's).
        """
        try:
            with client.connect(readonly=True) as connection:
                installed = client.schema_version(connection, self.key)
                found = unversioned(connection) if unversioned is not None and not installed else None
        except BackendError:
            return None
        except ValueError as error:
            return f"{error}: fix them, then run kinto migrate"
        return found or self.mismatch(installed)

    def mismatch(self, installed: int) -> str | None:
        """Why version ``installed`` (0: none) cannot serve with this code, or None."""
        if installed == self.version:
            return None
        if installed > self.version:
            return (
                f"{self.kind} schema version {installed} is newer than this code's ({self.version}): upgrade the server"
            )
        found = f"{self.kind} schema version {installed}" if installed else f"no {self.kind} tables"
        return f"{found}, this code needs version {self.version}: run kinto migrate"
