"""The unit of work: one connection and one transaction per use case.

A service method opens a unit, uses the repositories it exposes, and commits;
leaving the block without a commit rolls everything back. Repositories never
commit: they run inside the caller's transaction, so a read, the decision taken
on it and the write that follows are one atomic step. Reading a service method
shows where each transaction begins (`with self._unit(write=True) as uow:`) and
ends (`uow.commit()`, or the end of the block).

    class SongService:
        def like(self, song_id, caller):
            with self._unit(write=True) as uow:
                count = uow.likes.like(caller.user_id, song_id)
                uow.commit()
            return count

Each service declares a unit with the repositories it needs (a subclass here for
SQL, one over `MemoryDatabase` for the fakes); both honour the same protocol.
A transaction that lost a race the database could not queue (a deadlock victim,
a serialization failure) is re-run whole by `run_unit`, a bounded number of
times, before it becomes the documented 503. Races the database can queue are
queued: a unit that reads in order to decide locks what it read (`locked`).
"""

from __future__ import annotations

import copy
import logging
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from sqlalchemy import Connection, Select, Table
from sqlalchemy.exc import DataError, DBAPIError

from database.engine import Database, off_event_loop
from database.memory import MemoryDatabase

logger = logging.getLogger(__name__)

R = TypeVar("R")

# A re-run almost always wins: the rival transaction has committed by then.
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.005

# SQLSTATEs of deadlock victims and serialization failures (PostgreSQL, SQL
# Server through ODBC), and MySQL/MariaDB's own codes: lock wait timeout,
# deadlock. The server is fine; the transaction just lost a race.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
RETRYABLE_MYSQL_CODES = frozenset({1205, 1213})
# Set on an error of a COMMIT whose connection broke: whether it took effect is unknown.
COMMIT_OUTCOME_UNKNOWN = "commit_outcome_unknown"


class UnitOfWork(Protocol):
    """What every service's unit offers besides its repositories."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make the unit's writes durable and visible; without it they are undone."""
        ...


def _sqlstate(exc: DBAPIError) -> object:
    """The driver's SQLSTATE (PostgreSQL, SQL Server) or MySQL error number."""
    original = exc.orig
    return getattr(original, "sqlstate", None) or (
        original.args[0] if original is not None and original.args else None
    )


def is_retryable(exc: BaseException) -> bool:
    """True for errors that re-running the whole unit of work resolves."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = _sqlstate(exc)
    return sqlstate in RETRYABLE_SQLSTATES or sqlstate in RETRYABLE_MYSQL_CODES


def is_refused_value(exc: BaseException) -> bool:
    """True when the database refused a value (SQLSTATE class 22, "data
    exception"): the client's input, not the server's fault. psycopg and
    pymysql raise DataError for it; SQLAlchemy's asyncpg adapter a plain DBAPIError
    that carries the SQLSTATE (asyncpg's own "value out of int64 range" as 22000)."""
    if isinstance(exc, DataError):
        return True
    sqlstate = _sqlstate(exc) if isinstance(exc, DBAPIError) else None
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


class RerunUnit(Exception):  # noqa: N818 - a request, not a failure
    """Raised inside a unit whose reads were overtaken before it could lock what
    it needs in a deadlock-free order: `run_unit` rolls it back and runs the use
    case again, as it does for a deadlock victim."""


def is_rerunnable(exc: BaseException) -> bool:
    """True when running the whole use case again is the answer: a lost race or a
    pooled connection found dead before anything was committed."""
    return isinstance(exc, RerunUnit) or is_retryable(exc) or is_stale_connection(exc)


def is_stale_connection(exc: BaseException) -> bool:
    """True when a pooled connection turned out dead (the server restarted or
    dropped it) before its unit began to commit: nothing of the unit was applied,
    so running it again on a new connection is safe. A connection lost during
    COMMIT leaves the outcome unknown, and is not re-run."""
    return (
        isinstance(exc, DBAPIError)
        and exc.connection_invalidated
        and not getattr(exc, COMMIT_OUTCOME_UNKNOWN, False)
    )


def run_read(use_case: Callable[[], R]) -> R:
    """Call `use_case`, a read, once more when its pooled connection was dead:
    without a pre-ping per checkout, that is how a restart of the database
    server is noticed (database.engine)."""
    try:
        return use_case()
    except DBAPIError as exc:
        if not is_stale_connection(exc):
            raise
    return use_case()


def run_unit(use_case: Callable[[], R], *, attempts: int = MAX_ATTEMPTS) -> R:
    """Call `use_case` (a service method that opens its own unit of work) and
    re-run it when it lost a race or met a dead pooled connection, at most
    `attempts` times in all, with a short random back-off. The last failure
    propagates, and the error handlers turn it into the documented 503 with
    `Retry-After`."""
    for attempt in range(1, attempts + 1):
        try:
            return use_case()
        except Exception as exc:
            if attempt == attempts or not is_rerunnable(exc):
                raise
            logger.info("unit of work lost a race (attempt %d): %s", attempt, exc)
            off_event_loop(time.sleep, random.uniform(0, BACKOFF_SECONDS * attempt))  # noqa: S311
    raise AssertionError("unreachable")


class SqlUnitOfWork:
    """One pooled connection and one transaction. Subclasses build their
    repositories on the connection in `bind`.

    `write=True` asks for a connection that may write: on SQLite its transaction
    begins with BEGIN IMMEDIATE, so writers queue up front instead of failing
    midway; on the servers it is the same pool."""

    def __init__(self, database: Database, *, write: bool = False) -> None:
        self._database = database
        self._write = write
        self._context: Any = None
        self.connection: Connection

    def bind(self, connection: Connection) -> None:
        """Build the unit's repositories on `connection`."""

    def __enter__(self) -> Self:
        self._context = self._database.connect(write=self._write)
        self.connection = self._context.__enter__()
        self.bind(self.connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Closing the connection rolls back whatever was not committed.
        context, self._context = self._context, None
        context.__exit__(exc_type, exc, traceback)

    def commit(self) -> None:
        try:
            self.connection.commit()
        except DBAPIError as exc:
            # The server may have applied the COMMIT before the connection broke.
            setattr(exc, COMMIT_OUTCOME_UNKNOWN, exc.connection_invalidated)
            raise


class MemoryUnitOfWork:
    """The fakes' unit: it holds the store's lock for its whole length, so units
    never interleave, and a unit left without a commit puts every table back as
    it found them, as a rolled-back transaction would."""

    def __init__(self, db: MemoryDatabase, *, write: bool = False) -> None:
        self._db = db
        self._write = write
        self._snapshot: dict[str, Any] | None = None

    def bind(self, db: MemoryDatabase) -> None:
        """Build the unit's repositories on the store."""

    def __enter__(self) -> Self:
        self._db.lock.acquire()
        if self._write:
            self._snapshot = copy.deepcopy(self._db.tables())
        self.bind(self._db)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._snapshot is not None:
                self._db.restore(self._snapshot)
        finally:
            self._snapshot = None
            self._db.lock.release()

    def commit(self) -> None:
        if self._write:
            self._snapshot = copy.deepcopy(self._db.tables())


def locked(statement: Select[Any], table: Table) -> Select[Any]:
    """`statement` taking a write lock on the rows it reads, until the unit ends:
    FOR UPDATE on PostgreSQL and MariaDB, WITH (UPDLOCK, ROWLOCK) on SQL Server
    (which has no FOR UPDATE). SQLite needs neither: a writing unit holds the
    database's one write lock from BEGIN IMMEDIATE on."""
    return statement.with_for_update().with_hint(table, "WITH (UPDLOCK, ROWLOCK)", "mssql")
