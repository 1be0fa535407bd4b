"""Create the application's database on its server when it is missing.

A fresh SQL Server or PostgreSQL container has a server but no `musicplayer`
database, and Alembic can only migrate a database that exists. SQLite (and
MariaDB, whose test and production databases are made by their admins) need
nothing here.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)

# The database every server of that kind always has, and how to ask it for ours.
_SERVERS = {
    "mssql": ("master", "SELECT 1 FROM sys.databases WHERE name = :name"),
    "postgresql": ("postgres", "SELECT 1 FROM pg_database WHERE datname = :name"),
}
RETRY_SECONDS = 2.0


def ensure_database(url: URL, wait_seconds: float = 0.0) -> bool:
    """Create `url`'s database if its server lacks it; True when it was created.
    Waits up to `wait_seconds` for the server to accept connections first."""
    server = _SERVERS.get(url.get_backend_name())
    if server is None or not url.database:
        return False
    maintenance_db, exists_sql = server
    # CREATE DATABASE refuses to run inside a transaction on both servers.
    engine = create_engine(
        url.set(database=maintenance_db), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with _connect_when_up(engine, url, wait_seconds) as connection:
            if connection.execute(text(exists_sql), {"name": url.database}).first():
                return False
            name = engine.dialect.identifier_preparer.quote(url.database)
            connection.execute(text(f"CREATE DATABASE {name}"))
            logger.info("created database %s", url.database)
            return True
    finally:
        engine.dispose()


def _connect_when_up(engine: Engine, url: URL, wait_seconds: float) -> Connection:
    """A fresh server container takes a while to accept logins; retry until the deadline."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return engine.connect()
        except DBAPIError as exc:
            if time.monotonic() >= deadline:
                raise
            reason = str(exc.orig).splitlines()[0][:200]
            logger.info("waiting for %s: %s", url.render_as_string(), reason)
            time.sleep(RETRY_SECONDS)
