"""Real database servers for tests: where they are, and a fresh database on one.

A server is named by an environment variable holding a URL whose user may
create databases. Without it a test that needs the server is skipped with the
reason, except in CI (CI=true), where a missing server fails the run: CI
installs and starts every server, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import NoReturn

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

SERVERS = {"postgresql": "TEST_POSTGRES_URL", "mariadb": "TEST_MARIADB_URL"}

# Dropping a scratch database: attempts, and the pause between two.
DROP_ATTEMPTS = 20
DROP_RETRY_SECONDS = 0.5


def server_url(server: str) -> URL | None:
    value = os.environ.get(SERVERS[server], "").strip()
    return make_url(value) if value else None


def missing(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail in CI, which installs everything."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def require_server(server: str) -> URL:
    url = server_url(server)
    if url is None:
        missing(f"{SERVERS[server]} is not set: no {server} server to test against (make test-dbs)")
    return url


def require_pyodbc() -> ModuleType:
    """pyodbc with the FreeTDS ODBC driver registered (Debian's unixodbc and tdsodbc)."""
    try:
        import pyodbc
    except ImportError as exc:  # libodbc.so.2 is missing
        missing(f"pyodbc cannot load unixODBC ({exc}): apt-get install unixodbc tdsodbc")
    if "FreeTDS" not in pyodbc.drivers():
        missing(
            f"FreeTDS is not a registered ODBC driver {pyodbc.drivers()}: apt-get install tdsodbc"
        )
    return pyodbc


@contextmanager
def scratch_database(server: URL, purpose: str = "test") -> Iterator[URL]:
    """A new, empty database on the server for the duration of the block."""
    name = f"mp_{purpose}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    mysql = server.get_backend_name() == "mysql"
    create = (
        f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        if mysql
        else f"CREATE DATABASE {name}"
    )
    with admin.connect() as connection:
        connection.execute(text(create))
    try:
        yield server.set(database=name)
    finally:
        drop = f"DROP DATABASE IF EXISTS {name}" + ("" if mysql else " WITH (FORCE)")
        # FORCE may not end an autovacuum worker busy in the database (a superuser's
        # process; PostgreSQL refuses): it is done within moments, so try again.
        for attempt in range(DROP_ATTEMPTS):
            try:
                with admin.connect() as connection:
                    connection.execute(text(drop))
                break
            except DBAPIError:
                if attempt == DROP_ATTEMPTS - 1:
                    raise
                time.sleep(DROP_RETRY_SECONDS)
        admin.dispose()
