"""What every auth_service repository must do, asserted identically on each backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from auth_service.repos.base import (
    CredentialRepository,
    NewRefreshToken,
    RefreshTokenRepository,
)
from auth_service.repos.memory import InMemoryAuthUnitOfWork
from auth_service.repos.sql import SqlAuthUnitOfWork
from database.types import utcnow
from tests.contract.conftest import Backend

HASH = "$bcrypt-sha256$$2b$04$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa"


def seed_user(backend: Backend, name: str, role: str = "user") -> int:
    """A users row as user_service would store it, written straight to the backend."""
    return backend.insert(
        "users", username=name, email=f"{name}@example.com", password_hash=HASH,
        first_name=name.title(), role=role,
    )  # fmt: skip


def delete_user(backend: Backend, user_id: int) -> None:
    backend.delete("users", user_id)


def auth_repository(backend: Backend, name: str) -> Any:
    """One of auth_service's repositories, each call one committed unit of work."""
    return backend.repository(memory=InMemoryAuthUnitOfWork, sql=SqlAuthUnitOfWork, name=name)


def credentials(backend: Backend) -> CredentialRepository:
    return auth_repository(backend, "credentials")


def refresh_tokens(backend: Backend) -> RefreshTokenRepository:
    return auth_repository(backend, "refresh_tokens")


def new_token(
    user_id: int, name: str, family: str = "f" * 32, **changes: object
) -> NewRefreshToken:
    fields: dict[str, object] = {
        "user_id": user_id,
        "token_hash": name.ljust(64, "0"),
        "family_id": family,
        "expires_at": utcnow() + timedelta(days=1),
        "session_version": 0,
        **changes,
    }
    return NewRefreshToken(**fields)  # type: ignore[arg-type]


# Credentials


def test_credentials_by_email_and_id(backend: Backend) -> None:
    alice = seed_user(backend, "alice", role="admin")
    seed_user(backend, "bob")
    repo = credentials(backend)
    found = repo.get_by_email("alice@example.com")
    assert found is not None
    assert (found.id, found.email, found.password_hash, found.role, found.session_version) == (
        alice,
        "alice@example.com",
        HASH,
        "admin",
        0,
    )
    assert repo.get(alice) == found


def test_credentials_missing_are_none(backend: Backend) -> None:
    seed_user(backend, "alice")
    repo = credentials(backend)
    assert repo.get_by_email("nobody@example.com") is None
    assert repo.get(404) is None


