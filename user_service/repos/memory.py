"""In-memory users over the shared MemoryDatabase; held to the SQL behaviour by the
contract suite."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from database.memory import MemoryDatabase
from database.types import utcnow
from database.unit_of_work import MemoryUnitOfWork
from user_service.repos.base import DuplicateUserError, NewUser, UserRecord


class InMemoryUserRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def add(self, user: NewUser) -> UserRecord:
        with self._db.lock:
            self._check_unique(None, user.email, user.username)
            return UserRecord(**self._db.insert("users", {**asdict(user), "session_version": 0}))

    def get(self, user_id: int) -> UserRecord | None:
        row = self._db.users.get(user_id)
        return UserRecord(**row) if row else None

    def get_by_email(self, email: str) -> UserRecord | None:
        with self._db.lock:
            for row in self._db.users.values():
                if row["email"] == email:
                    return UserRecord(**row)
        return None

    def list(self, *, after_id: int | None, offset: int, limit: int) -> list[UserRecord]:
        with self._db.lock:
            ids = sorted(i for i in self._db.users if after_id is None or i > after_id)
            return [UserRecord(**self._db.users[i]) for i in ids[offset : offset + limit]]

    def update(
        self,
        user_id: int,
        changes: dict[str, Any],
        *,
        revoke_sessions: bool = False,
        if_password_hash: str | None = None,
    ) -> UserRecord | None:
        with self._db.lock:
            row = self._db.users.get(user_id)
            if row is None:
                return None
            if if_password_hash is not None and row["password_hash"] != if_password_hash:
                return None
            self._check_unique(user_id, changes.get("email"), changes.get("username"))
            row.update(changes, updated_at=utcnow())
            if revoke_sessions:
                row["session_version"] += 1
            return UserRecord(**row)

    def delete(self, user_id: int) -> bool:
        return self._db.delete_user(user_id)

    def _check_unique(self, own_id: int | None, email: str | None, username: str | None) -> None:
        for row in self._db.users.values():
            if row["id"] == own_id:
                continue
            if email is not None and row["email"] == email:
                raise DuplicateUserError("email")
            if username is not None and row["username"] == username:
                raise DuplicateUserError("username")


class InMemoryUserUnitOfWork(MemoryUnitOfWork):
    """user_service's unit of work over the shared MemoryDatabase."""

    users: InMemoryUserRepository

    def bind(self, db: MemoryDatabase) -> None:
        self.users = InMemoryUserRepository(db)
