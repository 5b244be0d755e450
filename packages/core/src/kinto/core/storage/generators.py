"""Object id generators: they draw new ids and validate ids picked by clients."""

from __future__ import annotations

import re
import uuid
from typing import Any

__all__ = ["UUID4", "Generator"]


class Generator:
    """Base class of id generators: ``generator()`` draws an id, ``generator.match(id)`` validates one.

    ``regexp`` is the pattern valid ids follow; subclasses override it and
    ``__call__``. Building a generator checks that it draws valid ids.
    """

    regexp: str = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"

    def __init__(self, config: Any = None) -> None:
        self.config = config
        self._compiled: re.Pattern[str] | None = None
        if not self.match(self()):
            raise ValueError(f"{type(self).__name__} draws ids that do not match its own regexp {self.regexp!r}")

    def match(self, object_id: str) -> re.Match[str] | None:
        """Return a match when the whole of ``object_id`` is a valid id for this generator.

        The whole string: with ``re.match``, a ``$`` also matches before a final
        newline, and ``"b\\n"`` would pass for ``b``.
        """
        if self._compiled is None:
            self._compiled = re.compile(self.regexp)
        return self._compiled.fullmatch(object_id)

    def __call__(self) -> str:
        """Return a new id, unique with overwhelming probability."""
        raise NotImplementedError


class UUID4(Generator):
    """Random UUIDs in their canonical lower-case, dashed form."""

    regexp = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

    def __call__(self) -> str:
        return str(uuid.uuid4())
