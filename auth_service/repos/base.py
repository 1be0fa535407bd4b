"""What auth_service needs from storage; the SQL and in-memory versions both honour it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Credentials:
    """The slice of a `users` row that logging in needs; never leaves the service."""

    id: int
    email: str
    password_hash: str
    role: str


@dataclass(frozen=True)
class NewRefreshToken:
    user_id: int
    token_hash: str
    family_id: str
    expires_at: datetime


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


@dataclass(frozen=True)
class FailureWindow:
    """Failures of one throttle key inside the window, and when the oldest happened."""

    count: int
    oldest: datetime | None


class CredentialRepository(Protocol):
    def get_by_email(self, email: str) -> Credentials | None:
        """Exact match on the stored (lower-cased) address."""
        ...

    def get(self, user_id: int) -> Credentials | None: ...

    def update_password_hash(self, user_id: int, password_hash: str) -> None: ...


class RefreshTokenRepository(Protocol):
    def add(self, token: NewRefreshToken, *, now: datetime) -> RefreshTokenRecord:
        """Store a token; the user's tokens that expired before `now` are deleted."""
        ...

    def get_by_hash(self, token_hash: str) -> RefreshTokenRecord | None: ...

    def consume(self, token_id: int, *, now: datetime) -> bool:
        """Mark a live (unused, unrevoked, unexpired) token used; False when it was not
        live, so of two concurrent calls exactly one wins."""
        ...

    def revoke_family(self, family_id: str, *, now: datetime) -> int:
        """Revoke every not yet revoked token of the family; how many were revoked."""
        ...

    def revoke(self, token_hash: str, *, user_id: int, now: datetime) -> bool:
        """Revoke one token if it belongs to `user_id`; False when nothing changed."""
        ...


class LoginFailureRepository(Protocol):
    def recent(self, keys: Sequence[str], *, since: datetime) -> dict[str, FailureWindow]:
        """Failures after `since` for each key (keys without any map to count 0)."""
        ...

    def add(self, keys: Sequence[str], *, at: datetime, prune_before: datetime) -> None:
        """Record one failure per key, deleting those keys' rows older than `prune_before`."""
        ...

    def clear(self, key: str) -> None: ...