def test_update_password_hash_changes_only_that_user(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = credentials(backend)
    repo.update_password_hash(alice, "$bcrypt-sha256$new")
    assert repo.get(alice).password_hash == "$bcrypt-sha256$new"  # type: ignore[union-attr]
    assert repo.get(bob).password_hash == HASH  # type: ignore[union-attr]
    repo.update_password_hash(404, "$bcrypt-sha256$ignored")  # absent: nothing happens


# Refresh tokens


def test_add_and_get_refresh_token_by_hash(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    now = utcnow()
    token = new_token(alice, "a", session_version=3)
    added = repo.add(token, now=now)
    assert added.id >= 1
    assert (added.user_id, added.token_hash, added.family_id, added.session_version) == (
        alice,
        token.token_hash,
        token.family_id,
        3,
    )
    assert added.expires_at == token.expires_at
    assert added.expires_at.utcoffset() == timedelta(0)
    assert added.used_at is None and added.revoked_at is None
    assert repo.get_for_update(token.token_hash) == added
    assert repo.get_for_update("0" * 64) is None


def test_a_token_is_marked_used_only_once(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    now = utcnow()
    token = repo.add(new_token(alice, "a"), now=now)
    repo.mark_used(token.id, now=now)
    repo.mark_used(token.id, now=now + timedelta(seconds=5))  # the first rotation stands
    assert repo.get_for_update(token.token_hash).used_at == now  # type: ignore[union-attr]
    repo.mark_used(404, now=now)  # absent: nothing happens


def test_concurrent_rotations_of_one_token_give_exactly_one_win(backend: Backend) -> None:
    """Each attempt is a unit of work on a connection of its own, as concurrent
    refresh requests are: the row lock makes them take turns, so exactly one
    finds the token unused."""
    alice = seed_user(backend, "alice")
    token = refresh_tokens(backend).add(new_token(alice, "a"), now=utcnow())
    units = backend.units(memory=InMemoryAuthUnitOfWork, sql=SqlAuthUnitOfWork)

    def attempt(_: int) -> bool:
        with units(write=True) as uow:
            record = uow.refresh_tokens.get_for_update(token.token_hash)
            assert record is not None
            if record.used_at is not None:
                return False
            uow.refresh_tokens.mark_used(record.id, now=utcnow())
            uow.commit()
            return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count(True) == 1


def test_the_locked_read_shows_expiry_and_revocation(backend: Backend) -> None:
    """What the service refuses a refresh on (expired, revoked) is on the record."""
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    now = utcnow()
    expires = now + timedelta(seconds=1)
    expired = repo.add(new_token(alice, "a", expires_at=expires), now=now)
    assert repo.get_for_update(expired.token_hash).expires_at == expires  # type: ignore[union-attr]
    revoked = repo.add(new_token(alice, "b"), now=now)
    assert repo.revoke(revoked.token_hash, user_id=alice, now=now) is True
    assert repo.get_for_update(revoked.token_hash).revoked_at == now  # type: ignore[union-attr]


def test_revoke_family_revokes_every_token_of_that_family_only(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    now = utcnow()
    first = repo.add(new_token(alice, "a", family="1" * 32), now=now)
    second = repo.add(new_token(alice, "b", family="1" * 32), now=now)
    other = repo.add(new_token(alice, "c", family="2" * 32), now=now)
    repo.mark_used(first.id, now=now)
    assert repo.revoke_family("1" * 32, now=now) == 2
    assert repo.revoke_family("1" * 32, now=now) == 0  # already revoked: nothing more
    for token in (first, second):
        assert repo.get_for_update(token.token_hash).revoked_at == now  # type: ignore[union-attr]
    assert repo.get_for_update(other.token_hash).revoked_at is None  # type: ignore[union-attr]
    assert repo.get_for_update(first.token_hash).used_at == now  # type: ignore[union-attr]


def test_revoke_only_touches_the_owners_token(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = refresh_tokens(backend)
    now = utcnow()
    token = repo.add(new_token(alice, "a"), now=now)
    assert repo.revoke(token.token_hash, user_id=bob, now=now) is False
    assert repo.get_for_update(token.token_hash).revoked_at is None  # type: ignore[union-attr]
    assert repo.revoke(token.token_hash, user_id=alice, now=now) is True
    assert repo.revoke(token.token_hash, user_id=alice, now=now) is False
    assert repo.revoke("0" * 64, user_id=alice, now=now) is False


def test_prune_expired_deletes_only_the_users_expired_tokens(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = refresh_tokens(backend)
    start = utcnow()
    short = dict(expires_at=start + timedelta(minutes=1))
    alices_old = repo.add(new_token(alice, "a", **short), now=start)
    bobs_old = repo.add(new_token(bob, "b", **short), now=start)
    later = start + timedelta(minutes=2)
    alices_new = repo.add(new_token(alice, "c"), now=later)
    assert repo.get_for_update(alices_old.token_hash) == alices_old  # adding prunes nothing
    assert repo.prune_expired(alice, now=later) == 1
    assert repo.get_for_update(alices_old.token_hash) is None
    assert repo.get_for_update(alices_new.token_hash) == alices_new  # still live: kept
    assert repo.get_for_update(bobs_old.token_hash) == bobs_old  # another user's: left alone


def test_deleting_the_user_removes_their_tokens(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    token = repo.add(new_token(alice, "a"), now=utcnow())
    delete_user(backend, alice)
    assert repo.get_for_update(token.token_hash) is None
