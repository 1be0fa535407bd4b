"""The account rules: who may read, change and delete which profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.errors import ForbiddenError, NotFoundError
from common.passwords import PasswordHasher
from common.tokens import Principal
from user_service.repos.base import NewUser, UserRecord, UserRepository
from user_service.schemas import SignUp, UserUpdate

# Columns that may be written from an update body (current_password is only a check).
UPDATABLE = frozenset({"username", "email", "first_name", "last_name", "role"})


@dataclass(frozen=True)
class UserPage:
    users: list[UserRecord]
    next_after_id: int | None


class UserNotFoundError(NotFoundError):
    detail = "User not found"


class UserService:
    def __init__(self, users: UserRepository, hasher: PasswordHasher) -> None:
        self._users = users
        self._hasher = hasher

    def sign_up(self, data: SignUp) -> UserRecord:
        return self._users.add(
            NewUser(
                username=data.username,
                email=data.email,
                password_hash=self._hasher.hash(data.password),
                first_name=data.first_name,
                last_name=data.last_name,
            )
        )

    def get(self, user_id: int) -> UserRecord:
        user = self._users.get(user_id)
        if user is None:
            raise UserNotFoundError
        return user

    def get_by_email(self, email: str) -> UserRecord:
        user = self._users.get_by_email(email.lower())
        if user is None:
            raise UserNotFoundError
        return user

    def list(self, *, after_id: int | None, offset: int, limit: int) -> UserPage:
        rows = self._users.list(after_id=after_id, offset=offset, limit=limit + 1)
        has_more = len(rows) > limit
        rows = rows[:limit]
        return UserPage(rows, rows[-1].id if has_more else None)

    def update(self, caller: Principal, user_id: int, update: UserUpdate) -> UserRecord:
        self._require_self_or_admin(caller, user_id)
        target = self.get(user_id)
        sent = update.model_dump(exclude_unset=True)
        if "role" in sent and sent["role"] != target.role and not caller.is_admin:
            raise ForbiddenError("Only an admin may change roles")
        changes: dict[str, Any] = {k: v for k, v in sent.items() if k in UPDATABLE}
        changes_credentials = "password" in sent or (
            "email" in sent and sent["email"] != target.email
        )
        acting_on_self = caller.user_id == user_id
        if changes_credentials and acting_on_self:
            self._require_current_password(update.current_password, target)
        if "password" in sent:
            changes["password_hash"] = self._hasher.hash(sent["password"])
        if not changes:
            return target
        updated = self._users.update(user_id, changes)
        if updated is None:  # deleted between the read and the write
            raise UserNotFoundError
        return updated

    def delete(self, caller: Principal, user_id: int) -> None:
        self._require_self_or_admin(caller, user_id)
        if not self._users.delete(user_id):
            raise UserNotFoundError

    @staticmethod
    def _require_self_or_admin(caller: Principal, user_id: int) -> None:
        # Checked before existence, so a user cannot probe which ids exist.
        if caller.user_id != user_id and not caller.is_admin:
            raise ForbiddenError("You may only change your own account")

    def _require_current_password(self, current_password: str | None, user: UserRecord) -> None:
        if current_password is None or not self._hasher.verify(
            current_password, user.password_hash
        ):
            raise ForbiddenError("current_password is missing or wrong")
