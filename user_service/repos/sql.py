"""Users in the shared SQL database, with Core statements mapped to records. Each
method is one unit of work on a pooled connection of its own: reads give the
connection back as soon as they have their rows, writes commit."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from database.engine import Database
from database.models import User
from database.types import utcnow
from user_service.repos.base import DuplicateUserError, NewUser, UserField, UserRecord

users = User.__table__
USER_COLUMNS = [users.c[field.name] for field in fields(UserRecord)]


class SqlUserRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, user: NewUser) -> UserRecord:
        now = utcnow()
        values = {**asdict(user), "created_at": now, "updated_at": now}
        with self._database.connect(write=True) as connection:
            try:
                # No RETURNING: MySQL lacks it on INSERT. The record is what was written.
                result = connection.execute(insert(users).values(**values))
            except IntegrityError as exc:
                raise _duplicate(connection, user.email, user.username) from exc
            connection.commit()
        return UserRecord(id=result.inserted_primary_key[0], **values)

    def get(self, user_id: int) -> UserRecord | None:
        with self._database.connect() as connection:
            return _first(connection, users.c.id == user_id)

    def get_by_email(self, email: str) -> UserRecord | None:
        with self._database.connect() as connection:
            return _first(connection, users.c.email == email)

    def list(self, *, after_id: int | None, offset: int, limit: int) -> list[UserRecord]:
        statement = select(*USER_COLUMNS).order_by(users.c.id).offset(offset).limit(limit)
        if after_id is not None:
            statement = statement.where(users.c.id > after_id)
        with self._database.connect() as connection:
            return [UserRecord(*row) for row in connection.execute(statement)]

    def update(self, user_id: int, changes: dict[str, Any]) -> UserRecord | None:
        with self._database.connect(write=True) as connection:
            try:
                connection.execute(
                    update(users)
                    .where(users.c.id == user_id)
                    .values(**changes, updated_at=utcnow())
                )
            except IntegrityError as exc:
                raise _duplicate(
                    connection, changes.get("email"), changes.get("username"), user_id
                ) from exc
            # Read back inside the transaction: None when there was no such user.
            user = _first(connection, users.c.id == user_id)
            connection.commit()
        return user

    def delete(self, user_id: int) -> bool:
        with self._database.connect(write=True) as connection:
            deleted = connection.execute(delete(users).where(users.c.id == user_id)).rowcount
            connection.commit()
        return deleted > 0


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
