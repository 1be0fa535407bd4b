"""What user_service needs from storage; the SQL and in-memory versions both honour it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from common.errors import ConflictError
from database.unit_of_work import UnitOfWork

UserField = Literal["email", "username"]


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    email: str
    password_hash: str
    first_name: str
    last_name: str | None
    role: str
    session_version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NewUser:
    username: str
    email: str
    password_hash: str
    first_name: str
    last_name: str | None
    role: str = "user"


class DuplicateUserError(ConflictError):
    """An email or username is taken; raised the same way by every repository."""

    def __init__(self, field: UserField | None) -> None:
        messages = {
            "email": "Email already registered",
            "username": "Username already taken",
            None: "Email or username already registered",
        }
        super().__init__(messages[field])
        self.field = field


class UserRepository(Protocol):
    def add(self, user: NewUser) -> UserRecord:
        """Store a new user; DuplicateUserError when the email or username is taken."""
        ...

    def get(self, user_id: int) -> UserRecord | None: ...

    def get_by_email(self, email: str) -> UserRecord | None: ...

    def list(self, *, after_id: int | None, offset: int, limit: int) -> list[UserRecord]:
        """Users in id order, after `after_id` (keyset) and then skipping `offset`."""
        ...

    def update(
        self,
        user_id: int,
        changes: dict[str, Any],
        *,
        revoke_sessions: bool = False,
        if_password_hash: str | None = None,
    ) -> UserRecord | None:
        """Apply column changes; None when absent (or, with `if_password_hash`, when
        the stored hash is no longer that one); DuplicateUserError on a taken value.
        `revoke_sessions` bumps `session_version`, so every refresh token issued
        before is refused (API.md, Sessions)."""
        ...

    def delete(self, user_id: int) -> bool:
        """Remove the user (their likes and tokens go with them); False when absent."""
        ...


class UserUnitOfWork(UnitOfWork, Protocol):
    """One transaction over user_service's repositories (database.unit_of_work)."""

    users: UserRepository
