"""Users in the shared SQL database. Each write method is one transaction."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from database.models import User
from user_service.repos.base import DuplicateUserError, NewUser, UserField, UserRecord

_COLUMNS = [field.name for field in fields(UserRecord)]


def _record(user: User) -> UserRecord:
    return UserRecord(**{name: getattr(user, name) for name in _COLUMNS})


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, user: NewUser) -> UserRecord:
        row = User(
            username=user.username,
            email=user.email,
            password_hash=user.password_hash,
            first_name=user.first_name,
            last_name=user.last_name,
            role=user.role,
        )
        self._session.add(row)
        self._commit_or_duplicate(user.email, user.username)
        return _record(row)

    def get(self, user_id: int) -> UserRecord | None:
        return self._first(select(User).where(User.id == user_id))

    def get_by_email(self, email: str) -> UserRecord | None:
        return self._first(select(User).where(User.email == email))

    def list(self, *, after_id: int | None, offset: int, limit: int) -> list[UserRecord]:
        query = select(User).order_by(User.id).offset(offset).limit(limit)
        if after_id is not None:
            query = query.where(User.id > after_id)
        users = [_record(row) for row in self._session.scalars(query)]
        self._session.commit()
        return users

    def _first(self, query: Select[tuple[User]]) -> UserRecord | None:
        row = self._session.scalars(query).first()
        # End the read's transaction: in a write request on SQLite it holds the
        # write lock, and the caller may spend a bcrypt round before writing.
        self._session.commit()
        return _record(row) if row else None

    def update(self, user_id: int, changes: dict[str, Any]) -> UserRecord | None:
        fresh = select(User).where(User.id == user_id).execution_options(populate_existing=True)
        row = self._session.scalars(fresh).first()
        if row is None:
            return None
        for name, value in changes.items():
            setattr(row, name, value)
        self._commit_or_duplicate(changes.get("email"), changes.get("username"), user_id)
        return _record(row)

    def delete(self, user_id: int) -> bool:
        deleted = self._session.execute(delete(User).where(User.id == user_id)).rowcount
        self._session.commit()
        return deleted > 0

    def _commit_or_duplicate(
        self, email: str | None, username: str | None, own_id: int | None = None
    ) -> None:
        try:
            self._session.commit()
        except IntegrityError as exc:
            self._session.rollback()
            field = self._taken_field(email, username, own_id)
            self._session.rollback()  # end the lookup's transaction: release SQLite's lock
            raise DuplicateUserError(field) from exc

    def _taken_field(
        self, email: str | None, username: str | None, own_id: int | None
    ) -> UserField | None:
        """Which value clashed: asked of the table, since each backend words the error
        differently."""
        for field, value in (("email", email), ("username", username)):
            if value is None:
                continue
            column = getattr(User, field)
            holder = self._session.scalar(select(User.id).where(column == value))
            if holder is not None and holder != own_id:
                return field  # type: ignore[return-value]
        return None
