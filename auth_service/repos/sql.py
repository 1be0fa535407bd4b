"""Auth storage in the shared SQL database.

Every method is one transaction and ends it, reads included: write sessions open
with BEGIN IMMEDIATE on SQLite, and a read left open would hold the database's
write lock through the bcrypt work that follows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from auth_service.repos.base import (
    Credentials,
    FailureWindow,
    NewRefreshToken,
    RefreshTokenRecord,
)
from database.models import LoginFailure, RefreshToken, User

_TOKEN_COLUMNS = [field.name for field in fields(RefreshTokenRecord)]
# Bulk updates here never need the identity map kept in step: no ORM object outlives a call.
_NO_SYNC = {"synchronize_session": False}


def _token_record(row: RefreshToken) -> RefreshTokenRecord:
    return RefreshTokenRecord(**{name: getattr(row, name) for name in _TOKEN_COLUMNS})


class SqlCredentialRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get_by_email(self, email: str) -> Credentials | None:
        return self._first(User.email == email)

    def get(self, user_id: int) -> Credentials | None:
        return self._first(User.id == user_id)

    def update_password_hash(self, user_id: int, password_hash: str) -> None:
        self._session.execute(
            update(User)
            .where(User.id == user_id)
            .values(password_hash=password_hash)
            .execution_options(**_NO_SYNC)
        )
        self._session.commit()

    def _first(self, criterion: ColumnElement[bool]) -> Credentials | None:
        # Only the columns logging in needs; the profile never leaves user_service.
        query = select(User.id, User.email, User.password_hash, User.role).where(criterion)
        row = self._session.execute(query).first()
        self._session.commit()
        return Credentials(*row) if row else None


class SqlRefreshTokenRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, token: NewRefreshToken, *, now: datetime) -> RefreshTokenRecord:
        # Pruning the user's dead tokens here keeps the table small without a cron job.
        self._session.execute(
            delete(RefreshToken)
            .where(RefreshToken.user_id == token.user_id, RefreshToken.expires_at < now)
            .execution_options(**_NO_SYNC)
        )
        row = RefreshToken(
            user_id=token.user_id,
            token_hash=token.token_hash,
            family_id=token.family_id,
            expires_at=token.expires_at,
            created_at=now,
        )
        self._session.add(row)
        self._session.commit()
        return _token_record(row)

    def get_by_hash(self, token_hash: str) -> RefreshTokenRecord | None:
        row = self._session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        ).first()
        record = _token_record(row) if row else None
        self._session.commit()
        return record

    def consume(self, token_id: int, *, now: datetime) -> bool:
        # One conditional UPDATE: the database decides which of two concurrent
        # refreshes with the same token wins; the loser sees rowcount 0.
        result = self._session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(**_NO_SYNC)
        )
        self._session.commit()
        return result.rowcount == 1  # type: ignore[attr-defined]

    def revoke_family(self, family_id: str, *, now: datetime) -> int:
        result = self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(**_NO_SYNC)
        )
        self._session.commit()
        return result.rowcount  # type: ignore[attr-defined,no-any-return]

    def revoke(self, token_hash: str, *, user_id: int, now: datetime) -> bool:
        result = self._session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(**_NO_SYNC)
        )
        self._session.commit()
        return result.rowcount == 1  # type: ignore[attr-defined]


class SqlLoginFailureRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def recent(self, keys: Sequence[str], *, since: datetime) -> dict[str, FailureWindow]:
        rows = self._session.execute(
            select(LoginFailure.throttle_key, func.count(), func.min(LoginFailure.created_at))
            .where(LoginFailure.throttle_key.in_(keys), LoginFailure.created_at > since)
            .group_by(LoginFailure.throttle_key)
        ).all()
        self._session.commit()
        found = {key: FailureWindow(count, oldest) for key, count, oldest in rows}
        return {key: found.get(key, FailureWindow(0, None)) for key in keys}

    def add(self, keys: Sequence[str], *, at: datetime, prune_before: datetime) -> None:
        self._session.execute(
            delete(LoginFailure)
            .where(LoginFailure.throttle_key.in_(keys), LoginFailure.created_at < prune_before)
            .execution_options(**_NO_SYNC)
        )
        self._session.add_all(LoginFailure(throttle_key=key, created_at=at) for key in keys)
        self._session.commit()

    def clear(self, key: str) -> None:
        self._session.execute(
            delete(LoginFailure)
            .where(LoginFailure.throttle_key == key)
            .execution_options(**_NO_SYNC)
        )
        self._session.commit()
