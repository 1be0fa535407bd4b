"""One engine and one session factory per process, built from settings."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_SECONDS = 30
P = ParamSpec("P")
R = TypeVar("R")


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
    keys, and `BEGIN IMMEDIATE` for write transactions so two writers queue on
    the lock up front instead of failing with "database is locked" mid-way."""

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

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("musicplayer_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_database_engine(url: str | URL, *, connect_timeout: int = 5) -> Engine:
    url = make_url(url)
    options: dict[str, Any] = {"connect_args": _connect_args(url, connect_timeout)}
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
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
    """Owns the process's engine; hands out sessions for reads and for writes."""

    def __init__(self, url: str | URL, *, connect_timeout: int = 5) -> None:
        self.engine = create_database_engine(url, connect_timeout=connect_timeout)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(musicplayer_write=True), expire_on_commit=False
        )

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = False) -> Session:
        return (self._write_sessions if write else self._read_sessions)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session committed on success, rolled back on error."""
        with self.session(write=True) as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def releases_connection(method: Callable[P, R]) -> Callable[P, R]:
    """For repository reads: end the transaction once the rows are in hand, so the
    connection goes back to the pool while the request still serializes its
    answer. Held until the session closed, connections ran out under load."""

    @functools.wraps(method)
    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        result = method(*args, **kwargs)
        args[0]._session.commit()  # type: ignore[attr-defined]
        return result

    return read
