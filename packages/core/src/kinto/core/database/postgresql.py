"""PostgreSQL client: psycopg 3 with a connection pool and per-context transactions."""

from __future__ import annotations

import contextvars
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kinto.core import jsontext
from kinto.core.database import registry_clients
from kinto.core.database.client import SQLClient
from kinto.core.database.schema import read_version
from kinto.core.settings import client_setting, read_setting
from kinto.core.storage.exceptions import BackendError

try:
    import psycopg
    import psycopg_pool
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]
    psycopg_pool = None  # type: ignore[assignment]

__all__ = [
    "DeferringConnection",
    "PostgreSQLClient",
    "client_from_config",
    "execute_later",
    "mask_password",
    "metadata_values",
    "normalize_url",
    "pipelined",
    "set_metadata",
    "table_columns",
    "text_array",
]

logger = logging.getLogger(__name__)

_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE, without importing psycopg where it is missing

_DRIVER_SUFFIX = re.compile(r"^(postgres(?:ql)?)\+[a-z0-9_]+://")


def normalize_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs written for Kinto (``postgresql+psycopg2://``)."""
    url = _DRIVER_SUFFIX.sub(r"\1://", url)
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url


def mask_password(url: str) -> str:
    """Hide the password of a URL, for logs and error messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _configure(connection: Any) -> None:
    """Each pooled connection reads json and jsonb with ``jsontext.loads``: the same values as psycopg's
    default ``json.loads``, in a third of the time (a page of 100 records: 0.45 -> 0.3 ms of CPU).
    Text results, the ones psycopg asks for, go to it straight from the driver's buffer
    (``_JsonText``): psycopg's own loader copies each value into bytes first."""
    psycopg.types.json.set_json_loads(jsontext.loads, connection)
    for name in ("json", "jsonb"):
        connection.adapters.register_loader(name, _JsonText)
    # A prepared statement is planned once, for any value. PostgreSQL's default would plan again at
    # every execution any statement whose plan for its values looks cheaper than the plan for any
    # value: the read ahead of every request (principals, ACLs, objects, timestamps by key) was,
    # planning costing PostgreSQL twice the CPU of running it (a GET: 800 -> 375 us of PostgreSQL CPU).
    # Statements whose plan depends on their values (listings) carry them as literals instead:
    # see ``kinto.core.storage.postgresql.Storage._execute_planned``.
    try:
        connection.execute("SET plan_cache_mode = force_generic_plan")
    except psycopg.Error:  # before PostgreSQL 12: no such setting, every statement planned as before
        logger.warning("plan_cache_mode is not supported by this PostgreSQL server", exc_info=True)


if psycopg is not None:

    class _JsonText(psycopg.adapt.Loader):
        """A json or jsonb value in text format, read by ``jsontext.loads_buffer`` (called directly:
        psycopg calls ``load`` once per value, and a method's frame cost as much as the check for long
        digit runs)."""

        load = staticmethod(jsontext.loads_buffer)


class PostgreSQLClient(SQLClient):
    """A pool of psycopg connections and the transaction bound to the current context."""

    driver_error = psycopg.Error if psycopg is not None else Exception
    context_name = "kinto_postgresql_transaction"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        statement_timeout_ms: int | None = None,
    ) -> None:
        if psycopg is None:
            raise ImportError("PostgreSQL backends need psycopg: pip install 'kinto-core[postgresql]'")
        super().__init__()
        self.url = normalize_url(url)
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        options = f"-c statement_timeout={int(statement_timeout_ms)}" if statement_timeout_ms else None
        connection_kwargs: dict[str, Any] = {"connect_timeout": max(1, int(connect_timeout)), "autocommit": True}
        if options:
            connection_kwargs["options"] = options
        self._connection_kwargs = connection_kwargs
        self._pool: Any = None
        self._pool_lock = threading.Lock()
        self._combining: contextvars.ContextVar[_Combined | None] = contextvars.ContextVar(
            f"kinto_postgresql_combined_{id(self)}", default=None
        )

    def __repr__(self) -> str:
        return f"<PostgreSQLClient {mask_password(self.url)}>"

    def _get_pool(self) -> Any:
        # Opened lazily: an application starts even while its database is down,
        # and answers 503 (heartbeat False) until it is back.
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    pool = psycopg_pool.ConnectionPool(
                        self.url,
                        min_size=1,
                        max_size=max(1, self.pool_size),
                        timeout=self.pool_timeout,
                        kwargs=self._connection_kwargs,
                        open=False,
                        name=f"kinto-{id(self)}",
                        configure=_configure,
                    )
                    pool.open(wait=False)
                    self._pool = pool
        return self._pool

    def _checkout(self) -> Any:
        try:
            return self._get_pool().getconn()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            raise BackendError(error, f"PostgreSQL unavailable at {mask_password(self.url)}: {error}") from error

    def _checkin(self, connection: Any) -> None:
        try:
            self._get_pool().putconn(connection)
        except Exception:  # the pool discards broken connections itself
            logger.debug("Could not return a connection to the pool", exc_info=True)

    @contextmanager
    def _session(self, write: bool) -> Iterator[Any]:
        # Pooled connections stay in autocommit (psycopg's setter is a wait of its own, twice per
        # checkout when toggled): a write's DeferringConnection sends BEGIN and COMMIT itself, a
        # read runs statement by statement (see ``_reading``).
        connection = self._checkout()
        try:
            yield DeferringConnection(connection) if write else connection
        finally:
            self._release(connection)

    @staticmethod
    def _end(connection: Any, commit: bool) -> None:
        if connection.autocommit and connection.pgconn.transaction_status == _IDLE:
            return  # a read, statement by statement: nothing to end
        try:
            if commit:
                connection.commit()
            else:
                connection.rollback()
        except psycopg.Error as error:
            if not commit:
                logger.warning("Rollback failed", exc_info=True)
                return
            raise BackendError(error) from error

    @staticmethod
    def _reading(connection: Any) -> None:
        """Nothing to prepare: a read runs each statement on its own (the connection is in autocommit).

        Under READ COMMITTED (PostgreSQL's default) every statement takes a fresh snapshot anyway,
        and BEGIN and COMMIT would cost two more round trips per request. A write slipped into a
        read (an empty collection's first timestamp) is one statement, atomic by itself.
        """

    def _savepoint_statement(self, state: Any, statement: str) -> None:
        if isinstance(state.connection, DeferringConnection):
            state.connection.defer_savepoint(statement)
            return
        super()._savepoint_statement(state, statement)

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        """Inside a ``transaction()``: the statements of the block travel together (in a write
        transaction, after what its ``DeferringConnection`` holds back), sent in one round trip when
        it ends; rows read after the block cost nothing more. Elsewhere (no transaction, an outer
        pipeline) the block simply runs."""
        state = self._current.get()
        if state is None or pipelined(state.connection):
            yield
            return
        try:
            with state.connection.pipeline():
                yield
        except psycopg.Error as error:
            state.failed = error
            raise BackendError(error) from error

    @contextmanager
    def combined(self) -> Iterator[None]:
        """The statements the block gives ``fetch_later`` are read by one statement when it ends.

        Each becomes a subquery aggregated as JSON (``json_agg``), one column of a single row: one
        round trip, and one statement's cost in psycopg, where a pipeline of three costs twice the
        CPU (0.12 against 0.21 ms for a read's principals, ACLs and parent). Their rows come back as
        tuples of JSON values: strings, numbers (integers exact), booleans, None, and ``jsonb``
        columns as dicts and lists; each statement must name its columns distinctly. Nested, or
        when the block raises, it reads nothing more than the block did.
        """
        if self._combining.get() is not None:
            yield
            return
        batch = _Combined()
        token = self._combining.set(batch)
        try:
            yield
        finally:
            self._combining.reset(token)
        if batch.statements:
            batch.read(self)

    def fetch_later(self, statements: Sequence[tuple[str, Sequence[Any] | None]]) -> Callable[[], list[list[Any]]]:
        """Send ``statements`` and return a callable giving each one's rows (``None``: a statement
        without parameters, sent as written).

        Inside ``combined()`` they are read with the block's others, in one statement, when it ends.
        Inside ``pipeline()`` the rows are read when the callable is called, after the block;
        elsewhere the statements travel together in one round trip of their own (in a write
        transaction, with what its ``DeferringConnection`` holds back, BEGIN first).
        """
        batch = self._combining.get()
        if batch is not None:
            return batch.add(statements)
        with self.connect(readonly=True) as connection:
            if not pipelined(connection):
                with connection.pipeline():
                    cursors = [connection.execute(sql, params) for sql, params in statements]
                rows = [cursor.fetchall() for cursor in cursors]
                return lambda: rows
            cursors = [connection.execute(sql, params) for sql, params in statements]

        def read() -> list[list[Any]]:
            try:
                return [cursor.fetchall() for cursor in cursors]
            except psycopg.Error as error:
                raise BackendError(error) from error

        return read

    def _release(self, connection: Any) -> None:
        """Back to the pool in the mode every checkout expects (autocommit)."""
        if not connection.autocommit:
            try:
                connection.autocommit = True
            except psycopg.Error:  # broken, or in a transaction: the pool discards or rolls it back
                logger.debug("Could not return to autocommit", exc_info=True)
        self._checkin(connection)

    # --- the schema's version (see kinto.core.database.schema) ------------------------------------

    def schema_version(self, connection: Any, key: str) -> int:
        """The version in the ``metadata`` row ``key`` (0: none); ValueError when unreadable or not our table."""
        return read_version(key, metadata_values(connection, key))

    def record_schema_version(self, connection: Any, key: str, version: int) -> None:
        set_metadata(connection, key, str(version))

    def lock_schema(self, connection: Any, name: str) -> None:
        """Make a concurrent migration wait for this transaction's end."""
        connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))

    def close(self) -> None:
        """Close every pooled connection; the client reopens a pool if used again."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


#: The longest statement sent as text with what waits before it (``DeferringConnection.execute``):
#: PostgreSQL plans a script's statements each time, which costs it little for a lookup by key
#: and more than the pipeline saves for a write's data-modifying CTE (prepared, once planned).
_SCRIPTED_STATEMENT_SIZE = 400


class DeferringConnection:
    """A write transaction's connection whose statements without an awaited answer travel with the next one.

    BEGIN, SAVEPOINT and RELEASE, the collection's lock and ACL writes (``execute_later``)
    wait in ``pending`` and are pipelined with the next statement whose rows are read,
    or with COMMIT: one round trip instead of one each. A savepoint released before any
    statement ran inside it is never sent. An error of a deferred statement is raised by
    the statement it travels with (or by COMMIT), which condemns the transaction as its
    own error would. ``pipeline()`` sends what is pending with the block's statements, any
    other use of the connection (``cursor()``...) sends it first.
    """

    def __init__(self, connection: Any) -> None:
        self.raw = connection
        self.pending: list[tuple[str, Any]] = []
        self._begin_pending = True  # BEGIN goes with the first statement sent
        self._in_transaction = False
        self._elided: set[str] = set()

    @property
    def autocommit(self) -> bool:
        return not (self._begin_pending or self._in_transaction)

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        # CREATE INDEX CONCURRENTLY asks for a connection outside any transaction.
        if self._in_transaction:
            raise psycopg.ProgrammingError("can't change autocommit now: connection in a transaction")
        self._flush()
        self._begin_pending = not value

    @property
    def pgconn(self) -> Any:
        """The libpq connection, for its status (``pipelined``): reading it sends nothing."""
        return self.raw.pgconn

    def defer(self, statement: str, params: Any = None) -> None:
        self.pending.append((statement, params))

    def defer_savepoint(self, statement: str) -> None:
        """``SAVEPOINT x``, ``ROLLBACK TO SAVEPOINT x`` or ``RELEASE SAVEPOINT x``, elided when nothing ran since ``SAVEPOINT x``."""
        name = statement.rsplit(" ", 1)[-1]
        if name in self._elided:
            if statement.startswith("RELEASE"):
                self._elided.discard(name)
            return
        if not statement.startswith("SAVEPOINT") and self.pending and self.pending[-1] == (f"SAVEPOINT {name}", None):
            self.pending.pop()
            if statement.startswith("ROLLBACK"):
                self._elided.add(name)
            return
        self.defer(statement)

    def _take_pending(self) -> list[tuple[str, Any]]:
        pending, self.pending = self.pending, []
        if self._begin_pending:
            self._begin_pending, self._in_transaction = False, True
            pending.insert(0, ("BEGIN", None))
        return pending

    @contextmanager
    def _together(self, pending: list[tuple[str, Any]]) -> Iterator[None]:
        """Send ``pending``, then the block's statements, in one pipeline: the block's own
        (``pipeline()``) or the one already open, which must not nest (psycopg syncs a nested
        pipeline on entry and exit, a round trip each)."""
        if pipelined(self.raw):
            for deferred, deferred_params in pending:
                self.raw.execute(deferred, deferred_params)
            yield
            return
        with self.raw.pipeline():
            for deferred, deferred_params in pending:
                self.raw.execute(deferred, deferred_params)
            yield

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        """What is pending, then the block's statements, sent together when the block ends (their
        rows are read after it)."""
        with self._together(self._take_pending()):
            yield

    def execute(self, statement: Any, params: Any = None, **options: Any) -> Any:
        pending = self._take_pending()
        if not pending:
            return self.raw.execute(statement, params, **options)
        if not options and len(statement) <= _SCRIPTED_STATEMENT_SIZE and not pipelined(self.raw):
            cursor = self._send_script([*pending, (statement, params)])
            while cursor.nextset():
                pass  # to the statement's own rows, the last
            return cursor
        with self._together(pending):
            return self.raw.execute(statement, params, **options)

    def execute_before_begin(self, statement: Any, params: Any = None) -> Any:
        """Run a read on its own (prepared, in autocommit) while nothing of the transaction was
        sent nor is waiting: BEGIN then travels with the next statement instead.

        A write's reads ahead (principals, ACLs, parents) lose nothing by running before BEGIN:
        under READ COMMITTED each statement takes a snapshot of its own anyway. They save
        psycopg's pipeline, which costs more CPU than the statement it carries. Once the
        transaction has begun, or has statements waiting, the read joins it (``execute``).
        """
        if self.pending or self._in_transaction:
            return self.execute(statement, params)
        return self.raw.execute(statement, params)

    def _flush(self, *, commit: bool = False) -> None:
        if not self.pending and not commit:
            return
        pending = self._take_pending()
        if commit:
            pending.append(("COMMIT", None))
        if pipelined(self.raw):
            with self._together(pending):
                pass
            return
        self._send_script(pending)

    def _send_script(self, statements: list[tuple[str, Any]]) -> Any:
        """Send statements whose rows nobody reads as one simple query, their parameters bound
        here: half the client CPU of the same statements pipelined (an ACL write and COMMIT: 120
        instead of 220 µs), in the same single round trip. PostgreSQL runs them in order and stops
        at the first error, which is raised here."""
        cursor = psycopg.ClientCursor(self.raw)
        script = "; ".join(sql if params is None else cursor.mogrify(sql, params) for sql, params in statements)
        cursor.execute(script)
        return cursor

    def commit(self) -> None:
        if self._in_transaction or self.pending:
            self._flush(commit=True)
        self._in_transaction, self._begin_pending = False, True

    def rollback(self) -> None:
        self.pending = []
        self._elided.clear()
        in_transaction, self._in_transaction, self._begin_pending = self._in_transaction, False, True
        if in_transaction:
            self.raw.execute("ROLLBACK")

    def __getattr__(self, name: str) -> Any:
        self._flush()
        return getattr(self.raw, name)


_PLACEHOLDER = re.compile(r"%\((?P<name>[^)]+)\)s|%%|%s")


def _positional(sql: str, params: Any) -> tuple[str, list[Any]]:
    """``sql`` with ``%s`` placeholders only, and its parameters in their order.

    A statement without parameters (``None``) is text to send as is: its ``%`` (a literal's, a
    ``LIKE`` pattern's) are doubled, since it joins statements that take parameters."""
    if params is None:
        return sql.replace("%", "%%"), []
    if not isinstance(params, dict):
        return sql, list(params)
    values: list[Any] = []

    def positional(match: re.Match[str]) -> str:
        if match.group("name") is None:
            return match.group(0)
        values.append(params[match.group("name")])
        return "%s"

    return _PLACEHOLDER.sub(positional, sql), values


class _Combined:
    """The statements of a ``PostgreSQLClient.combined()`` block, then their rows."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.rows: list[list[tuple[Any, ...]]] | None = None

    def add(self, statements: Sequence[tuple[str, Any]]) -> Callable[[], list[list[Any]]]:
        start = len(self.statements)
        self.statements.extend(statements)

        def rows() -> list[list[Any]]:
            if self.rows is None:
                raise RuntimeError("Rows of a combined() block are read once the block has ended")
            return self.rows[start : start + len(statements)]

        return rows

    def read(self, client: PostgreSQLClient) -> None:
        columns, params = [], []
        for sql, statement_params in self.statements:
            text, values = _positional(sql, statement_params)
            columns.append(f"(SELECT COALESCE(json_agg(s), '[]') FROM ({text}) AS s)")
            params.extend(values)
        with client.connect(readonly=True) as connection:
            # Reads, all of them: in a write transaction not begun yet, they go before its BEGIN.
            execute = getattr(connection, "execute_before_begin", connection.execute)
            row = execute("SELECT " + ", ".join(columns), params).fetchone()
        self.rows = [[tuple(item.values()) for item in column] for column in row]


def text_array(values: Iterable[Any]) -> str:
    """PostgreSQL's text form of an array of strings or integers (``{"a","b\\"c"}``), for a
    parameter the statement casts (``%s::text[]``, ``%s::bigint[]``).

    psycopg adapts a list in Python, element by element: four lists of two URIs took 40 µs of a
    100 µs statement, and 100,000 ids shared one by one ten times what this string takes.
    """
    quoted = ('"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


def pipelined(connection: Any) -> bool:
    """Whether ``connection`` is in a psycopg pipeline (its statements' rows come at the next sync)."""
    return bool(connection.pgconn.pipeline_status)


def execute_later(connection: Any, statement: str, params: Any = None) -> None:
    """Run ``statement`` (its rows unread) with the next one of a write transaction, or now elsewhere."""
    if isinstance(connection, DeferringConnection):
        connection.defer(statement, params)
    else:
        connection.execute(statement, params)


def client_from_config(config: Any, prefix: str) -> PostgreSQLClient:
    """The client for ``settings[prefix + "_url"]``, shared per URL through the registry.

    Reads ``{prefix}_url``, ``{prefix}_pool_size``, ``{prefix}_pool_timeout``,
    ``{prefix}_connect_timeout`` and ``{prefix}_statement_timeout_ms``.
    """
    settings = config.get_settings()
    url = read_setting(settings, f"{prefix}_url")
    if not url:
        raise ValueError(f"Setting kinto.{prefix}_url is required for a PostgreSQL backend")
    url = normalize_url(str(url))
    clients = registry_clients(config)
    key = ("postgresql", url)
    client = clients.get(key)
    if client is None:
        client = PostgreSQLClient(
            url,
            pool_size=client_setting(settings, prefix, "pool_size"),
            pool_timeout=client_setting(settings, prefix, "pool_timeout"),
            connect_timeout=client_setting(settings, prefix, "connect_timeout"),
            statement_timeout_ms=client_setting(settings, prefix, "statement_timeout_ms") or None,
        )
        clients[key] = client
    return client


# --- schema inspection, shared by the backends' migrations ------------------------------------------


def table_columns(connection: Any, tables: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{table: {column: type}}`` for those of ``tables`` that exist in the current schema.

    Types are PostgreSQL's names as ``information_schema`` spells them (``text``,
    ``bigint``, ``timestamp without time zone``...).
    """
    rows = connection.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ANY(%s)",
        (list(tables),),
    ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        found.setdefault(table, {})[column] = data_type
    return found


def metadata_values(connection: Any, name: str) -> list[str]:
    """Every value of the ``metadata`` rows named ``name`` (Kinto adds one row per migration); [] without the table.

    Raises ValueError when a ``metadata`` table of another shape (another application's) is there.
    """
    exists = connection.execute("SELECT to_regclass('metadata') IS NOT NULL").fetchone()[0]
    if not exists:
        return []
    columns = table_columns(connection, ["metadata"]).get("metadata", {})
    if not {"name", "value"} <= columns.keys():
        found = ", ".join(f"{column} {kind}" for column, kind in sorted(columns.items()))
        raise ValueError(f"table metadata has columns ({found}), not (name, value): another application's table")
    rows = connection.execute("SELECT value FROM metadata WHERE name = %s", (name,)).fetchall()
    return [value for (value,) in rows]


def set_metadata(connection: Any, name: str, value: str | None) -> None:
    """Make ``value`` the only ``metadata`` row named ``name`` (none when ``value`` is None)."""
    connection.execute("CREATE TABLE IF NOT EXISTS metadata (name VARCHAR(128) NOT NULL, value VARCHAR(512) NOT NULL)")
    connection.execute("DELETE FROM metadata WHERE name = %s", (name,))
    if value is not None:
        connection.execute("INSERT INTO metadata (name, value) VALUES (%s, %s)", (name, value))
