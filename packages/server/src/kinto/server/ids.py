"""Id generators of the Kinto API: short names for containers, UUIDs (or any name) for records."""

from __future__ import annotations

import secrets
import string

from kinto.core.storage import generators

__all__ = ["NAME_PATTERN", "NameGenerator", "RelaxedUUID"]

#: Ids of buckets, collections and groups (and of records picked by clients).
NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"

_FIRST = string.ascii_letters + string.digits
_OTHERS = _FIRST + "-_"


class NameGenerator(generators.Generator):
    """Draws 8-character names (``a9Z-_x0q``) for buckets, collections and groups created by POST."""

    regexp = NAME_PATTERN

    def __call__(self) -> str:
        return secrets.choice(_FIRST) + "".join(secrets.choice(_OTHERS) for _ in range(7))


class RelaxedUUID(generators.UUID4):
    """Draws UUID4s for records created by POST, and accepts any name a client picks with PUT."""

    regexp = NAME_PATTERN
