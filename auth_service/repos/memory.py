"""In-memory auth storage over the shared MemoryDatabase; held to the SQL behaviour by
the contract suite."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from auth_service.repos.base import (
    Credentials,
    FailureWindow,
    NewRefreshToken,
    RefreshTokenRecord,
)
from database.memory import MemoryDatabase, Row
from database.types import utcnow


def _credentials(row: Row) -> Credentials:
    return Credentials(
        id=row["id"], email=row["email"], password_hash=row["password_hash"], role=row["role"]
    )


def _is_live(row: Row, now: datetime) -> bool:
    return row["used_at"] is None and row["revoked_at"] is None and row["expires_at"] > now


class InMemoryCredentialRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def get_by_email(self, email: str) -> Credentials | None:
        with self._db.lock:
            for row in self._db.users.values():
                if row["email"] == email:
                    return _credentials(row)
        return None

    def get(self, user_id: int) -> Credentials | None:
        row = self._db.users.get(user_id)
        return _credentials(row) if row else None

    def update_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._db.lock:
            row = self._db.users.get(user_id)
            if row is not None:
                row.update(password_hash=password_hash, updated_at=utcnow())


class InMemoryRefreshTokenRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def add(self, token: NewRefreshToken, *, now: datetime) -> RefreshTokenRecord:
        with self._db.lock:
            tokens = self._db.refresh_tokens
            for key in [
                key
                for key, row in tokens.items()
                if row["user_id"] == token.user_id and row["expires_at"] < now
            ]:
                del tokens[key]
            row = {
                **asdict(token),
                "id": self._db.next_id("refresh_tokens"),
                "created_at": now,
                "used_at": None,
                "revoked_at": None,
            }
            tokens[row["id"]] = row
            return RefreshTokenRecord(**row)

    def get_by_hash(self, token_hash: str) -> RefreshTokenRecord | None:
        with self._db.lock:
            for row in self._db.refresh_tokens.values():
                if row["token_hash"] == token_hash:
                    return RefreshTokenRecord(**row)
        return None

    def consume(self, token_id: int, *, now: datetime) -> bool:
        with self._db.lock:
            row = self._db.refresh_tokens.get(token_id)
            if row is None or not _is_live(row, now):
                return False
            row["used_at"] = now
            return True

    def revoke_family(self, family_id: str, *, now: datetime) -> int:
        with self._db.lock:
            rows = [
                row
                for row in self._db.refresh_tokens.values()
                if row["family_id"] == family_id and row["revoked_at"] is None
            ]
            for row in rows:
                row["revoked_at"] = now
            return len(rows)

    def revoke(self, token_hash: str, *, user_id: int, now: datetime) -> bool:
        with self._db.lock:
            for row in self._db.refresh_tokens.values():
                if (
                    row["token_hash"] == token_hash
                    and row["user_id"] == user_id
                    and row["revoked_at"] is None
                ):
                    row["revoked_at"] = now
                    return True
        return False


class InMemoryLoginFailureRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def recent(self, keys: Sequence[str], *, since: datetime) -> dict[str, FailureWindow]:
        with self._db.lock:
            windows = {}
            for key in keys:
                times = [
                    row["created_at"]
                    for row in self._db.login_failures.values()
                    if row["throttle_key"] == key and row["created_at"] > since
                ]
                windows[key] = FailureWindow(len(times), min(times, default=None))
            return windows

    def add(self, keys: Sequence[str], *, at: datetime, prune_before: datetime) -> None:
        with self._db.lock:
            failures = self._db.login_failures
            wanted = set(keys)
            for doomed in [
                row_id
                for row_id, row in failures.items()
                if row["throttle_key"] in wanted and row["created_at"] < prune_before
            ]:
                del failures[doomed]
            for key in keys:
                row_id = self._db.next_id("login_failures")
                failures[row_id] = {"id": row_id, "throttle_key": key, "created_at": at}

    def clear(self, key: str) -> None:
        with self._db.lock:
            failures = self._db.login_failures
            for doomed in [i for i, row in failures.items() if row["throttle_key"] == key]:
                del failures[doomed]
