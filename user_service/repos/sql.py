"""Users in the shared SQL database, with Core statements mapped to records. The
repository runs on the connection of the caller's unit of work and never commits:
the service decides where the transaction ends."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from database.tables import users
from database.types import utcnow
from database.unit_of_work import SqlUnitOfWork
from user_service.repos.base import DuplicateUserError, NewUser, UserField, UserRecord

USER_COLUMNS = [users.c[field.name] for field in fields(UserRecord)]


class SqlUserRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, user: NewUser) -> UserRecord:
        now = utcnow()
        values = {**asdict(user), "session_version": 0, "created_at": now, "updated_at": now}
        try:
            # No RETURNING: MySQL lacks it on INSERT. The record is what was written.
            result = self._connection.execute(insert(users).values(**values))
        except IntegrityError as exc:
            raise _duplicate(self._connection, user.email, user.username) from exc
        return UserRecord(id=result.inserted_primary_key[0], **values)

    def get(self, user_id: int) -> UserRecord | None:
        return _first(self._connection, users.c.id == user_id)

    def get_by_email(self, email: str) -> UserRecord | None:
        return _first(self._connection, users.c.email == email)

    def list(self, *, after_id: int | None, offset: int, limit: int) -> list[UserRecord]:
        statement = select(*USER_COLUMNS).order_by(users.c.id).offset(offset).limit(limit)
        if after_id is not None:
            statement = statement.where(users.c.id > after_id)
        return [UserRecord(*row) for row in self._connection.execute(statement)]

    def update(
        self,
        user_id: int,
        changes: dict[str, Any],
        *,
        revoke_sessions: bool = False,
        if_password_hash: str | None = None,
    ) -> UserRecord | None:
        values: dict[str, Any] = {**changes, "updated_at": utcnow()}
        if revoke_sessions:
            # Incremented in SQL, so two concurrent changes each count.
            values["session_version"] = users.c.session_version + 1
        statement = update(users).where(users.c.id == user_id).values(**values)
        if if_password_hash is not None:
            statement = statement.where(users.c.password_hash == if_password_hash)
        try:
            changed = self._connection.execute(statement).rowcount
        except IntegrityError as exc:
            raise _duplicate(
                self._connection, changes.get("email"), changes.get("username"), user_id
            ) from exc
        # Read back inside the transaction.
        return _first(self._connection, users.c.id == user_id) if changed else None

    def delete(self, user_id: int) -> bool:
        return self._connection.execute(delete(users).where(users.c.id == user_id)).rowcount > 0


class SqlUserUnitOfWork(SqlUnitOfWork):
    """user_service's unit of work on the shared SQL database."""

    users: SqlUserRepository

    def bind(self, connection: Connection) -> None:
        self.users = SqlUserRepository(connection)


def _first(connection: Connection, criterion: ColumnElement[bool]) -> UserRecord | None:
    row = connection.execute(select(*USER_COLUMNS).where(criterion)).first()
    return UserRecord(*row) if row else None


def _duplicate(
    connection: Connection, email: str | None, username: str | None, own_id: int | None = None
) -> DuplicateUserError:
    """The error for a write that broke a unique constraint, naming the value that
    clashed. Asked of the table, since each backend words the error differently;
    the failed transaction is rolled back first (PostgreSQL refuses statements in
    it), and leaving the caller's block rolls back the lookup's."""
    connection.rollback()
    candidates: tuple[tuple[UserField, str | None], ...] = (
        ("email", email),
        ("username", username),
    )
    for field, value in candidates:
        if value is None:
            continue
        holder = connection.scalar(select(users.c.id).where(users.c[field] == value))
        if holder is not None and holder != own_id:
            return DuplicateUserError(field)
    return DuplicateUserError(None)
