"""`python -m database migrate --create`: the database is made on its server when missing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from database.create import ensure_database
from database.migrate import upgrade
from tests.databases import require_server


def test_sqlite_needs_nothing(tmp_path: Path) -> None:
    url = make_url(f"sqlite:///{tmp_path / 'x.db'}")
    assert ensure_database(url) is False
    assert not (tmp_path / "x.db").exists()  # SQLite makes the file itself when migrating


def test_an_unreachable_server_fails_once_the_wait_is_over() -> None:
    url = make_url("postgresql+psycopg://nobody:secret@127.0.0.1:1/musicplayer")
    with pytest.raises(OperationalError):
        ensure_database(url, wait_seconds=0.1)


def test_postgresql_database_is_created_once_then_migrated() -> None:
    server = require_server("postgresql")
    url = server.set(database=f"mp_create_{uuid.uuid4().hex[:10]}")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        assert ensure_database(url) is True
        assert ensure_database(url) is False  # a second run changes nothing
        upgrade(url.render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)"))
        admin.dispose()
