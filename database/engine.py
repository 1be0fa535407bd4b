"""The process's database: engines built from settings, Core connections for the
repositories' units of work, ORM sessions for scripts and tests.

On PostgreSQL a service runs its use cases on the event loop
(`Database.on_event_loop`): the same synchronous repositories, inside a greenlet
whose connections come from an asyncpg engine, so every round trip awaits on the
loop instead of holding a thread, and the few CPU-heavy steps (bcrypt) leave the
loop through `off_event_loop`. The other databases run them in the threadpool.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util.concurrency import in_greenlet

from database.files import private_file, private_folder, sqlite_sidecars, tighten_file

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

R = TypeVar("R")

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Server pools: connections kept open (database.settings DB_POOL_SIZE). No
# overflow: a connection opened above the pool's size is closed again on its
# return, and under load that is a new server connection per request.
DEFAULT_POOL_SIZE = 10
POOL_TIMEOUT_SECONDS = 10
# The event loop's pool (PostgreSQL): a use case holds a connection only while
# its unit of work runs, and a read for one round trip, so a few keep two cores busy.
DEFAULT_EVENT_LOOP_POOL_SIZE = 10
# PostgreSQL's use cases on the event loop: asyncpg, the fastest asyncio driver.
EVENT_LOOP_DRIVER = "postgresql+asyncpg"
# InnoDB's default REPEATABLE READ takes gap locks on range deletes (expired
# tokens, cleared login failures), and concurrent logins then deadlock on the
# inserts that follow. READ COMMITTED is PostgreSQL's and SQL Server's default
# too, so every server runs the repositories with the same semantics.
SERVER_ISOLATION_LEVEL = "READ COMMITTED"


def _connect_args(url: URL, connect_timeout: int) -> dict[str, Any]:
    backend = url.get_backend_name()
    if backend == "sqlite":
        return {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
    if backend == "postgresql":
        return {"connect_timeout": connect_timeout}
    if backend == "mysql":
        return {"connect_timeout": connect_timeout, "charset": "utf8mb4"}
    if backend == "mssql":
        return {"timeout": connect_timeout}
    return {}


def _configure_sqlite(engine: Engine) -> None:
    """Let several processes write one SQLite file: WAL, a busy timeout, foreign
    keys, and explicit transactions (see `_sqlite_writer`)."""
    path = _sqlite_file(engine.url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 512 KiB of page cache per pooled connection instead of 2 MiB: the OS
        # already caches the file, and each service process pools several.
        cursor.execute("PRAGMA cache_size=-512")
        cursor.close()
        if path is not None:
            # SQLite gives new -wal and -shm files the database's own mode (0600);
            # ones an older version left readable to all are tightened here.
            for sidecar in sqlite_sidecars(path):
                tighten_file(sidecar)

    _begin_with(engine, "BEGIN")


def _begin_with(engine: Engine, statement: str) -> None:
    """Start the engine's transactions with `statement`, straight on the driver.

    The dialect's hook rather than a "begin" event listener: any connection event
    makes SQLAlchemy dispatch events around every statement, which cost a third
    of a point read."""
    engine.dialect.do_begin = (  # type: ignore[method-assign]
        lambda dbapi_connection: dbapi_connection.driver_connection.execute(statement)
    )


def _sqlite_writer(url: URL, connect_timeout: int) -> Engine:
    """An engine of its own for writes, whose transactions begin with BEGIN
    IMMEDIATE: two writers then queue on the write lock up front instead of one
    failing with "database is locked" when it upgrades a read lock mid-way."""
    writer = create_database_engine(url, connect_timeout=connect_timeout)
    _begin_with(writer, "BEGIN IMMEDIATE")
    return writer


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database (or a URI one)."""
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_database_engine(
    url: str | URL, *, connect_timeout: int = 5, pool_size: int | None = None
) -> Engine:
    """An engine for `url`. SQLite: WAL and the file kept private. A server: a pool
    of `pool_size` connections (DEFAULT_POOL_SIZE), no overflow, READ COMMITTED.

    No pre-ping: it would cost every checkout a round trip. A connection the
    server dropped (a restart) fails its first statement instead; SQLAlchemy
    then discards the whole pool, and the use case is run again once on a new
    connection (database.unit_of_work: run_read, run_unit)."""
    url = make_url(url)
    options: dict[str, Any] = {"connect_args": _connect_args(url, connect_timeout)}
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            # Password hashes live here: the folder 0700 when we make it, the file
            # 0600 before SQLite first opens it, whatever the umask.
            private_folder(path.parent)
            private_file(path)
    else:
        options.update(
            pool_size=pool_size or DEFAULT_POOL_SIZE,
            max_overflow=0,
            pool_timeout=POOL_TIMEOUT_SECONDS,
        )
    if url.get_backend_name() == "mysql":
        # InnoDB's default REPEATABLE READ takes gap locks on range deletes (expired
        # tokens, cleared login failures), and concurrent logins then deadlock on
        # the inserts that follow. READ COMMITTED is PostgreSQL's and SQL Server's
        # default too, so every server runs the repositories with the same semantics.
        options["isolation_level"] = "READ COMMITTED"
    engine = create_engine(url, **options)
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _event_loop_engine(url: URL, connect_timeout: int, pool_size: int) -> Engine:
    """The asyncpg engine of the use cases that run on the event loop. asyncpg
    prepares each statement once per connection and keeps it.

    Its connections are in autocommit, as reads want them: a read is one
    statement, and BEGIN and ROLLBACK around it would be two more round trips
    for nothing (under READ COMMITTED each statement reads its own snapshot
    anyway). A writing unit switches its connection to a READ COMMITTED
    transaction (`Database.connect`); the switch is the driver's own state, no
    round trip, and reads, the many, pay none."""
    import asyncpg  # only PostgreSQL needs it

    url = url.set(drivername=EVENT_LOOP_DRIVER)
    args, options = url.get_dialect()().create_connect_args(url)

    async def connect() -> asyncpg.Connection:
        # asyncpg lets a refused or timed-out connect out as OSError, which would
        # be a 500; as the driver's OperationalError it is the documented 503, as
        # with every other driver.
        try:
            return await asyncpg.connect(*args, **options, timeout=connect_timeout)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise engine.dialect.loaded_dbapi.OperationalError(str(exc)) from exc

    # What sqlalchemy.ext.asyncio's create_async_engine builds underneath, without
    # that package: its sessions would load sqlalchemy.orm (~6 MB per process), and
    # the use cases need only the synchronous engine they run in greenlets.
    engine = create_engine(
        url,
        creator=lambda: engine.dialect.loaded_dbapi.connect(async_creator_fn=connect),
        poolclass=AsyncAdaptedQueuePool,
        isolation_level="AUTOCOMMIT",
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_SECONDS,
    )
    return engine


