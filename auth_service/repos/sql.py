"""Auth storage in the shared SQL database, with Core statements mapped to records.

Each method is one unit of work on a pooled connection of its own: reads give the
connection back as soon as they have their rows, so none holds a transaction (on
SQLite, a write lock) through the bcrypt work that may follow; writes commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, delete, func, insert, select, update

from auth_service.repos.base import (
    Credentials,
    FailureWindow,
    NewRefreshToken,
    RefreshTokenRecord,
)
from database.engine import Database
from database.models import LoginFailure, RefreshToken, User

users = User.__table__
tokens = RefreshToken.__table__
failures = LoginFailure.__table__
# Only the columns logging in needs; the profile never leaves user_service.
CREDENTIAL_COLUMNS = [users.c.id, users.c.email, users.c.password_hash, users.c.role]
TOKEN_COLUMNS = [tokens.c[field.name] for field in fields(RefreshTokenRecord)]


class SqlCredentialRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    def get_by_email(self, email: str) -> Credentials | None:
        return self._first(users.c.email == email)

    def get(self, user_id: int) -> Credentials | None:
        return self._first(users.c.id == user_id)

    def update_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._database.connect(write=True) as connection:
            connection.execute(
                update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )
            connection.commit()

    def _first(self, criterion: ColumnElement[bool]) -> Credentials | None:
        with self._database.connect() as connection:
            row = connection.execute(select(*CREDENTIAL_COLUMNS).where(criterion)).first()
        return Credentials(*row) if row else None


class SqlRefreshTokenRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, token: NewRefreshToken, *, now: datetime) -> RefreshTokenRecord:
        values: dict[str, Any] = {
            "user_id": token.user_id,
            "token_hash": token.token_hash,
            "family_id": token.family_id,
            "expires_at": token.expires_at,
            "created_at": now,
        }
        with self._database.connect(write=True) as connection:
            # Pruning the user's dead tokens here keeps the table small without a cron job.
            connection.execute(
                delete(tokens).where(tokens.c.user_id == token.user_id, tokens.c.expires_at < now)
            )
            # No RETURNING: MySQL lacks it on INSERT. The record is what was written.
            result = connection.execute(insert(tokens).values(**values))
            connection.commit()
        return RefreshTokenRecord(
            id=result.inserted_primary_key[0], **values, used_at=None, revoked_at=None
        )

    def get_by_hash(self, token_hash: str) -> RefreshTokenRecord | None:
        statement = select(*TOKEN_COLUMNS).where(tokens.c.token_hash == token_hash)
        with self._database.connect() as connection:
            row = connection.execute(statement).first()
        return RefreshTokenRecord(*row) if row else None

    def consume(self, token_id: int, *, now: datetime) -> bool:
        # One conditional UPDATE: the database decides which of two concurrent
        # refreshes with the same token wins; the loser sees rowcount 0.
        return (
            self._update(
                update(tokens)
                .where(
                    tokens.c.id == token_id,
                    tokens.c.used_at.is_(None),
                    tokens.c.revoked_at.is_(None),
                    tokens.c.expires_at > now,
                )
                .values(used_at=now)
            )
            == 1
        )

    def revoke_family(self, family_id: str, *, now: datetime) -> int:
        return self._update(
            update(tokens)
            .where(tokens.c.family_id == family_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke(self, token_hash: str, *, user_id: int, now: datetime) -> bool:
        return (
            self._update(
                update(tokens)
                .where(
                    tokens.c.token_hash == token_hash,
                    tokens.c.user_id == user_id,
                    tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            == 1
        )

    def _update(self, statement: Update) -> int:
        """Run one UPDATE in a transaction of its own; how many rows it changed."""
        with self._database.connect(write=True) as connection:
            changed = connection.execute(statement).rowcount
            connection.commit()
        return changed


class SqlLoginFailureRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    def recent(self, keys: Sequence[str], *, since: datetime) -> dict[str, FailureWindow]:
        statement = (
            select(failures.c.throttle_key, func.count(), func.min(failures.c.created_at))
            .where(failures.c.throttle_key.in_(keys), failures.c.created_at > since)
            .group_by(failures.c.throttle_key)
        )
        with self._database.connect() as connection:
            rows = connection.execute(statement).all()
        found = {key: FailureWindow(count, oldest) for key, count, oldest in rows}
        return {key: found.get(key, FailureWindow(0, None)) for key in keys}

    def add(self, keys: Sequence[str], *, at: datetime, prune_before: datetime) -> None:
        with self._database.connect(write=True) as connection:
            connection.execute(
                delete(failures).where(
                    failures.c.throttle_key.in_(keys), failures.c.created_at < prune_before
                )
            )
            connection.execute(
                insert(failures), [{"throttle_key": key, "created_at": at} for key in keys]
            )
            connection.commit()

    def clear(self, key: str) -> None:
        with self._database.connect(write=True) as connection:
            connection.execute(delete(failures).where(failures.c.throttle_key == key))
            connection.commit()
