"""Sign-up attempts per client address, as rows of the shared throttle table
(`login_failures`, key `signup:<address>`), so every process and replica counts
the same. Protocol, SQL and in-memory versions in one place: the contract suite
holds them to the same behaviour (tests/contract/test_throttle_repositories.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection, func, insert, select

from database.memory import MemoryDatabase
from database.tables import login_failures
from database.unit_of_work import MemoryUnitOfWork, SqlUnitOfWork, UnitOfWork
from database.writes import prune_oldest

attempts = login_failures


@dataclass(frozen=True)
class AttemptWindow:
    """Attempts of one key inside the window, and when the oldest of them happened."""

    count: int
    oldest: datetime | None


class SignUpAttemptRepository(Protocol):
    def recent(self, key: str, *, since: datetime) -> AttemptWindow:
        """Attempts of `key` after `since`."""
        ...

    def add(self, key: str, *, at: datetime) -> None:
        """Record one attempt at `at`."""
        ...

    def prune(self, *, before: datetime, limit: int) -> int:
        """Delete rows older than `before`, whatever their key, looking at no more
        than the `limit` oldest rows; how many went."""
        ...


class SignUpUnitOfWork(UnitOfWork, Protocol):
    signups: SignUpAttemptRepository


class SqlSignUpAttemptRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def recent(self, key: str, *, since: datetime) -> AttemptWindow:
        count, oldest = self._connection.execute(
            select(func.count(), func.min(attempts.c.created_at)).where(
                attempts.c.throttle_key == key, attempts.c.created_at > since
            )
        ).one()
        return AttemptWindow(count, oldest)

    def add(self, key: str, *, at: datetime) -> None:
        self._connection.execute(insert(attempts).values(throttle_key=key, created_at=at))

    def prune(self, *, before: datetime, limit: int) -> int:
        return prune_oldest(self._connection, attempts, before=before, limit=limit)


class InMemorySignUpAttemptRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def recent(self, key: str, *, since: datetime) -> AttemptWindow:
        with self._db.lock:
            times = [
                row["created_at"]
                for row in self._db.login_failures.values()
                if row["throttle_key"] == key and row["created_at"] > since
            ]
        return AttemptWindow(len(times), min(times, default=None))

    def add(self, key: str, *, at: datetime) -> None:
        with self._db.lock:
            row_id = self._db.next_id("login_failures")
            self._db.login_failures[row_id] = {"id": row_id, "throttle_key": key, "created_at": at}

    def prune(self, *, before: datetime, limit: int) -> int:
        with self._db.lock:
            rows = self._db.login_failures
            stale = [i for i in sorted(rows)[:limit] if rows[i]["created_at"] < before]
            for row_id in stale:
                del rows[row_id]
        return len(stale)


class SqlSignUpUnitOfWork(SqlUnitOfWork):
    signups: SqlSignUpAttemptRepository

    def bind(self, connection: Connection) -> None:
        self.signups = SqlSignUpAttemptRepository(connection)


class InMemorySignUpUnitOfWork(MemoryUnitOfWork):
    signups: InMemorySignUpAttemptRepository

    def bind(self, db: MemoryDatabase) -> None:
        self.signups = InMemorySignUpAttemptRepository(db)
