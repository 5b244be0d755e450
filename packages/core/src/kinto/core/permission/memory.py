"""The in-process permission backend: the reference implementation of the
permission contract.

Nothing persists and nothing is shared between processes. Write transactions
are serialised by a lock held until they end, and undone from a log of the
entries they changed when they fail; each savepoint keeps a log of its own on
top of the transaction's.
"""

from __future__ import annotations

import bisect
import contextlib
import contextvars
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from kinto.core.permission import AUTHENTICATED_USER, BoundPermission, PermissionBase
from kinto.core.permission.patterns import id_matcher, is_pattern

__all__ = ["Permission", "load_from_config"]

_Key = tuple[str, ...]


class _UndoLog:
    """The entries a transaction changed, as they were before it touched them."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, _Key], set[str] | None] = {}


class _AceTable(dict):
    """``{(object_id, permission): principals}`` that also knows each object's permission names.

    The index keeps reads of one object's permissions (every resource read)
    independent of how many objects the backend holds.
    """

    def __init__(self) -> None:
        super().__init__()
        self.permissions_of: dict[str, set[str]] = {}

    def __setitem__(self, key: _Key, value: set[str]) -> None:
        super().__setitem__(key, value)
        self.permissions_of.setdefault(key[0], set()).add(key[1])

    def __delitem__(self, key: _Key) -> None:
        super().__delitem__(key)
        self._unindex(key)

    def setdefault(self, key: _Key, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: _Key, *default: Any) -> Any:
        if key in self:
            value = super().pop(key)
            self._unindex(key)
            return value
        return super().pop(key, *default)

    def clear(self) -> None:
        super().clear()
        self.permissions_of.clear()

    def _unindex(self, key: _Key) -> None:
        names = self.permissions_of.get(key[0])
        if names is not None:
            names.discard(key[1])
            if not names:
                del self.permissions_of[key[0]]


class Permission(PermissionBase):
    """Principals and access control entries held in dicts of this process."""

    supports_transactions: ClassVar[bool] = True
    supports_savepoints: ClassVar[bool] = True
    supports_copy: ClassVar[bool] = True
    persistent: ClassVar[bool] = False
    embedded: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()
        self._aces = _AceTable()
        self._tables: dict[str, dict[_Key, set[str]]] = {"users": {}, "aces": self._aces}
        # The transaction's log, then one per open savepoint (innermost last).
        self._undo: contextvars.ContextVar[tuple[_UndoLog, ...]] = contextvars.ContextVar(
            f"kinto.permission.memory.{id(self)}", default=()
        )

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[None]:
        if not write or self._undo.get():
            yield  # reads need no isolation here; a nested transaction joins the outer one
            return
        with self._lock:
            yield from self._logged()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        if not self._undo.get():
            yield  # outside a write transaction: nothing to undo
            return
        with self._lock:
            yield from self._logged()

    def _logged(self) -> Iterator[None]:
        """Run the block with one more undo log, replayed if an exception leaves it."""
        log = _UndoLog()
        token = self._undo.set((*self._undo.get(), log))
        try:
            yield
        except BaseException:
            self._roll_back(log)
            raise
        finally:
            self._undo.reset(token)

    def flush(self) -> None:
        with self._lock:
            for table, rows in self._tables.items():
                for key in list(rows):
                    self._save(table, key)
                rows.clear()

    def add_user_principal(self, user_id: str, principal: str) -> None:
        self._add("users", (user_id,), principal)

    def remove_user_principal(self, user_id: str, principal: str) -> None:
        self._discard("users", (user_id,), principal)

    def remove_principal(self, principal: str) -> None:
        with self._lock:
            for key in [key for key, members in self._tables["users"].items() if principal in members]:
                self._discard("users", key, principal)

    def get_user_principals(self, user_id: str) -> set[str]:
        users = self._tables["users"]
        with self._lock:
            return set(users.get((user_id,), ())) | users.get((AUTHENTICATED_USER,), set())

    def add_principal_to_ace(self, object_id: str, permission: str, principal: str) -> None:
        self._add("aces", (object_id, permission), principal)

    def remove_principal_from_ace(self, object_id: str, permission: str, principal: str) -> None:
        self._discard("aces", (object_id, permission), principal)

    def get_object_permission_principals(self, object_id: str, permission: str) -> set[str]:
        with self._lock:
            return set(self._tables["aces"].get((object_id, permission), ()))

    def get_accessible_objects(
        self,
        principals: Iterable[str],
        bound_permissions: Sequence[BoundPermission] | None = None,
        with_children: bool = True,
    ) -> dict[str, set[str]]:
        principals = set(principals)
        if not principals or (bound_permissions is not None and not bound_permissions):
            return {}
        wanted = None
        if bound_permissions is not None:
            wanted = [(id_matcher(pattern, with_children), permission) for pattern, permission in bound_permissions]
        accessible: dict[str, set[str]] = {}
        with self._lock:
            for (object_id, permission), members in self._tables["aces"].items():
                if members.isdisjoint(principals):
                    continue
                if wanted is None or any(perm == permission and match(object_id) for match, perm in wanted):
                    accessible.setdefault(object_id, set()).add(permission)
        return accessible

    def get_authorized_principals(self, bound_permissions: Sequence[BoundPermission]) -> set[str]:
        aces = self._tables["aces"]
        with self._lock:
            return set().union(*(aces.get((object_id, perm), ()) for object_id, perm in bound_permissions))

    def get_objects_permissions(
        self, objects_ids: Sequence[str], permissions: Iterable[str] | None = None
    ) -> list[dict[str, set[str]]]:
        wanted = None if permissions is None else set(permissions)
        aces = self._aces
        result = []
        with self._lock:
            for object_id in objects_ids:
                names = aces.permissions_of.get(object_id, ())
                result.append(
                    {perm: set(aces[(object_id, perm)]) for perm in names if wanted is None or perm in wanted}
                )
        return result

    def replace_object_permissions(
        self, object_id: str, permissions: Mapping[str, Iterable[str]]
    ) -> Mapping[str, Iterable[str]]:
        aces = self._tables["aces"]
        with self._lock:
            for permission, principals in permissions.items():
                key = (object_id, permission)
                self._save("aces", key)
                members = set(principals)
                if members:
                    aces[key] = members
                else:
                    aces.pop(key, None)
        return permissions

    def delete_object_permissions(self, *object_id_list: str) -> None:
        if not object_id_list:
            return
        aces = self._aces
        exact = [object_id for object_id in object_id_list if not is_pattern(object_id)]
        matchers = [id_matcher(pattern) for pattern in object_id_list if is_pattern(pattern)]
        with self._lock:
            keys = [(object_id, perm) for object_id in exact for perm in aces.permissions_of.get(object_id, ())]
            if matchers:
                keys += [key for key in aces if any(match(key[0]) for match in matchers)]
            for key in dict.fromkeys(keys):
                self._save("aces", key)
                del aces[key]

    def export_user_principals(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(
                (key[0], principal) for key, members in self._tables["users"].items() for principal in members
            )

    def export_access_control_entries(
        self, after: tuple[str, str, str] | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str]]:
        with self._lock:
            entries = sorted((*key, principal) for key, members in self._aces.items() for principal in members)
        if after is not None:
            entries = entries[bisect.bisect_right(entries, tuple(after)) :]
        return entries if limit is None else entries[: max(0, limit)]

    def import_permissions(
        self,
        user_principals: Iterable[tuple[str, str]] = (),
        access_control_entries: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        with self.transaction():
            for user_id, principal in user_principals:
                self._add("users", (user_id,), principal)
            for object_id, permission, principal in access_control_entries:
                self._add("aces", (object_id, permission), principal)

    def heartbeat(self) -> bool:
        return True

    # Mutations go through the helpers below, so that the undo log sees them all.

    def _save(self, table: str, key: _Key) -> None:
        # Every open log keeps the entry as it was when that log started: the
        # first change since then is the one to remember.
        current = self._tables[table].get(key)
        for log in self._undo.get():
            if (table, key) not in log.saved:
                log.saved[(table, key)] = None if current is None else set(current)

    def _add(self, table: str, key: _Key, member: str) -> None:
        with self._lock:
            self._save(table, key)
            self._tables[table].setdefault(key, set()).add(member)

    def _discard(self, table: str, key: _Key, member: str) -> None:
        rows = self._tables[table]
        with self._lock:
            members = rows.get(key)
            if members is None or member not in members:
                return
            self._save(table, key)
            members.discard(member)
            if not members:
                del rows[key]

    def _roll_back(self, log: _UndoLog) -> None:
        for (table, key), previous in log.saved.items():
            if previous is None:
                self._tables[table].pop(key, None)
            else:
                self._tables[table][key] = previous


def load_from_config(config: Any) -> Permission:
    """Build the memory permission backend (it reads no setting)."""
    return Permission()
