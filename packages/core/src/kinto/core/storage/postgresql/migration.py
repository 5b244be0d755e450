"""What a PostgreSQL database holds where the storage schema belongs, and the way to the current schema.

``kinto migrate`` (``Storage.initialize_schema``) and the schema check of the heartbeat and of
``kinto start`` (``Storage.schema_mismatch``) read a database the same way, by its ``metadata``
rows *and* its tables' columns:

* nothing yet: our migrations create the schema;
* our tables (``last_modified`` BIGINT) at some version: our migrations bring it up to date;
* Kinto's tables (``last_modified`` TIMESTAMP) at one of the versions Kinto shipped: converted in
  place (see :mod:`.from_kinto`), then at our latest version;
* a conversion under way: resumed;
* anything else: refused with what was found, never reported as up to date.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from kinto.core.database.postgresql import metadata_values, table_columns
from kinto.core.storage.postgresql import from_kinto
from kinto.core.storage.postgresql.schema import SCHEMA, TABLES

__all__ = ["Installed", "UnknownSchemaError", "convert_from_kinto", "inspect"]

logger = logging.getLogger(__name__)

VERSION_KEY = SCHEMA.key
#: Pages of Kinto's table copied per transaction (about 30,000 small records).
PAGES_PER_TRANSACTION = 1000
_READ = (*from_kinto.KINTO_TABLES, *(from_kinto.SET_ASIDE + table for table in from_kinto.KINTO_TABLES))


class UnknownSchemaError(RuntimeError):
    """The database holds tables that are neither ours nor a schema Kinto shipped: nothing is touched."""


@dataclasses.dataclass(frozen=True)
class Installed:
    """What the database holds: exactly one of ``ours``, ``kinto``, ``conversion`` or ``refused`` is set."""

    found: dict[str, dict[str, str]]
    ours: int | None = None  # our schema version; 0 when there is nothing yet
    kinto: from_kinto.KintoLayout | None = None
    conversion: tuple[from_kinto.KintoLayout, str, int] | None = None  # Kinto's layout, next step, next page
    refused: str | None = None

    def describe(self) -> str:
        if self.refused is not None:
            return f"unrecognised storage tables: {self.refused}"
        if self.kinto is not None:
            return f"Kinto's storage schema {self.kinto.version}"
        if self.conversion is not None:
            layout, step, page = self.conversion
            return f"a conversion from Kinto's storage schema {layout.version} under way (next: {step}, page {page})"
        return f"storage schema version {self.ours}" if self.ours else "no storage tables"

    def mismatch(self, target: int) -> str | None:
        """Why the storage cannot serve with this code (one line, with what to run), or None."""
        if self.ours == target:
            return None
        if self.refused is not None:
            return f"{self.describe()}; kinto migrate refuses to touch them"
        if self.kinto is not None:
            return f"the database holds {self.describe()}: run kinto migrate to convert it"
        if self.conversion is not None:
            return f"the database holds {self.describe()}: run kinto migrate to finish it"
        if self.ours and self.ours > target:
            return f"{self.describe()} is newer than this code's ({target}): upgrade the server"
        return f"{self.describe()}, this code needs version {target}: run kinto migrate"


def inspect(connection: Any, target: int) -> Installed:
    """Read what the database holds (nothing is written)."""
    found = table_columns(connection, _READ)
    try:
        state = from_kinto.conversion_state(connection)
    except ValueError as error:
        return Installed(found, refused=str(error))
    if state is not None:
        version, step, page = state
        layout = from_kinto.KintoLayout(version)
        problem = layout.mismatch(found, from_kinto.SET_ASIDE) if step != from_kinto.FINISH else None
        if problem or step not in (from_kinto.COPY_OBJECTS, from_kinto.COPY_TOMBSTONES, from_kinto.FINISH):
            return Installed(found, refused=f"conversion from Kinto's schema {version} at step {step!r}: {problem}")
        return Installed(found, conversion=(layout, step, page))
    versions = metadata_values(connection, VERSION_KEY)
    objects = found.get("objects", {})
    if objects.get("last_modified") == "bigint":
        return _ours(found, versions, target)
    if objects or "records" in found:
        created_at = bool(metadata_values(connection, "created_at"))
        try:
            return Installed(found, kinto=from_kinto.recognise(found, versions, created_at))
        except ValueError as error:
            return Installed(found, refused=str(error))
    if versions or found:
        tables = ", ".join(sorted(found)) or "no tables"
        return Installed(found, refused=f"storage_schema_version {versions} with {tables}")
    return Installed(found, ours=0)


def _ours(found: dict[str, dict[str, str]], versions: list[str], target: int) -> Installed:
    for table, columns in TABLES.items():
        if found.get(table) != columns:
            return Installed(found, refused=f"table {table} has columns {found.get(table)}, expected {columns}")
    if len(set(versions)) != 1 or not versions[0].isdigit():
        return Installed(found, refused=f"this schema's tables, with storage_schema_version {versions}")
    return Installed(found, ours=int(versions[0]))


# --- the conversion ------------------------------------------------------------------------------------


def _begin(connection: Any) -> None:
    # Steps may outlast a statement timeout set for the application; concurrent runs wait their turn.
    connection.execute("SET LOCAL statement_timeout = 0")
    connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (SCHEMA.lock_name,))


def plan(connection: Any, installed: Installed, target: int) -> list[str]:
    """The steps still to run, one line each (``kinto migrate --dry-run`` prints them)."""
    layout = installed.kinto or (installed.conversion[0] if installed.conversion else None)
    assert layout is not None
    step, page = (from_kinto.COPY_OBJECTS, 0) if installed.conversion is None else installed.conversion[1:]
    found = installed.found
    prefix = "" if installed.kinto is not None else from_kinto.SET_ASIDE
    tables = layout.set_aside_tables(found, prefix)
    steps = []
    if installed.kinto is not None:
        steps.append(
            f"set Kinto's tables {', '.join(tables)} aside (renamed {from_kinto.SET_ASIDE}*, triggers dropped), "
            f"create this schema's tables (version {target})"
        )
    copies = [(from_kinto.COPY_OBJECTS, layout.objects_table, "objects")]
    if layout.has_tombstones_table:
        copies.append((from_kinto.COPY_TOMBSTONES, "deleted", "tombstones of the deleted table"))
    order = [from_kinto.COPY_OBJECTS, from_kinto.COPY_TOMBSTONES, from_kinto.FINISH]
    for name, table, what in copies:
        if order.index(name) < order.index(step):
            continue
        rows = from_kinto.count_rows(connection, prefix + table)
        start = page if name == step else 0
        steps.append(
            f"copy {rows:,} {what} from {from_kinto.SET_ASIDE}{table}, from page {start}, "
            f"{PAGES_PER_TRANSACTION} pages per transaction"
        )
    leftover = (
        " (and the deleted table Kinto left behind at schema 18)"
        if "deleted" in tables and not (layout.has_tombstones_table)
        else ""
    )
    steps.append(
        "check that every object arrived, write the collection timestamps, drop Kinto's tables"
        f"{leftover} and storage functions, record storage schema version {target}"
    )
    return steps


def convert_from_kinto(client: Any, create_ours: Sequence[str], target: int, dry_run: bool = False) -> None:
    """Convert Kinto's storage schema to ours, resuming a conversion under way; one transaction per step."""
    with client.connect() as connection:
        _begin(connection)
        installed = inspect(connection, target)
        if installed.kinto is None and installed.conversion is None:
            return
        logger.info("Storage: the database holds %s", installed.describe())
        for number, line in enumerate(plan(connection, installed, target), start=1):
            logger.info("  %s. %s%s", number, "would " if dry_run else "", line)
        if not dry_run and installed.kinto is not None:
            logger.info("Setting Kinto's storage tables aside")
            from_kinto.set_aside(connection, installed.kinto, installed.found, list(create_ours))
    if dry_run:
        return
    copied = 0
    while True:
        with client.connect() as connection:
            _begin(connection)
            installed = inspect(connection, target)
            if installed.conversion is None:
                return  # finished, by this run or another one
            layout, step, page = installed.conversion
            if step == from_kinto.FINISH:
                logger.info("Checking the copy and dropping Kinto's storage tables")
                from_kinto.finish(connection, layout, installed.found, target)
                logger.info("Converted Kinto's storage schema %s to storage schema version %s", layout.version, target)
                return
            table = layout.objects_table if step == from_kinto.COPY_OBJECTS else "deleted"
            total = from_kinto.page_count(connection, table)
            if page < total:
                copied += from_kinto.copy_pages(connection, layout, step, page, PAGES_PER_TRANSACTION)
            done = min(page + PAGES_PER_TRANSACTION, total)
            if done >= total:
                from_kinto.next_step(connection, layout, step)
        # Said once committed: an interruption after this line never undoes what it reports.
        what = "objects" if step == from_kinto.COPY_OBJECTS else "tombstones"
        logger.info(
            "Copied Kinto's %s: page %s of %s (%s%%), %s rows copied by this run",
            what,
            done,
            total,
            100 * done // max(total, 1),
            f"{copied:,}",
        )
