from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select, text

from database import Database
from database.migrate import upgrade
from database.models import LoginFailure
from database.types import utcnow


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    database.dispose()


def test_many_concurrent_writers_never_see_database_is_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    databases = [Database(url) for _ in range(4)]  # as four processes would each have one

    def write(i: int) -> None:
        with databases[i % 4].transaction() as session:
            session.execute(select(func.count()).select_from(LoginFailure))  # read, then write
            session.add(LoginFailure(throttle_key=f"k{i}", created_at=utcnow()))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(write, range(200)))
    with databases[0].session() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 200
        assert session.execute(text("SELECT 1")).scalar() == 1
    for database in databases:
        database.dispose()
