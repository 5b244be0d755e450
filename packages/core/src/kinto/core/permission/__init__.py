"""The permission contract.

A permission backend stores two relations:

- **user principals**: extra principals a user holds (``user_id -> {principal}``),
  typically the groups it belongs to. Principals given to the pseudo-user
  ``system.Authenticated`` are held by every user.
- **access control entries** (ACEs): ``(object_id, permission) -> {principal}``.
  An ``object_id`` is a URI-like path (``/buckets/b1/collections/c1``); a
  *bound permission* is an ``(object_id, permission)`` pair.

Inheritance is the application's business: it expands "write on a record" into
the bound permissions that grant it (write on the record, write on its
collection, write on its bucket...) and asks the backend about that list. The
backend never infers a parent by itself.

Object id *patterns* use ``*`` as the only wildcard. In
``delete_object_permissions`` and in ``get_accessible_objects`` (with
``with_children=True``) it matches any run of characters, ``/`` included; with
``with_children=False`` it matches one or more characters other than ``/``, so
``/buckets/*`` matches ``/buckets/b1`` but not ``/buckets/b1/collections/c1``.
Every other character matches itself.

A backend module exposes ``load_from_config(config) -> PermissionBase``; the
setting ``kinto.permission_backend`` names it. Backends prove conformance with
``kinto.core.testing.permission.PermissionContract`` (or ``kinto-conformance``).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from kinto.core import backend_schema
from kinto.core.storage.exceptions import BackendError

__all__ = ["BoundPermission", "PermissionBackendError", "PermissionBase", "bounded_principals"]

#: ``(object_id, permission)``; the object id may hold ``*`` patterns where documented.
BoundPermission = tuple[str, str]

#: The pseudo-user whose principals every authenticated user holds.
AUTHENTICATED_USER = "system.Authenticated"

_HEARTBEAT_USER = "__heartbeat__"


def bounded_principals(own: Iterable[str], shared: Iterable[str], limit: int) -> list[str]:
    """The first ``limit`` distinct principals of ``own`` then ``shared`` (for ``get_user_principals_bounded``)."""
    kept: dict[str, None] = {}
    for principal in (*own, *shared):
        if len(kept) >= limit:
            break
        kept.setdefault(principal)
    return list(kept)


class PermissionBackendError(BackendError):
    """The permission store failed or could not be reached; answered as a 503."""


class PermissionBase(abc.ABC):
    """Abstract base class of permission backends.

    Every method may raise ``BackendError`` (``PermissionBackendError``) when
    the underlying service fails. Principals, user ids, object ids and
    permissions are plain strings; sets returned are new objects the caller
    may mutate.
    """

    #: Whether ``transaction()`` really commits and rolls back (else it is a no-op).
    supports_transactions: ClassVar[bool] = False
    #: Whether several processes may use one store at once without losing writes; ``kinto start``
    #: serves with one worker process when a backend does not.
    supports_concurrent_processes: ClassVar[bool] = False
    #: Whether ``savepoint()`` really undoes its block's changes (else it is a no-op).
    supports_savepoints: ClassVar[bool] = False
    #: Whether the export and import methods are implemented (``kinto copy`` reads and writes through them).
    supports_copy: ClassVar[bool] = False
    #: :meth:`prefetch` sends its reads without waiting for the answers (see ``StorageBase.reads_ahead``).
    reads_ahead: ClassVar[bool] = False
    #: Whether what is stored survives a restart of the application (False for a store in memory,
    #: which ``kinto copy`` refuses as a source or a target).
    persistent: ClassVar[bool] = True
    #: Whether the store lives inside the application (its memory or a local file), with no
    #: administrator: ``kinto start`` creates its tables itself (``initialize_schema``) instead of
    #: asking for ``kinto migrate``. A backend on a database server leaves this False.
    embedded: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: B027 -- Kinto's keyword-tolerant constructor
        pass

    # Written once for every backend contract (see kinto.core.backend_schema).
    initialize_schema = backend_schema.initialize_schema
    schema_mismatch = backend_schema.schema_mismatch

    def transaction(self, *, write: bool = True) -> AbstractContextManager[None]:
        """Return a context manager grouping the calls made inside it.

        On normal exit the changes are committed; when an exception leaves the
        block they are rolled back, and the exception propagates. Re-entrant:
        a transaction opened inside another joins it, and only the outermost
        one commits or rolls back. ``write=False`` announces that the block
        only reads (a backend may then take fewer locks). The default is a
        no-op context (``supports_transactions = False``): each call is then
        applied on its own.
        """
        return contextlib.nullcontext()

    def savepoint(self) -> AbstractContextManager[None]:
        """Return a context manager making its block undoable on its own, inside a write transaction.

        When an exception leaves the block, the changes made in it (user
        principals and access control entries), and only those, are undone and
        the exception propagates; the transaction stays open with its earlier
        changes. Normal exit keeps the block's changes, which then commit or
        roll back with the transaction. Savepoints nest. Outside a write
        transaction the block simply runs. The default is a no-op context
        (``supports_savepoints = False``).
        """
        return contextlib.nullcontext()

    @abc.abstractmethod
    def flush(self) -> None:
        """Delete every user principal and every access control entry."""

    @abc.abstractmethod
    def add_user_principal(self, user_id: str, principal: str) -> None:
        """Give ``principal`` to ``user_id``. Adding one it already holds is a no-op."""

    @abc.abstractmethod
    def remove_user_principal(self, user_id: str, principal: str) -> None:
        """Take ``principal`` from ``user_id``. A missing user or principal is a no-op."""

    @abc.abstractmethod
    def remove_principal(self, principal: str) -> None:
        """Take ``principal`` from every user that holds it.

        Access control entries naming ``principal`` are left untouched.
        """

    @abc.abstractmethod
    def get_user_principals(self, user_id: str) -> set[str]:
        """Return the principals held by ``user_id``, plus those given to
        ``system.Authenticated`` (which every user holds). An unknown user
        gets the latter only, often an empty set."""

    def get_user_principals_bounded(self, user_id: str, limit: int) -> list[str]:
        """Return at most ``limit`` of the principals ``get_user_principals`` gives, without duplicates.

        A request must not load every group an attacker attached to
        ``system.Authenticated``: those held by ``user_id`` itself come first,
        then those of ``system.Authenticated``; within each part the backend
        picks a stable order (ours: ascending principal). A ``limit`` of 0 or
        less gives ``[]``. The default loads everything then cuts; backends
        override it to read no more than ``limit`` rows of each part.
        """
        if limit <= 0:
            return []
        shared = self.get_user_principals(AUTHENTICATED_USER)
        own = self.get_user_principals(user_id) - shared if user_id != AUTHENTICATED_USER else set()
        return bounded_principals(sorted(own), sorted(shared), limit)

    @abc.abstractmethod
    def add_principal_to_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Grant ``permission`` on ``object_id`` to ``principal``. Idempotent."""

    @abc.abstractmethod
    def remove_principal_from_ace(self, object_id: str, permission: str, principal: str) -> None:
        """Revoke ``permission`` on ``object_id`` from ``principal``. A missing
        entry is a no-op; an entry left without principals disappears."""

    @abc.abstractmethod
    def get_object_permission_principals(self, object_id: str, permission: str) -> set[str]:
        """Return the principals granted exactly ``(object_id, permission)``.

        No inheritance and no pattern: ``object_id`` is taken literally. Empty
        when nothing is granted.
        """

    @abc.abstractmethod
    def get_accessible_objects(
        self,
        principals: Iterable[str],
        bound_permissions: Sequence[BoundPermission] | None = None,
        with_children: bool = True,
    ) -> dict[str, set[str]]:
        """Return ``{object_id: {permission, ...}}`` for the objects on which
        at least one of ``principals`` is granted a permission.

        With ``bound_permissions`` ``None``, every permission of every object
        counts. Otherwise only the listed ``(object_id pattern, permission)``
        pairs count (see the module docstring for ``*`` and
        ``with_children``); each object maps to the permissions matched, not
        to every permission it has. An empty ``bound_permissions`` list, or
        empty ``principals``, gives ``{}``.
        """

    @abc.abstractmethod
    def get_authorized_principals(self, bound_permissions: Sequence[BoundPermission]) -> set[str]:
        """Return the union of the principals granted any of
        ``bound_permissions``. Object ids are taken literally (no pattern);
        an empty list gives an empty set."""

    def check_permission(self, principals: Iterable[str], bound_permissions: Sequence[BoundPermission]) -> bool:
        """Return True when one of ``principals`` is granted one of
        ``bound_permissions`` (literal object ids). False for an empty list.

        The default intersects ``get_authorized_principals``; backends may
        answer with a cheaper query.
        """
        if not bound_permissions:
            return False
        return not self.get_authorized_principals(bound_permissions).isdisjoint(principals)

    def get_object_permissions(self, object_id: str, permissions: Iterable[str] | None = None) -> dict[str, set[str]]:
        """Return ``{permission: {principal, ...}}`` for ``object_id``,
        restricted to ``permissions`` when given. Permissions without any
        principal are absent; an unknown object gives ``{}``."""
        return self.get_objects_permissions([object_id], permissions)[0]

    @abc.abstractmethod
    def get_objects_permissions(
        self, objects_ids: Sequence[str], permissions: Iterable[str] | None = None
    ) -> list[dict[str, set[str]]]:
        """Return, in the order of ``objects_ids``, one
        ``{permission: {principal, ...}}`` mapping per object id (``{}`` for
        an unknown one), restricted to ``permissions`` when given. Object ids
        are taken literally; a repeated id gets the same mapping twice."""

    def prefetch(
        self, user_id: str | None, principals_limit: int, object_ids: Sequence[str]
    ) -> Callable[[], tuple[list[str], list[dict[str, set[str]]]]]:
        """Start reading what a permission check needs and return a callable giving it.

        The callable answers ``get_user_principals_bounded(user_id, principals_limit)`` (``[]``
        when ``user_id`` is None) and ``get_objects_permissions(object_ids)``. It is called at
        most once, within the transaction ``prefetch`` ran in, and may answer what the store held
        when ``prefetch`` was called. A backend may send its statements now and read their rows
        when the callable is called, so that they share one round trip with the storage's
        (``StorageBase.prefetch_objects``). The default reads with those two methods when called.
        """

        def read() -> tuple[list[str], list[dict[str, set[str]]]]:
            principals = self.get_user_principals_bounded(user_id, principals_limit) if user_id is not None else []
            return principals, self.get_objects_permissions(object_ids) if object_ids else []

        return read

    @abc.abstractmethod
    def replace_object_permissions(
        self, object_id: str, permissions: Mapping[str, Iterable[str]]
    ) -> Mapping[str, Iterable[str]] | None:
        """Replace, for each permission named in ``permissions``, the set of
        principals granted it on ``object_id`` by the one given.

        Permissions not named are left alone; an empty iterable revokes the
        permission from everyone; duplicates count once. The whole replacement
        is atomic. Returns ``permissions`` (Kinto's backends return it or
        ``None``; callers must not rely on the value).
        """

    @abc.abstractmethod
    def delete_object_permissions(self, *object_id_list: str) -> None:
        """Delete every access control entry of the objects whose id matches
        one of ``object_id_list``; ``*`` matches any run of characters,
        ``/`` included (``/buckets/b1*`` removes the bucket and everything
        below it). No argument is a no-op. User principals are untouched."""

    def export_user_principals(self) -> list[tuple[str, str]]:
        """Return every ``(user_id, principal)`` pair held, ``system.Authenticated``'s included.

        The read half of copying a store, with
        :meth:`export_access_control_entries`. The default raises
        ``NotImplementedError`` (``supports_copy`` false).
        """
        raise NotImplementedError(f"{type(self).__qualname__} does not support copying (supports_copy = False)")

    def export_access_control_entries(
        self, after: tuple[str, str, str] | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str]]:
        """Return ``(object_id, permission, principal)`` entries, at most ``limit``, one page at a time.

        Entries come in an order of the backend's choosing that is the same on
        every call; ``after`` is the last entry of the previous page (``None``
        for the first), so that paging through returns every entry once while
        nothing writes. An empty list means no more. The default raises
        ``NotImplementedError`` (``supports_copy`` false).
        """
        raise NotImplementedError(f"{type(self).__qualname__} does not support copying (supports_copy = False)")

    def import_permissions(
        self,
        user_principals: Iterable[tuple[str, str]] = (),
        access_control_entries: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        """Add ``(user_id, principal)`` pairs and ``(object_id, permission, principal)`` entries.

        The write half of copying a store. What is already held stays (a pair or
        entry held already is a no-op); all or nothing. Strings are taken
        literally (no pattern). The default raises ``NotImplementedError``
        (``supports_copy`` false).
        """
        raise NotImplementedError(f"{type(self).__qualname__} does not support copying (supports_copy = False)")

    def heartbeat(self) -> bool:
        """Return True when the backend answers a write and a read.

        The default adds and removes a principal of a reserved user; backends
        may override with a cheaper ping. Must not raise: failures return False.
        """
        try:
            self.add_user_principal(_HEARTBEAT_USER, "alive")
            alive = "alive" in self.get_user_principals(_HEARTBEAT_USER)
            self.remove_user_principal(_HEARTBEAT_USER, "alive")
        except Exception:  # a heartbeat reports failures, it never raises
            return False
        return alive
