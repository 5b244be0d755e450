"""What the SQLite and PostgreSQL clients share: the transaction of the current context, its
savepoints, and ``transaction()``/``connect()`` written once over three driver hooks
(``_session``, ``_end``, ``_reading``).

Each client keeps the transaction open in the current execution context (thread or asyncio
task) in a :class:`contextvars.ContextVar`; see :mod:`kinto.core.database` for the semantics
of ``transaction()``, ``savepoint()`` and ``connect()``.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar

from kinto.core.storage.exceptions import BackendError

__all__ = ["SQLClient", "Transaction"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Transaction:
    """The transaction open in one context: its connection, and the error that condemned it, if any."""

    connection: Any
    write: bool
    failed: BaseException | None = None
    savepoints: int = 0


class SQLClient:
    """The part of a client that does not depend on the driver (``driver_error``: what its statements raise)."""

    driver_error: type[BaseException] = Exception
    #: A name for the context variable, unique per client with its id.
    context_name: ClassVar[str] = "kinto_sql_transaction"

    def __init__(self) -> None:
        self._current: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
            f"{self.context_name}_{id(self)}", default=None
        )

    def answers(self, statement: str) -> bool:
        """Whether the database runs ``statement`` (a heartbeat's probe); never raises."""
        try:
            with self.connect(readonly=True) as connection:
                connection.execute(statement).fetchall()
        except Exception:  # a heartbeat reports failures, it never raises
            return False
        return True

    def in_transaction(self) -> bool:
        """Whether a ``transaction()`` is open in the current context."""
        return self._current.get() is not None

    # --- what a driver's client provides ----------------------------------------------------------

    def _session(self, write: bool) -> AbstractContextManager[Any]:
        """A connection in a transaction of its own for the block (``write``: one that may write);
        ``_end`` closes that transaction, the block's exit gives the connection back."""
        raise NotImplementedError

    def _end(self, connection: Any, commit: bool) -> None:
        """Commit (a driver error becomes ``BackendError``) or roll back (a failure is only logged)."""
        raise NotImplementedError

    def _reading(self, connection: Any) -> None:
        """Prepare the connection of a read-only ``transaction()`` (nothing by default)."""

    # --- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[None]:
        """Run the block in one transaction shared by every ``connect()`` of this context."""
        if self._current.get() is not None:
            yield
            return
        with self._session(write) as connection:
            if not write:
                self._reading(connection)
            state = Transaction(connection=connection, write=write)
            token = self._current.set(state)
            try:
                yield
            except BaseException:
                self._current.reset(token)
                self._end(connection, commit=False)
                raise
            self._current.reset(token)
            if state.failed is not None:
                # A statement failed and somebody swallowed the error: the transaction
                # is aborted (PostgreSQL), committing would silently lose writes.
                self._end(connection, commit=False)
                raise BackendError(state.failed, f"Transaction rolled back after an error: {state.failed}")
            self._end(connection, commit=True)

    @contextmanager
    def connect(self, *, readonly: bool = False) -> Iterator[Any]:
        """Yield a connection: the current transaction's, or one in a transaction of its own."""
        state = self._current.get()
        if state is not None:
            with self._joined(state) as connection:
                yield connection
            return
        with self._session(not readonly) as connection:
            try:
                yield connection
            except self.driver_error as error:
                self._end(connection, commit=False)
                raise BackendError(error) from error
            except BaseException:
                self._end(connection, commit=False)
                raise
            self._end(connection, commit=True)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a write transaction, undo the block's statements (only them) when an exception leaves it.

        The transaction goes on: a statement that failed inside the block (an aborted
        transaction, for PostgreSQL) is forgiven once rolled back to the savepoint. A
        savepoint that cannot be rolled back condemns the whole transaction instead.
        Outside a write transaction (reads may run statement by statement) the block
        simply runs.
        """
        state = self._current.get()
        if state is None or not state.write:
            yield
            return
        state.savepoints += 1
        name = f"kinto_savepoint_{state.savepoints}"
        failed_before = state.failed
        self._savepoint_statement(state, f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            try:
                self._savepoint_statement(state, f"ROLLBACK TO SAVEPOINT {name}")
                self._savepoint_statement(state, f"RELEASE SAVEPOINT {name}")
                state.failed = failed_before
            except BackendError:
                logger.warning("Rollback to a savepoint failed: the transaction will roll back", exc_info=True)
            raise
        self._savepoint_statement(state, f"RELEASE SAVEPOINT {name}")

    def _savepoint_statement(self, state: Transaction, statement: str) -> None:
        try:
            state.connection.execute(statement)
        except self.driver_error as error:
            state.failed = error
            raise BackendError(error) from error

    @contextmanager
    def _joined(self, state: Transaction) -> Iterator[Any]:
        """The current transaction's connection; a driver error condemns the transaction."""
        try:
            yield state.connection
        except self.driver_error as error:
            state.failed = error
            raise BackendError(error) from error