def off_event_loop(blocking: Callable[..., R], *args: Any) -> R:
    """Call `blocking` (CPU work such as bcrypt, or a sleep) from a use case
    without holding up the event loop: in a worker thread, awaited, when the use
    case runs on the loop (`Database.on_event_loop`); right here otherwise (it
    is in a worker thread already, or in a script)."""
    if not in_greenlet():
        return blocking(*args)
    import anyio.to_thread
    from sqlalchemy.util import await_

    return await_(anyio.to_thread.run_sync(blocking, *args))


class Database:
    """Owns the process's engines and hands out connections, and sessions, for
    reads and for writes.

    - SQLite: a second engine on a file for writes (BEGIN IMMEDIATE).
    - PostgreSQL with `event_loop` (services): an asyncpg engine whose
      connections the use cases run by `on_event_loop` get. The URL's own
      driver (psycopg) is loaded only if something connects outside of those
      (scripts, tests, migrations).
    - Every server: `pool_size` connections per pool (DEFAULT_POOL_SIZE; the
      event loop's: `event_loop_pool_size`, DEFAULT_EVENT_LOOP_POOL_SIZE)."""

    def __init__(
        self,
        url: str | URL,
        *,
        connect_timeout: int = 5,
        pool_size: int | None = None,
        event_loop: bool = False,
        event_loop_pool_size: int | None = None,
    ) -> None:
        self.url = make_url(url)
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._event_loop_pool_size = event_loop_pool_size or DEFAULT_EVENT_LOOP_POOL_SIZE
        self.event_loop = event_loop and self.backend == "postgresql"
        self._loop_engine: Engine | None = None
        self._sqlite_writer_lock = threading.Lock() if self.backend == "sqlite" else None

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @functools.cached_property
    def engine(self) -> Engine:
        """The engine of reads (and of writes but on a SQLite file), made on first use."""
        return create_database_engine(
            self.url, connect_timeout=self._connect_timeout, pool_size=self._pool_size
        )

    @functools.cached_property
    def _write_engine(self) -> Engine:
        # An in-memory SQLite database exists once per engine, so it keeps one.
        if self.backend == "sqlite" and _sqlite_file(self.url) is not None:
            return _sqlite_writer(self.url, self._connect_timeout)
        return self.engine

    @functools.cached_property
    def _sessions(self) -> dict[bool, sessionmaker[Session]]:
        # The ORM only for scripts and tests: a service never loads sqlalchemy.orm.
        from sqlalchemy.orm import sessionmaker

        return {
            False: sessionmaker(self.engine, expire_on_commit=False),
            True: sessionmaker(self._write_engine, expire_on_commit=False),
        }

    def session(self, *, write: bool = False) -> Session:
        return self._sessions[write]()

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A pooled Core connection for one unit of work: the transaction begins with
        the first statement (BEGIN IMMEDIATE on SQLite for writes), the caller
        commits, and leaving the block rolls back whatever was not committed and
        returns the connection to the pool.

        Inside `on_event_loop` the connection is the event loop's: a read one
        runs each statement on its own (autocommit, `_event_loop_engine`), a
        writing one in a READ COMMITTED transaction.

        On SQLite a process's writers also take turns on a lock of ours: the
        database allows one writer at a time anyway, and two threads of one
        process contending for its lock would fall into SQLite's busy handler,
        which sleeps for milliseconds at a time."""
        if self._loop_engine is not None and in_greenlet():
            with self._loop_engine.connect() as connection:
                if write:
                    connection.execution_options(isolation_level=SERVER_ISOLATION_LEVEL)
                yield connection
            return
        if write and self._sqlite_writer_lock is not None:
            with self._sqlite_writer_lock, self._write_engine.connect() as connection:
                yield connection
            return
        with (self._write_engine if write else self.engine).connect() as connection:
            yield connection

    async def start_event_loop(self) -> None:
        """Open the event loop's engine, if this database runs use cases there.
        Called from the running loop (a service's lifespan): asyncpg connections
        belong to the loop that opened them."""
        if self.event_loop and self._loop_engine is None:
            self._loop_engine = _event_loop_engine(
                self.url, self._connect_timeout, self._event_loop_pool_size
            )

    async def stop_event_loop(self) -> None:
        """Close the event loop's connections (on the loop that opened them)."""
        engine, self._loop_engine = self._loop_engine, None
        if engine is not None:
            from sqlalchemy.util import greenlet_spawn

            await greenlet_spawn(engine.dispose)  # closing awaits each connection

    async def on_event_loop(self, use_case: Callable[[], R]) -> R:
        """Run `use_case` (the same synchronous code as everywhere) on the event
        loop: inside a greenlet, its units of work connect through the loop's
        engine and every round trip awaits there, so a use case waiting on the
        database holds no thread. CPU work inside it goes through
        `off_event_loop`. Needs `start_event_loop` first; without it the use
        case still runs, on the URL's own driver."""
        from sqlalchemy.util import greenlet_spawn

        return await greenlet_spawn(use_case)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session committed on success, rolled back on error."""
        with self.session(write=True) as session, session.begin():
            yield session

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine in use: on SQLite, one for reads and one for writes."""
        return tuple({self.engine: None, self._write_engine: None})

    def ping(self) -> None:
        with self.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close the pools of the engines made so far."""
        for name in ("engine", "_write_engine"):
            engine = self.__dict__.get(name)
            if engine is not None:
                engine.dispose()
