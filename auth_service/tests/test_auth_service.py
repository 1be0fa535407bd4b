"""The rules of AuthService, against the in-memory repositories and a hand-moved clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auth_service.services.auth import AuthService, InvalidRefreshTokenError, hash_refresh_token
from auth_service.tests.conftest import PASSWORD, FakeClock, add_memory_user
from common.errors import InvalidCredentialsError, TooManyRequestsError
from common.keys import load_verification_key
from common.passwords import PasswordHasher
from common.settings import Settings
from common.tokens import TokenVerifier
from database.memory import MemoryDatabase

ServiceFactory = Callable[..., AuthService]
ADDRESS = "203.0.113.9"


class CountingHasher(PasswordHasher):
    """Counts bcrypt verifications, to prove a locked account costs no CPU."""

    def __init__(self, rounds: int) -> None:
        super().__init__(rounds)
        self.verifications = 0

    def verify(self, password: str, password_hash: str | None) -> bool:
        self.verifications += 1
        return super().verify(password, password_hash)


def role_in(settings: Settings, token: str) -> str:
    verifier = TokenVerifier(
        load_verification_key(settings), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    return verifier.verify(token).role


def test_login_issues_tokens_for_the_account(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher, settings: Settings
) -> None:
    alice = add_memory_user(memory_db, fast_hasher, role="admin")
    issued = service.login("alice@example.com", PASSWORD, ADDRESS)
    assert (issued.user_id, issued.role) == (alice, "admin")
    assert role_in(settings, issued.access.token) == "admin"
    stored = next(iter(memory_db.refresh_tokens.values()))
    # Only the digest is stored, never the token itself.
    assert stored["token_hash"] == hash_refresh_token(issued.refresh_token)
    assert issued.refresh_token not in str(memory_db.refresh_tokens)


def test_login_compares_the_email_lower_cased(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    add_memory_user(memory_db, fast_hasher)
    assert service.login("Alice@Example.COM", PASSWORD, ADDRESS).role == "user"


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
def test_wrong_password_and_unknown_email_fail_alike(
    memory_db: MemoryDatabase, make_service: ServiceFactory, email: str, password: str
) -> None:
    hasher = CountingHasher(4)
    add_memory_user(memory_db, hasher)
    with pytest.raises(InvalidCredentialsError) as caught:
        make_service(hasher).login(email, password, ADDRESS)
    assert caught.value.detail == "Invalid credentials"
    assert hasher.verifications == 1  # one bcrypt round either way: same timing


def test_account_is_throttled_after_the_limit_without_bcrypt(
    memory_db: MemoryDatabase, make_service: ServiceFactory, clock: FakeClock
) -> None:
    hasher = CountingHasher(4)
    add_memory_user(memory_db, hasher)
    service = make_service(
        hasher, login_max_failures_per_account=3, login_failure_window_seconds=60
    )
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            service.login("alice@example.com", "wrong", ADDRESS)
        clock.advance(seconds=10)
    hasher.verifications = 0
    with pytest.raises(TooManyRequestsError) as caught:
        service.login("alice@example.com", PASSWORD, ADDRESS)  # even the right password
    assert hasher.verifications == 0
    # The first failure was 30 s ago in a 60 s window.
    assert caught.value.headers == {"Retry-After": "30"}
    clock.advance(seconds=31)
    assert service.login("alice@example.com", PASSWORD, ADDRESS).role == "user"


def test_account_throttle_spans_addresses(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher, settings: Settings
) -> None:
    add_memory_user(memory_db, fast_hasher)
    for i in range(settings.login_max_failures_per_account):
        with pytest.raises(InvalidCredentialsError):
            service.login("ALICE@example.com", "wrong", f"198.51.100.{i}")
    with pytest.raises(TooManyRequestsError):
        service.login("alice@example.com", PASSWORD, "192.0.2.1")


def test_address_throttle_spans_accounts(
    memory_db: MemoryDatabase, fast_hasher: PasswordHasher, make_service: ServiceFactory
) -> None:
    add_memory_user(memory_db, fast_hasher)
    service = make_service(login_max_failures_per_address=3)
    for name in ("a", "b", "c"):
        with pytest.raises(InvalidCredentialsError):
            service.login(f"{name}@example.com", "wrong", ADDRESS)
    with pytest.raises(TooManyRequestsError):
        service.login("alice@example.com", PASSWORD, ADDRESS)
    assert service.login("alice@example.com", PASSWORD, "192.0.2.1").role == "user"


def test_success_clears_the_account_failures_only(
    memory_db: MemoryDatabase, fast_hasher: PasswordHasher, make_service: ServiceFactory
) -> None:
    add_memory_user(memory_db, fast_hasher)
    service = make_service(login_max_failures_per_account=2, login_max_failures_per_address=3)
    with pytest.raises(InvalidCredentialsError):
        service.login("alice@example.com", "wrong", ADDRESS)
    service.login("alice@example.com", PASSWORD, ADDRESS)
    keys = [row["throttle_key"] for row in memory_db.login_failures.values()]
    assert keys == [f"address:{ADDRESS}"]
    # The account starts afresh: one more failure is not yet a lock-out.
    with pytest.raises(InvalidCredentialsError):
        service.login("alice@example.com", "wrong", ADDRESS)
    assert service.login("alice@example.com", PASSWORD, ADDRESS).role == "user"


def test_weak_hash_is_upgraded_on_login(
    memory_db: MemoryDatabase, fast_hasher: PasswordHasher, make_service: ServiceFactory
) -> None:
    alice = add_memory_user(memory_db, fast_hasher)
    stronger = PasswordHasher(5)
    make_service(stronger).login("alice@example.com", PASSWORD, ADDRESS)
    new_hash = memory_db.users[alice]["password_hash"]
    assert not stronger.needs_rehash(new_hash)
    assert stronger.verify(PASSWORD, new_hash)


def test_long_multibyte_password_works(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    password = "пароль🎵" * 16  # 112 characters, well over bcrypt's 72 bytes
    add_memory_user(memory_db, fast_hasher, password=password)
    assert service.login("alice@example.com", password, ADDRESS).role == "user"
    # Every character counts: changing the last one fails.
    with pytest.raises(InvalidCredentialsError):
        service.login("alice@example.com", password[:-1] + "x", ADDRESS)


def test_refresh_rotates_the_token(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    add_memory_user(memory_db, fast_hasher)
    first = service.login("alice@example.com", PASSWORD, ADDRESS)
    second = service.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.access.token != first.access.token
    third = service.refresh(second.refresh_token)
    assert third.user_id == first.user_id
    families = {row["family_id"] for row in memory_db.refresh_tokens.values()}
    assert len(families) == 1


def test_reusing_a_rotated_token_revokes_the_family(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    add_memory_user(memory_db, fast_hasher)
    other_login = service.login("alice@example.com", PASSWORD, ADDRESS)
    first = service.login("alice@example.com", PASSWORD, ADDRESS)
    second = service.refresh(first.refresh_token)
    with pytest.raises(InvalidRefreshTokenError):
        service.refresh(first.refresh_token)
    with pytest.raises(InvalidRefreshTokenError):
        service.refresh(second.refresh_token)  # the thief's copy and ours are both dead
    # Another login (another device) has its own family and keeps working.
    assert service.refresh(other_login.refresh_token).user_id == first.user_id


def test_refresh_carries_the_current_role(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher, settings: Settings
) -> None:
    alice = add_memory_user(memory_db, fast_hasher)
    issued = service.login("alice@example.com", PASSWORD, ADDRESS)
    memory_db.users[alice]["role"] = "admin"
    refreshed = service.refresh(issued.refresh_token)
    assert refreshed.role == "admin"
    assert role_in(settings, refreshed.access.token) == "admin"


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 43])
def test_unknown_refresh_token_is_refused(service: AuthService, token: str) -> None:
    with pytest.raises(InvalidRefreshTokenError):
        service.refresh(token)


def test_expired_refresh_token_is_refused(
    service: AuthService,
    memory_db: MemoryDatabase,
    fast_hasher: PasswordHasher,
    settings: Settings,
    clock: FakeClock,
) -> None:
    add_memory_user(memory_db, fast_hasher)
    issued = service.login("alice@example.com", PASSWORD, ADDRESS)
    clock.advance(days=settings.refresh_token_expire_days, seconds=1)
    with pytest.raises(InvalidRefreshTokenError):
        service.refresh(issued.refresh_token)


def test_deleted_users_refresh_tokens_are_gone(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    alice = add_memory_user(memory_db, fast_hasher)
    issued = service.login("alice@example.com", PASSWORD, ADDRESS)
    memory_db.delete_user(alice)
    with pytest.raises(InvalidRefreshTokenError):
        service.refresh(issued.refresh_token)


def test_logout_revokes_only_the_callers_token(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    alice = add_memory_user(memory_db, fast_hasher)
    bob = add_memory_user(memory_db, fast_hasher, "bob")
    alices = service.login("alice@example.com", PASSWORD, ADDRESS)
    bobs = service.login("bob@example.com", PASSWORD, ADDRESS)
    service.logout(alice, bobs.refresh_token)  # not hers: silently nothing
    assert service.refresh(bobs.refresh_token).user_id == bob
    service.logout(alice, alices.refresh_token)
    with pytest.raises(InvalidRefreshTokenError):
        service.refresh(alices.refresh_token)
