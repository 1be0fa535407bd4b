"""What every auth_service repository must do, asserted identically on each backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from auth_service.repos.base import (
    CredentialRepository,
    FailureWindow,
    LoginFailureRepository,
    NewRefreshToken,
    RefreshTokenRepository,
)
from auth_service.repos.memory import (
    InMemoryCredentialRepository,
    InMemoryLoginFailureRepository,
    InMemoryRefreshTokenRepository,
)
from auth_service.repos.sql import (
    SqlCredentialRepository,
    SqlLoginFailureRepository,
    SqlRefreshTokenRepository,
)
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


def credentials(backend: Backend) -> CredentialRepository:
    return backend.build(memory=InMemoryCredentialRepository, sql=SqlCredentialRepository)


def refresh_tokens(backend: Backend) -> RefreshTokenRepository:
    return backend.build(memory=InMemoryRefreshTokenRepository, sql=SqlRefreshTokenRepository)


def failures(backend: Backend) -> LoginFailureRepository:
    return backend.build(memory=InMemoryLoginFailureRepository, sql=SqlLoginFailureRepository)


def new_token(
    user_id: int, name: str, family: str = "f" * 32, **changes: object
) -> NewRefreshToken:
    fields: dict[str, object] = {
        "user_id": user_id,
        "token_hash": name.ljust(64, "0"),
        "family_id": family,
        "expires_at": utcnow() + timedelta(days=1),
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
    assert (found.id, found.email, found.password_hash, found.role) == (
        alice,
        "alice@example.com",
        HASH,
        "admin",
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
    token = new_token(alice, "a")
    added = repo.add(token, now=now)
    assert added.id >= 1
    assert (added.user_id, added.token_hash, added.family_id) == (
        alice,
        token.token_hash,
        token.family_id,
    )
    assert added.expires_at == token.expires_at
    assert added.expires_at.utcoffset() == timedelta(0)
    assert added.used_at is None and added.revoked_at is None
    assert repo.get_by_hash(token.token_hash) == added
    assert repo.get_by_hash("0" * 64) is None


def test_a_token_is_consumed_only_once(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    now = utcnow()
    token = repo.add(new_token(alice, "a"), now=now)
    assert repo.consume(token.id, now=now) is True
    assert repo.consume(token.id, now=now) is False
    assert repo.get_by_hash(token.token_hash).used_at == now  # type: ignore[union-attr]
    assert repo.consume(404, now=now) is False


def test_concurrent_consumes_of_one_token_give_exactly_one_win(backend: Backend) -> None:
    """Each call takes a connection of its own, as concurrent refresh requests do."""
    alice = seed_user(backend, "alice")
    token = refresh_tokens(backend).add(new_token(alice, "a"), now=utcnow())

    def attempt(_: int) -> bool:
        return refresh_tokens(backend).consume(token.id, now=utcnow())

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count(True) == 1


def test_expired_or_revoked_tokens_cannot_be_consumed(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    now = utcnow()
    expired = repo.add(new_token(alice, "a", expires_at=now + timedelta(seconds=1)), now=now)
    assert repo.consume(expired.id, now=now + timedelta(seconds=2)) is False
    revoked = repo.add(new_token(alice, "b"), now=now)
    assert repo.revoke(revoked.token_hash, user_id=alice, now=now) is True
    assert repo.consume(revoked.id, now=now) is False


def test_revoke_family_revokes_every_token_of_that_family_only(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    now = utcnow()
    first = repo.add(new_token(alice, "a", family="1" * 32), now=now)
    second = repo.add(new_token(alice, "b", family="1" * 32), now=now)
    other = repo.add(new_token(alice, "c", family="2" * 32), now=now)
    repo.consume(first.id, now=now)
    assert repo.revoke_family("1" * 32, now=now) == 2
    assert repo.revoke_family("1" * 32, now=now) == 0  # already revoked: nothing more
    for token in (first, second):
        assert repo.get_by_hash(token.token_hash).revoked_at == now  # type: ignore[union-attr]
    assert repo.get_by_hash(other.token_hash).revoked_at is None  # type: ignore[union-attr]
    assert repo.consume(second.id, now=now) is False


def test_revoke_only_touches_the_owners_token(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = refresh_tokens(backend)
    now = utcnow()
    token = repo.add(new_token(alice, "a"), now=now)
    assert repo.revoke(token.token_hash, user_id=bob, now=now) is False
    assert repo.get_by_hash(token.token_hash).revoked_at is None  # type: ignore[union-attr]
    assert repo.revoke(token.token_hash, user_id=alice, now=now) is True
    assert repo.revoke(token.token_hash, user_id=alice, now=now) is False
    assert repo.revoke("0" * 64, user_id=alice, now=now) is False


def test_add_prunes_the_users_expired_tokens(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = refresh_tokens(backend)
    start = utcnow()
    short = dict(expires_at=start + timedelta(minutes=1))
    alices_old = repo.add(new_token(alice, "a", **short), now=start)
    bobs_old = repo.add(new_token(bob, "b", **short), now=start)
    later = start + timedelta(minutes=2)
    repo.add(new_token(alice, "c"), now=later)
    assert repo.get_by_hash(alices_old.token_hash) is None
    assert repo.get_by_hash(bobs_old.token_hash) == bobs_old  # another user's: left alone


def test_deleting_the_user_removes_their_tokens(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = refresh_tokens(backend)
    token = repo.add(new_token(alice, "a"), now=utcnow())
    delete_user(backend, alice)
    assert repo.get_by_hash(token.token_hash) is None


# Login failures


def test_failures_are_counted_per_key_within_the_window(backend: Backend) -> None:
    repo = failures(backend)
    start = utcnow()
    window = timedelta(minutes=15)
    for minute in range(3):
        at = start + timedelta(minutes=minute)
        repo.add(["account:a@example.com", "address:1.2.3.4"], at=at, prune_before=at - window)
    repo.add(["account:b@example.com"], at=start, prune_before=start - window)
    keys = ["account:a@example.com", "address:1.2.3.4", "account:b@example.com", "address:x"]
    assert repo.recent(keys, since=start - window) == {
        "account:a@example.com": FailureWindow(3, start),
        "address:1.2.3.4": FailureWindow(3, start),
        "account:b@example.com": FailureWindow(1, start),
        "address:x": FailureWindow(0, None),
    }
    # Only failures strictly after `since` count; the oldest is the first one still in.
    later = repo.recent(["account:a@example.com"], since=start)
    assert later == {"account:a@example.com": FailureWindow(2, start + timedelta(minutes=1))}


def test_clear_forgets_one_key_only(backend: Backend) -> None:
    repo = failures(backend)
    now = utcnow()
    repo.add(["account:a@example.com", "address:1.2.3.4"], at=now, prune_before=now)
    repo.clear("account:a@example.com")
    since = now - timedelta(minutes=1)
    assert repo.recent(["account:a@example.com", "address:1.2.3.4"], since=since) == {
        "account:a@example.com": FailureWindow(0, None),
        "address:1.2.3.4": FailureWindow(1, now),
    }


def test_add_prunes_rows_older_than_the_window_for_its_keys(backend: Backend) -> None:
    repo = failures(backend)
    old: datetime = utcnow() - timedelta(hours=1)
    repo.add(["account:a@example.com", "address:other"], at=old, prune_before=old)
    now = utcnow()
    repo.add(["account:a@example.com"], at=now, prune_before=now - timedelta(minutes=15))
    # Counting from long ago shows what is still stored: the old row of the key is gone,
    # the other key's old row is kept until that key fails again.
    since = old - timedelta(days=1)
    assert repo.recent(["account:a@example.com", "address:other"], since=since) == {
        "account:a@example.com": FailureWindow(1, now),
        "address:other": FailureWindow(1, old),
    }
