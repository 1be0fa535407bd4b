"""What auth_service needs from storage; the SQL and in-memory versions both honour it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from database.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Credentials:
    """The slice of a `users` row that logging in needs; never leaves the service."""

    id: int
    email: str
    # Stored lower-cased by user_service (its Username type): Subsonic clients log in with it.
    username: str
    password_hash: str
    role: str
    # Bumped by user_service whenever the password, email or role changes: a
    # refresh token issued under an older version is dead (API.md, Sessions).
    session_version: int


@dataclass(frozen=True)
class NewRefreshToken:
    user_id: int
    token_hash: str
    family_id: str
    expires_at: datetime
    session_version: int


@dataclass(frozen=True)
class RefreshTokenRecord:
    id: int
    user_id: int
    token_hash: str
    family_id: str
    expires_at: datetime
    created_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    session_version: int


@dataclass(frozen=True)
class FailureWindow:
    """Failures of one throttle key inside the window, and when the latest happened."""

    count: int
    latest: datetime | None


class CredentialRepository(Protocol):
    def get_by_email(self, email: str) -> Credentials | None:
        """Exact match on the stored (lower-cased) address."""
        ...

    def get(self, user_id: int) -> Credentials | None: ...

    def get_by_username(self, username: str) -> Credentials | None:
        """Exact match on the stored (lower-cased) username."""
        ...

    def get_for_update(self, user_id: int) -> Credentials | None:
        """The user, the row locked until the unit ends: rows that name the user
        (keys, app password) are written while the account cannot go away, and
        two writers for one user take turns."""
        ...

    def update_password_hash(self, user_id: int, password_hash: str) -> None: ...


class RefreshTokenRepository(Protocol):
    def add(self, token: NewRefreshToken, *, now: datetime) -> RefreshTokenRecord:
        """Store a token issued at `now`."""
        ...

    def prune_expired(self, user_id: int, *, now: datetime) -> int:
        """Delete the user's tokens that expired before `now`; how many went.

        Called at login, not at refresh: the range delete would lock rows that a
        concurrent refresh of another of the user's sessions holds, and InnoDB
        would then pick one of the two as a deadlock victim."""
        ...

    def get_for_update(self, token_hash: str) -> RefreshTokenRecord | None:
        """The token, its row locked until the unit ends: two refreshes with one
        token take turns, and the second sees what the first did."""
        ...

    def mark_used(self, token_id: int, *, now: datetime) -> None:
        """Record the token's rotation (the first one only)."""
        ...

    def revoke_family(self, family_id: str, *, now: datetime) -> int:
        """Revoke every not yet revoked token of the family; how many were revoked."""
        ...

    def revoke(self, token_hash: str, *, user_id: int, now: datetime) -> bool:
        """Revoke one token if it belongs to `user_id`; False when nothing changed."""
        ...

    def revoke_user(self, user_id: int, *, now: datetime) -> int:
        """Revoke every not yet revoked token of the user; how many were revoked."""
        ...


class LoginFailureRepository(Protocol):
    """Throttle rows: one per failure (or sign-up) per key, never a counter, so
    concurrent writers from several processes never lose an update."""

    def recent(self, keys: Sequence[str], *, since: datetime) -> dict[str, FailureWindow]:
        """Failures after `since` for each key (keys without any map to count 0)."""
        ...

    def add(self, keys: Sequence[str], *, at: datetime) -> list[int]:
        """Record one failure at `at` for each key; the new rows' ids."""
        ...

    def discard(self, row_ids: Sequence[int]) -> None:
        """Take back failures recorded by `add` (an attempt that turned out to succeed)."""
        ...

    def clear(self, key: str) -> None:
        """Forget every failure of the key."""
        ...

    def prune(self, *, before: datetime, limit: int) -> int:
        """Delete rows older than `before`, whatever their key, looking at no more
        than the `limit` oldest rows: a bounded delete every writer can afford.
        How many went."""
        ...


@dataclass(frozen=True)
class NewApiKey:
    user_id: int
    name: str
    key_hmac: str
    hint: str


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored API key. The HMAC stays in the repository and the service: no
    response model has a field for it."""

    id: int
    user_id: int
    name: str
    key_hmac: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class AppPasswordRecord:
    user_id: int
    ciphertext: str
    created_at: datetime


class ApiKeyRepository(Protocol):
    def add(self, key: NewApiKey, *, now: datetime) -> ApiKeyRecord:
        """Store a key created at `now`, never used yet."""
        ...

    def list_for_user(self, user_id: int) -> list[ApiKeyRecord]:
        """The user's keys, oldest first (by id)."""
        ...

    def count_for_user(self, user_id: int) -> int: ...

    def delete(self, key_id: int, *, user_id: int) -> bool:
        """Delete the key if it is `user_id`'s; False when no such key of theirs."""
        ...

    def find_by_hmac(self, key_hmac: str) -> ApiKeyRecord | None: ...

    def touch(self, key_id: int, *, now: datetime, not_since: datetime) -> bool:
        """Set last_used_at to `now` unless it is already later than `not_since`
        (so a key is written at most once per interval, however many processes
        race); True when the row changed."""
        ...


class AppPasswordRepository(Protocol):
    def set(self, user_id: int, ciphertext: str, *, now: datetime) -> AppPasswordRecord:
        """Store the user's app password, replacing any earlier one."""
        ...

    def get(self, user_id: int) -> AppPasswordRecord | None: ...

    def delete(self, user_id: int) -> bool:
        """Delete the user's app password; False when there was none."""
        ...


class AuthUnitOfWork(UnitOfWork, Protocol):
    """One transaction over auth_service's repositories (database.unit_of_work)."""

    credentials: CredentialRepository
    refresh_tokens: RefreshTokenRepository
    login_failures: LoginFailureRepository
    api_keys: ApiKeyRepository
    app_passwords: AppPasswordRepository
