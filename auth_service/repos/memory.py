"""In-memory auth storage over the shared MemoryDatabase; held to the SQL behaviour by
the contract suite."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from datetime import datetime

from auth_service.repos.base import (
    ApiKeyRecord,
    AppPasswordRecord,
    Credentials,
    FailureWindow,
    NewApiKey,
    NewRefreshToken,
    RefreshTokenRecord,
)
from database.memory import MemoryDatabase, Row
from database.types import utcnow
from database.unit_of_work import MemoryUnitOfWork


def _credentials(row: Row) -> Credentials:
    return Credentials(**{field.name: row[field.name] for field in fields(Credentials)})


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

    def get_by_username(self, username: str) -> Credentials | None:
        with self._db.lock:
            for row in self._db.users.values():
                if row["username"] == username:
                    return _credentials(row)
        return None

    def get_for_update(self, user_id: int) -> Credentials | None:
        # The unit of work holds the store's lock: nothing else runs until it ends.
        return self.get(user_id)

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
            row = {
                **asdict(token),
                "id": self._db.next_id("refresh_tokens"),
                "created_at": now,
                "used_at": None,
                "revoked_at": None,
            }
            self._db.refresh_tokens[row["id"]] = row
            return RefreshTokenRecord(**row)

    def prune_expired(self, user_id: int, *, now: datetime) -> int:
        tokens = self._db.refresh_tokens
        doomed = [
            key
            for key, row in tokens.items()
            if row["user_id"] == user_id and row["expires_at"] < now
        ]
        for key in doomed:
            del tokens[key]
        return len(doomed)

    def get_for_update(self, token_hash: str) -> RefreshTokenRecord | None:
        # The unit of work holds the store's lock: nothing else runs until it ends.
        for row in self._db.refresh_tokens.values():
            if row["token_hash"] == token_hash:
                return RefreshTokenRecord(**row)
        return None

    def mark_used(self, token_id: int, *, now: datetime) -> None:
        row = self._db.refresh_tokens.get(token_id)
        if row is not None and row["used_at"] is None:
            row["used_at"] = now

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

    def revoke_user(self, user_id: int, *, now: datetime) -> int:
        rows = [
            row
            for row in self._db.refresh_tokens.values()
            if row["user_id"] == user_id and row["revoked_at"] is None
        ]
        for row in rows:
            row["revoked_at"] = now
        return len(rows)


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
                windows[key] = FailureWindow(len(times), max(times, default=None))
            return windows

    def add(self, keys: Sequence[str], *, at: datetime) -> list[int]:
        ids = []
        with self._db.lock:
            for key in keys:
                row_id = self._db.next_id("login_failures")
                self._db.login_failures[row_id] = {
                    "id": row_id,
                    "throttle_key": key,
                    "created_at": at,
                }
                ids.append(row_id)
        return ids

    def discard(self, row_ids: Sequence[int]) -> None:
        wanted = set(row_ids)
        self._delete(lambda row: row["id"] in wanted)

    def clear(self, key: str) -> None:
        self._delete(lambda row: row["throttle_key"] == key)

    def prune(self, *, before: datetime, limit: int) -> int:
        with self._db.lock:
            oldest = sorted(self._db.login_failures)[:limit]
            stale = {i for i in oldest if self._db.login_failures[i]["created_at"] < before}
        return self._delete(lambda row: row["id"] in stale)

    def _delete(self, doomed: Callable[[Row], bool]) -> int:
        with self._db.lock:
            failures = self._db.login_failures
            ids = [row_id for row_id, row in failures.items() if doomed(row)]
            for row_id in ids:
                del failures[row_id]
            return len(ids)


class InMemoryApiKeyRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def add(self, key: NewApiKey, *, now: datetime) -> ApiKeyRecord:
        with self._db.lock:
            row = {
                **asdict(key),
                "id": self._db.next_id("api_keys"),
                "created_at": now,
                "last_used_at": None,
            }
            if any(other["key_hmac"] == key.key_hmac for other in self._db.api_keys.values()):
                raise ValueError("duplicate key_hmac")  # the UNIQUE constraint
            self._db.api_keys[row["id"]] = row
            return ApiKeyRecord(**row)

    def list_for_user(self, user_id: int) -> list[ApiKeyRecord]:
        with self._db.lock:
            return [
                ApiKeyRecord(**self._db.api_keys[key_id])
                for key_id in sorted(self._db.api_keys)
                if self._db.api_keys[key_id]["user_id"] == user_id
            ]

    def count_for_user(self, user_id: int) -> int:
        return len(self.list_for_user(user_id))

    def delete(self, key_id: int, *, user_id: int) -> bool:
        with self._db.lock:
            row = self._db.api_keys.get(key_id)
            if row is None or row["user_id"] != user_id:
                return False
            del self._db.api_keys[key_id]
            return True

    def find_by_hmac(self, key_hmac: str) -> ApiKeyRecord | None:
        with self._db.lock:
            for row in self._db.api_keys.values():
                if row["key_hmac"] == key_hmac:
                    return ApiKeyRecord(**row)
        return None

    def touch(self, key_id: int, *, now: datetime, not_since: datetime) -> bool:
        with self._db.lock:
            row = self._db.api_keys.get(key_id)
            if row is None or (row["last_used_at"] is not None and row["last_used_at"] > not_since):
                return False
            row["last_used_at"] = now
            return True


class InMemoryAppPasswordRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def set(self, user_id: int, ciphertext: str, *, now: datetime) -> AppPasswordRecord:
        with self._db.lock:
            row = {"user_id": user_id, "ciphertext": ciphertext, "created_at": now}
            self._db.app_passwords[user_id] = row
            return AppPasswordRecord(**row)

    def get(self, user_id: int) -> AppPasswordRecord | None:
        row = self._db.app_passwords.get(user_id)
        return AppPasswordRecord(**row) if row else None

    def delete(self, user_id: int) -> bool:
        with self._db.lock:
            return self._db.app_passwords.pop(user_id, None) is not None


class InMemoryAuthUnitOfWork(MemoryUnitOfWork):
    """auth_service's unit of work over the shared MemoryDatabase."""

    credentials: InMemoryCredentialRepository
    refresh_tokens: InMemoryRefreshTokenRepository
    login_failures: InMemoryLoginFailureRepository
    api_keys: InMemoryApiKeyRepository
    app_passwords: InMemoryAppPasswordRepository

    def bind(self, db: MemoryDatabase) -> None:
        self.credentials = InMemoryCredentialRepository(db)
        self.refresh_tokens = InMemoryRefreshTokenRepository(db)
        self.login_failures = InMemoryLoginFailureRepository(db)
        self.api_keys = InMemoryApiKeyRepository(db)
        self.app_passwords = InMemoryAppPasswordRepository(db)
