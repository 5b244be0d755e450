"""Errors raised by storage backends (and shared by the cache and permission backends)."""

from __future__ import annotations

from typing import Any


class BackendError(Exception):
    """A backend failed or could not be reached.

    The core answers it as ``503 Service Unavailable`` with errno 201 and a
    ``Retry-After`` header; the original exception is kept for the logs.
    """

    def __init__(self, original: BaseException | None = None, message: str | None = None, *args: Any) -> None:
        self.original = original
        if message is None and original is not None:
            message = f"{type(original).__name__}: {original}"
        super().__init__(message or "Backend failure", *args)


class ReadonlyError(BackendError):
    """A write was attempted on a read-only backend."""


class RecordNotFoundError(Exception):
    """The object does not exist (or is a tombstone)."""


ObjectNotFoundError = RecordNotFoundError


class UnicityError(Exception):
    """An object with the same id (or unique field) exists already.

    ``existing`` carries the object found, so the caller can answer 409 with it.
    """

    def __init__(self, field: str, existing: dict[str, Any] | None = None) -> None:
        self.field = field
        self.existing = existing
        super().__init__(f"Unicity constraint violated on {field!r}")


class ObjectChangedError(Exception):
    """A conditional write (``if_last_modified``) found the object missing or at another version.

    Nothing of the object was written. Raised only by backends that declare
    ``StorageBase.writes_conditionally``.
    """

    def __init__(self, object_id: str) -> None:
        self.object_id = object_id
        super().__init__(f"Object {object_id!r} changed meanwhile")


class IntegrityError(BackendError):
    """The backend refused a write breaking one of its constraints (Kinto's name)."""


class InvalidValueError(ValueError):
    """A value cannot be stored or compared, e.g. a string or id holding a NUL character.

    Raised before anything is written; the core answers it as a 400, never a 5xx.
    """
