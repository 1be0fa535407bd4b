"""The process's database: engines built from settings, Core connections for the
repositories' units of work, ORM sessions for scripts and tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from database.files import private_file, private_folder, sqlite_sidecars, tighten_file

SQLITE_BUSY_TIMEOUT_SECONDS = 30


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


def create_database_engine(url: str | URL, *, connect_timeout: int = 5) -> Engine:
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
        # pre_ping lets the fleet recover on its own after a database restart.
        options.update(pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=10)
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


class Database:
    """Owns the process's engines (on a SQLite file, a second one for writes) and
    hands out connections, and sessions, for reads and for writes."""

    def __init__(self, url: str | URL, *, connect_timeout: int = 5) -> None:
        self.engine = create_database_engine(url, connect_timeout=connect_timeout)
        # An in-memory SQLite database exists once per engine, so it keeps one.
        on_file = self.backend == "sqlite" and _sqlite_file(self.engine.url) is not None
        self._write_engine = (
            _sqlite_writer(self.engine.url, connect_timeout) if on_file else self.engine
        )
        self._sqlite_writer_lock = threading.Lock() if self.backend == "sqlite" else None
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = False) -> Session:
        return (self._write_sessions if write else self._read_sessions)()

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A pooled Core connection for one unit of work: the transaction begins with
        the first statement (BEGIN IMMEDIATE on SQLite for writes), the caller
        commits, and leaving the block rolls back whatever was not committed and
        returns the connection to the pool.

        On SQLite a process's writers also take turns on a lock of ours: the
        database allows one writer at a time anyway, and two threads of one
        process contending for its lock would fall into SQLite's busy handler,
        which sleeps for milliseconds at a time."""
        if write and self._sqlite_writer_lock is not None:
            with self._sqlite_writer_lock, self._write_engine.connect() as connection:
                yield connection
            return
        with (self._write_engine if write else self.engine).connect() as connection:
            yield connection

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
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()
