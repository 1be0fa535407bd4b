"""Auth storage in the shared SQL database, with Core statements mapped to records.

The repositories run on the connection of the caller's unit of work and never
commit: the service decides where each transaction ends (and keeps bcrypt work
outside them, so no transaction holds a lock through it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Update,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from auth_service.repos.base import (
    ApiKeyRecord,
    AppPasswordRecord,
    Credentials,
    FailureWindow,
    NewApiKey,
    NewRefreshToken,
    RefreshTokenRecord,
)
from database.tables import api_keys, app_passwords, users
from database.tables import login_failures as failures
from database.tables import refresh_tokens as tokens
from database.unit_of_work import SqlUnitOfWork, locked
from database.writes import prune_oldest

# Only the columns logging in needs; the profile never leaves user_service.
CREDENTIAL_COLUMNS = [users.c[field.name] for field in fields(Credentials)]
TOKEN_COLUMNS = [tokens.c[field.name] for field in fields(RefreshTokenRecord)]
API_KEY_COLUMNS = [api_keys.c[field.name] for field in fields(ApiKeyRecord)]
APP_PASSWORD_COLUMNS = [app_passwords.c[field.name] for field in fields(AppPasswordRecord)]


class SqlCredentialRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_by_email(self, email: str) -> Credentials | None:
        return self._first(users.c.email == email)

    def get(self, user_id: int) -> Credentials | None:
        return self._first(users.c.id == user_id)

    def get_by_username(self, username: str) -> Credentials | None:
        return self._first(users.c.username == username)

    def get_for_update(self, user_id: int) -> Credentials | None:
        row = self._connection.execute(
            locked(select(*CREDENTIAL_COLUMNS).where(users.c.id == user_id), users)
        ).first()
        return Credentials(*row) if row else None

    def update_password_hash(self, user_id: int, password_hash: str) -> None:
        self._connection.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def _first(self, criterion: ColumnElement[bool]) -> Credentials | None:
        row = self._connection.execute(select(*CREDENTIAL_COLUMNS).where(criterion)).first()
        return Credentials(*row) if row else None


class SqlRefreshTokenRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, token: NewRefreshToken, *, now: datetime) -> RefreshTokenRecord:
        values: dict[str, Any] = {**asdict(token), "created_at": now}
        # No RETURNING: MySQL lacks it on INSERT. The record is what was written.
        result = self._connection.execute(insert(tokens).values(**values))
        return RefreshTokenRecord(
            id=result.inserted_primary_key[0], **values, used_at=None, revoked_at=None
        )

    def prune_expired(self, user_id: int, *, now: datetime) -> int:
        return self._connection.execute(
            delete(tokens).where(tokens.c.user_id == user_id, tokens.c.expires_at < now)
        ).rowcount

    def get_for_update(self, token_hash: str) -> RefreshTokenRecord | None:
        row = self._connection.execute(
            locked(select(*TOKEN_COLUMNS).where(tokens.c.token_hash == token_hash), tokens)
        ).first()
        return RefreshTokenRecord(*row) if row else None

    def mark_used(self, token_id: int, *, now: datetime) -> None:
        self._update(
            update(tokens).where(tokens.c.id == token_id, tokens.c.used_at.is_(None)),
            used_at=now,
        )

    def revoke_family(self, family_id: str, *, now: datetime) -> int:
        return self._update(
            update(tokens).where(tokens.c.family_id == family_id, tokens.c.revoked_at.is_(None)),
            revoked_at=now,
        )

    def revoke(self, token_hash: str, *, user_id: int, now: datetime) -> bool:
        return (
            self._update(
                update(tokens).where(
                    tokens.c.token_hash == token_hash,
                    tokens.c.user_id == user_id,
                    tokens.c.revoked_at.is_(None),
                ),
                revoked_at=now,
            )
            == 1
        )

    def revoke_user(self, user_id: int, *, now: datetime) -> int:
        return self._update(
            update(tokens).where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None)),
            revoked_at=now,
        )

    def _update(self, statement: Update, **values: Any) -> int:
        """Run one UPDATE; how many rows it changed."""
        return self._connection.execute(statement.values(**values)).rowcount


class SqlLoginFailureRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def recent(self, keys: Sequence[str], *, since: datetime) -> dict[str, FailureWindow]:
        statement = (
            select(failures.c.throttle_key, func.count(), func.max(failures.c.created_at))
            .where(failures.c.throttle_key.in_(keys), failures.c.created_at > since)
            .group_by(failures.c.throttle_key)
        )
        rows = self._connection.execute(statement).all()
        found = {key: FailureWindow(count, latest) for key, count, latest in rows}
        return {key: found.get(key, FailureWindow(0, None)) for key in keys}

    def add(self, keys: Sequence[str], *, at: datetime) -> list[int]:
        # One row per statement: the only portable way to learn each new id.
        return [
            self._connection.execute(
                insert(failures).values(throttle_key=key, created_at=at)
            ).inserted_primary_key[0]
            for key in keys
        ]

    def discard(self, row_ids: Sequence[int]) -> None:
        if row_ids:
            self._connection.execute(delete(failures).where(failures.c.id.in_(row_ids)))

    def clear(self, key: str) -> None:
        self._connection.execute(delete(failures).where(failures.c.throttle_key == key))

    def prune(self, *, before: datetime, limit: int) -> int:
        return prune_oldest(self._connection, failures, before=before, limit=limit)


class SqlApiKeyRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, key: NewApiKey, *, now: datetime) -> ApiKeyRecord:
        values: dict[str, Any] = {**asdict(key), "created_at": now, "last_used_at": None}
        result = self._connection.execute(insert(api_keys).values(**values))
        return ApiKeyRecord(id=result.inserted_primary_key[0], **values)

    def list_for_user(self, user_id: int) -> list[ApiKeyRecord]:
        statement = (
            select(*API_KEY_COLUMNS).where(api_keys.c.user_id == user_id).order_by(api_keys.c.id)
        )
        return [ApiKeyRecord(*row) for row in self._connection.execute(statement)]

    def count_for_user(self, user_id: int) -> int:
        statement = select(func.count()).select_from(api_keys).where(api_keys.c.user_id == user_id)
        return self._connection.execute(statement).scalar_one()

    def delete(self, key_id: int, *, user_id: int) -> bool:
        statement = delete(api_keys).where(api_keys.c.id == key_id, api_keys.c.user_id == user_id)
        return self._connection.execute(statement).rowcount == 1

    def find_by_hmac(self, key_hmac: str) -> ApiKeyRecord | None:
        row = self._connection.execute(
            select(*API_KEY_COLUMNS).where(api_keys.c.key_hmac == key_hmac)
        ).first()
        return ApiKeyRecord(*row) if row else None

    def touch(self, key_id: int, *, now: datetime, not_since: datetime) -> bool:
        statement = (
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at <= not_since),
            )
            .values(last_used_at=now)
        )
        return self._connection.execute(statement).rowcount == 1


class SqlAppPasswordRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def set(self, user_id: int, ciphertext: str, *, now: datetime) -> AppPasswordRecord:
        # Delete then insert: portable (no upsert syntax is common to the four
        # databases); the caller holds the user's row lock, so writers take turns.
        self.delete(user_id)
        values = {"user_id": user_id, "ciphertext": ciphertext, "created_at": now}
        self._connection.execute(insert(app_passwords).values(**values))
        return AppPasswordRecord(**values)

    def get(self, user_id: int) -> AppPasswordRecord | None:
        row = self._connection.execute(
            select(*APP_PASSWORD_COLUMNS).where(app_passwords.c.user_id == user_id)
        ).first()
        return AppPasswordRecord(*row) if row else None

    def delete(self, user_id: int) -> bool:
        statement = delete(app_passwords).where(app_passwords.c.user_id == user_id)
        return self._connection.execute(statement).rowcount == 1


class SqlAuthUnitOfWork(SqlUnitOfWork):
    """auth_service's unit of work on the shared SQL database."""

    credentials: SqlCredentialRepository
    refresh_tokens: SqlRefreshTokenRepository
    login_failures: SqlLoginFailureRepository
    api_keys: SqlApiKeyRepository
    app_passwords: SqlAppPasswordRepository

    def bind(self, connection: Connection) -> None:
        self.credentials = SqlCredentialRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
        self.login_failures = SqlLoginFailureRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.app_passwords = SqlAppPasswordRepository(connection)
