"""The SQLite database holds password hashes: the file, its -wal and -shm, and the
folder made for them are this user's alone, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from database.engine import Database
from database.migrate import upgrade


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def test_a_new_database_is_private_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "data" / "musicplayer.db"
    upgrade(f"sqlite:///{path}")  # what `make run` does first
    database = Database(f"sqlite:///{path}")
    try:
        with database.connect(write=True) as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.commit()
            assert all(sidecar.exists() for sidecar in sidecars(path))
            assert [mode(p) for p in (path, *sidecars(path))] == [0o600] * 3
        assert mode(path.parent) == 0o700
    finally:
        database.dispose()


def test_files_an_older_version_left_open_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "musicplayer.db"
    database = Database(f"sqlite:///{path}")
    with database.connect(write=True) as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.commit()
    for leaked in (path, *sidecars(path)):
        if leaked.exists():
            os.chmod(leaked, 0o644)
    database.dispose()
    reopened = Database(f"sqlite:///{path}")
    try:
        with reopened.connect() as connection:
            connection.execute(text("SELECT count(*) FROM t"))
            present = [p for p in (path, *sidecars(path)) if p.exists()]
            assert present and all(mode(p) == 0o600 for p in present)
    finally:
        reopened.dispose()
