"""The backends every repository contract test runs against.

A contract test takes the `backend` fixture and asks it for a unit-of-work
factory, `backend.units(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork)`,
or for one repository of such a unit that commits after every call,
`backend.repository(memory=..., sql=..., name="songs")`; the same assertions then
run on the in-memory fake and on each real database: SQLite always, PostgreSQL
and MariaDB when their servers are given (tests/databases.py; `make test-dbs`).

On SQLite every statement is also compiled for SQL Server (`MssqlStatementCheck`),
so a repository cannot use SQL that only works on the databases at hand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from sqlalchemy import Select, delete, event, text
from sqlalchemy.dialects.mssql import pyodbc as mssql_pyodbc
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ClauseElement

from database import Base, Database
from database.memory import MemoryDatabase
from database.migrate import upgrade
from database.unit_of_work import UnitOfWork
from database.writes import insert_stamped
from tests.databases import require_server, scratch_database

Unit = TypeVar("Unit", bound=UnitOfWork)

SERVER_BACKENDS = ("postgresql", "mariadb")
MSSQL_2019 = (15, 0, 2000)


@dataclass
class Backend:
    name: str
    memory: MemoryDatabase | None = None
    database: Database | None = None

    def units(
        self,
        *,
        memory: Callable[..., Unit],
        sql: Callable[..., Unit],
    ) -> Callable[..., Unit]:
        """The factory a service takes: `units(write=False)` opens a unit of work
        of the given kind on this backend."""
        if self.memory is not None:
            return functools.partial(memory, self.memory)
        assert self.database is not None
        return functools.partial(sql, self.database)

    def repository(
        self,
        *,
        memory: Callable[..., UnitOfWork],
        sql: Callable[..., UnitOfWork],
        name: str,
    ) -> Any:
        """The unit's repository `name` (`"songs"`, `"albums"`...) with every method
        call in a write unit of its own, committed when the call returns: what
        one use case per call would leave behind (see AutocommitRepository)."""
        return AutocommitRepository(self.units(memory=memory, sql=sql), name)

    def insert(self, table: str, **values: Any) -> int:
        """A row written straight to a table, as another service would have left
        it (unsent nullable columns empty, constant defaults applied, timestamps
        set); its new id."""
        sql_table = Base.metadata.tables[table]
        row = {column.name: None for column in sql_table.columns if column.nullable} | values
        if self.memory is not None:
            # The database fills these itself (session_version = 0, say); the fake
            # stores only what it is given.
            defaults = {
                column.name: column.default.arg  # type: ignore[attr-defined]
                for column in sql_table.columns
                if column.default is not None and column.default.is_scalar
            }
            return self.memory.insert(table, defaults | row)["id"]
        assert self.database is not None
        with self.database.connect(write=True) as connection:
            row_id = insert_stamped(connection, sql_table, row)
            connection.commit()
        return row_id

    def delete(self, table: str, row_id: int) -> None:
        """Delete a row with the cascades of the real foreign keys."""
        if self.memory is not None:
            {"users": self.memory.delete_user, "songs": self.memory.delete_song,
             "albums": self.memory.delete_album}[table](row_id)  # fmt: skip
            return
        assert self.database is not None
        sql_table = Base.metadata.tables[table]
        with self.database.connect(write=True) as connection:
            connection.execute(delete(sql_table).where(sql_table.c.id == row_id))
            connection.commit()


class AutocommitRepository:
    """A repository whose every method call runs in a unit of work of its own and
    is committed when it returns (rolled back when it raises): the contract tests
    written one call per use case keep that shape, and threads calling it race as
    concurrent requests do. Tests of the unit itself use `Backend.units`."""

    def __init__(self, units: Callable[..., UnitOfWork], name: str) -> None:
        self._units = units
        self._name = name

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):  # copy, pickle and friends probe for dunders
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._units(write=True) as uow:
                result = getattr(getattr(uow, self._name), method)(*args, **kwargs)
                uow.commit()
            return result

        call.__name__ = method
        return call


# SQL Server ------------------------------------------------------------------


class MssqlStatementError(AssertionError):
    """A statement a repository executed would not work on SQL Server."""


@dataclass
class MssqlStatementCheck:
    """Compiles every statement an engine executes for SQL Server (pyodbc), as the
    production fleet would, and fails on the spot if one does not compile or pages
    in a way T-SQL cannot: without ORDER BY, or without OFFSET/FETCH or TOP.

    No SQL Server is needed: compiling is what catches dialect gaps (LIMIT syntax,
    RETURNING, boolean literals, unsupported functions) before a real server would.
    """

    statements: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    dialect: Any = field(default_factory=lambda: mssql_dialect())

    def attach(self, database: Database) -> None:
        for engine in database.engines:
            event.listen(engine, "before_execute", self._before_execute)

    def detach(self, database: Database) -> None:
        for engine in database.engines:
            event.remove(engine, "before_execute", self._before_execute)

    def _before_execute(
        self,
        _connection: Any,
        clauseelement: Any,
        _multiparams: Any,
        _params: Any,
        _execution_options: Any,
    ) -> None:
        if isinstance(clauseelement, ClauseElement):
            self.check(clauseelement)

    def check(self, statement: ClauseElement) -> str:
        try:
            sql = str(statement.compile(dialect=self.dialect))
            for select in _selects(statement):
                if select._limit_clause is not None or select._offset_clause is not None:
                    _check_paging(select, str(select.compile(dialect=self.dialect)))
        except Exception as exc:
            message = f"not valid for SQL Server: {exc}\n{statement}"
            # Recorded as well as raised: a repository's own `except` must not
            # be able to swallow the failure.
            self.failures.append(message)
            raise MssqlStatementError(message) from exc
        self.statements.add(sql)
        return sql


def mssql_dialect() -> Any:
    """SQL Server's pyodbc dialect as it is once connected to SQL Server 2019.

    A dialect that never connected assumes a pre-2012 server and pages with a
    ROW_NUMBER() subquery; the fleet's connected engine uses OFFSET/FETCH, so the
    check compiles what production really sends.
    """
    dialect = mssql_pyodbc.dialect()
    dialect.server_version_info = MSSQL_2019
    dialect._setup_version_attributes()
    dialect._supports_nvarchar_max = True
    return dialect


def _selects(statement: ClauseElement) -> Iterator[Select[Any]]:
    """The statement and every SELECT nested in it (subqueries page as well)."""
    for element in visitors.iterate(statement):
        if isinstance(element, Select):
            yield element


def _check_paging(select: Select[Any], sql: str) -> None:
    # T-SQL pages with TOP n (no offset) or ORDER BY ... OFFSET n ROWS FETCH NEXT m
    # ROWS ONLY; without ORDER BY which rows form a page is undefined, so a keyset or
    # offset page could skip or repeat rows.
    upper = " ".join(sql.upper().split())
    if "ORDER BY" not in upper:
        raise MssqlStatementError("a limited or offset SELECT has no ORDER BY")
    if select._offset_clause is not None:
        if " OFFSET " not in upper or " ROWS" not in upper:
            raise MssqlStatementError("an offset SELECT compiled without OFFSET ... ROWS")
        if select._limit_clause is not None and "FETCH " not in upper:
            raise MssqlStatementError("a limited offset SELECT compiled without FETCH")
    elif "TOP " not in upper and "FETCH " not in upper:
        raise MssqlStatementError("a limited SELECT compiled without TOP or FETCH")


@pytest.fixture(scope="session")
def mssql_statements() -> MssqlStatementCheck:
    """One check for the whole session, so the distinct statements add up."""
    return MssqlStatementCheck()


# Real servers ----------------------------------------------------------------


@pytest.fixture(scope="session")
def server_databases() -> Iterator[dict[str, Database]]:
    """One migrated scratch database per server for the whole session, made on
    first use: a new database and migration per test would add tens of seconds
    per server to the run."""
    with ExitStack() as stack:

        class Lazy(dict[str, Database]):
            def __missing__(self, server: str) -> Database:
                url = stack.enter_context(scratch_database(require_server(server), "contract"))
                rendered = url.render_as_string(hide_password=False)
                upgrade(rendered)
                database = Database(rendered)
                stack.callback(database.dispose)  # before the database is dropped
                self[server] = database
                return database

        yield Lazy()


def clear(database: Database) -> None:
    """Empty every table and restart its ids, so each test starts as on a freshly
    migrated database (ids from 1, as with SQLite). Children first, for the
    foreign keys."""
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
        for table in Base.metadata.sorted_tables:
            if "id" not in table.c or not table.c.id.autoincrement:
                continue
            if database.backend == "postgresql":
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), 1, false)"),
                    {"table": table.name},
                )
            else:
                # InnoDB resets the counter to max(id) + 1, i.e. 1 on an empty table.
                connection.execute(text(f"ALTER TABLE {table.name} AUTO_INCREMENT = 1"))


@pytest.fixture(params=["memory", "sqlite", *SERVER_BACKENDS])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    name: str = request.param
    if name == "memory":
        yield Backend("memory", memory=MemoryDatabase())
        return
    if name == "sqlite":
        database: Database = request.getfixturevalue("database")
        check: MssqlStatementCheck = request.getfixturevalue("mssql_statements")
        failures_before = len(check.failures)
        check.attach(database)
        try:
            yield Backend(name, database=database)
        finally:
            check.detach(database)
        if len(check.failures) > failures_before:
            pytest.fail("\n".join(check.failures[failures_before:]), pytrace=False)
        return
    require_server(name)  # skip (or fail in CI) before touching the session fixture
    database = request.getfixturevalue("server_databases")[name]
    clear(database)
    yield Backend(name, database=database)
