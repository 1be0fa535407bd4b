"""The rules of AuthService, against the in-memory repositories and a hand-moved clock."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import DataError

from auth_service.repos.memory import InMemoryAuthUnitOfWork, InMemoryLoginFailureRepository
from auth_service.services.auth import (
    AuthService,
    InvalidRefreshTokenError,
    LoginUnavailableError,
    hash_refresh_token,
)
from auth_service.services.throttle import PRUNE_BATCH, LoginKeys
from auth_service.tests.conftest import PASSWORD, FakeClock, add_memory_user
from common.client_address import normalized_address
from common.errors import InvalidCredentialsError, TooManyRequestsError
from common.keys import load_verification_key
from common.passwords import PasswordHasher
from common.settings import Settings
from common.tokens import TokenVerifier
from database.memory import MemoryDatabase

ServiceFactory = Callable[..., AuthService]
ADDRESS = "203.0.113.9"


class CountingHasher(PasswordHasher):
    """Counts bcrypt verifications, to prove a locked account costs no CPU.
    `verify` goes through `verify_and_update` too, so this counts both."""

    def __init__(self, rounds: int) -> None:
        super().__init__(rounds)
        self.verifications = 0

    def verify_and_update(
        self, password: str, password_hash: str | None
    ) -> tuple[bool, str | None]:
        self.verifications += 1
        return super().verify_and_update(password, password_hash)


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


def wrong(service: AuthService, address: str = ADDRESS, email: str = "alice@example.com") -> None:
    with pytest.raises(InvalidCredentialsError):
        service.login(email, "wrong", address)


def wait_for(service: AuthService, address: str = ADDRESS, email: str = "alice@example.com") -> int:
    """The Retry-After of a refused attempt."""
    with pytest.raises(TooManyRequestsError) as caught:
        service.login(email, PASSWORD, address)
    return int((caught.value.headers or {})["Retry-After"])


def test_free_failures_then_delays_that_double_without_bcrypt(
    memory_db: MemoryDatabase, make_service: ServiceFactory, clock: FakeClock
) -> None:
    hasher = CountingHasher(4)
    add_memory_user(memory_db, hasher)
    service = make_service(hasher, login_free_failures=3, login_max_delay_seconds=5)
    for _ in range(3):
        wrong(service)
    waits = []
    for _ in range(5):
        hasher.verifications = 0
        waits.append(wait_for(service))  # even the right password waits
        assert hasher.verifications == 0  # a refused attempt costs no bcrypt
        clock.advance(seconds=waits[-1])
        wrong(service)
    assert waits == [1, 2, 4, 5, 5]  # doubling, up to the maximum
    clock.advance(seconds=5)
    assert service.login("alice@example.com", PASSWORD, ADDRESS).role == "user"


def test_a_stranger_never_locks_the_owner_out_elsewhere(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher, clock: FakeClock
) -> None:
    """However long one address guesses, waiting out every delay, the owner at
    another address logs in at once."""
    add_memory_user(memory_db, fast_hasher)
    for _ in range(60):
        try:
            service.login("alice@example.com", "guess", "198.51.100.66")
        except InvalidCredentialsError:
            pass
        except TooManyRequestsError as refused:
            clock.advance(seconds=int((refused.headers or {})["Retry-After"]))
    assert service.login("alice@example.com", PASSWORD, "203.0.113.5").role == "user"


def test_many_addresses_together_reach_the_account_limit(
    memory_db: MemoryDatabase, fast_hasher: PasswordHasher, make_service: ServiceFactory
) -> None:
    add_memory_user(memory_db, fast_hasher)
    service = make_service(login_free_failures=2, login_max_failures_per_account=4)
    # One address counts at most its two free failures towards the account's four.
    for _ in range(2):
        wrong(service, "198.51.100.1")
    assert wait_for(service, "198.51.100.1") == 1
    assert service.login("alice@example.com", PASSWORD, "192.0.2.1").role == "user"
    for _ in range(2):
        wrong(service, "198.51.100.2")
    # Now the account waits, wherever the attempt comes from.
    assert wait_for(service, "192.0.2.99") == 1


def test_one_address_guessing_many_accounts_is_slowed_down(
    memory_db: MemoryDatabase, fast_hasher: PasswordHasher, make_service: ServiceFactory
) -> None:
    add_memory_user(memory_db, fast_hasher)
    service = make_service(login_max_failures_per_address=3)
    for name in ("a", "b", "c"):
        wrong(service, email=f"{name}@example.com")
    assert wait_for(service) == 1
    assert service.login("alice@example.com", PASSWORD, "192.0.2.1").role == "user"


def test_success_forgives_that_pair_only(
    memory_db: MemoryDatabase, fast_hasher: PasswordHasher, make_service: ServiceFactory
) -> None:
    add_memory_user(memory_db, fast_hasher)
    service = make_service(login_free_failures=2)
    wrong(service)
    wrong(service, "192.0.2.1")
    service.login("alice@example.com", PASSWORD, ADDRESS)
    keys = sorted(row["throttle_key"] for row in memory_db.login_failures.values())
    account = LoginKeys.of("alice@example.com", ADDRESS)
    elsewhere = LoginKeys.of("alice@example.com", "192.0.2.1")
    # The pair starts afresh; the login itself left nothing; the account still
    # counts both failures and each address its own.
    assert keys == sorted([account.account, account.account, account.address,
                           elsewhere.pair, elsewhere.address])  # fmt: skip
    wrong(service)
    wrong(service)
    assert wait_for(service) == 1


class BrokenFailures(InMemoryLoginFailureRepository):
    """A failure store that cannot write (a full disk, a value the database
    refuses): from the start, or only once a password was found wrong."""

    only_failures = False

    def add(self, keys: Sequence[str], *, at: datetime) -> list[int]:
        if self.only_failures and all(key.startswith("inflight:") for key in keys):
            return super().add(keys, at=at)
        raise DataError("INSERT INTO login_failures ...", {}, ValueError("value too long"))


class BrokenAfterTheCheck(BrokenFailures):
    only_failures = True


@pytest.mark.parametrize(
    ("broken", "password", "bcrypt_runs"),
    [
        (BrokenFailures, PASSWORD, 0),
        (BrokenFailures, "wrong", 0),
        (BrokenAfterTheCheck, "wrong", 1),
    ],
)
def test_an_attempt_that_cannot_be_recorded_gets_no_verdict(
    memory_db: MemoryDatabase,
    make_service: ServiceFactory,
    broken: type[BrokenFailures],
    password: str,
    bcrypt_runs: int,
) -> None:
    class Unit(InMemoryAuthUnitOfWork):
        def bind(self, db: MemoryDatabase) -> None:
            super().bind(db)
            self.login_failures = broken(db)

    hasher = CountingHasher(4)
    add_memory_user(memory_db, hasher)
    service = make_service(hasher)
    service._unit = functools.partial(Unit, memory_db)
    hasher.verifications = 0
    with pytest.raises(LoginUnavailableError) as caught:
        service.login("alice@example.com", password, ADDRESS)
    assert caught.value.status_code == 503 and "Retry-After" in (caught.value.headers or {})
    assert hasher.verifications == bcrypt_runs
    assert memory_db.refresh_tokens == {}


@given(email=st.text(min_size=1, max_size=2000), host=st.text(max_size=6000))
def test_throttle_keys_are_short_whatever_the_client_sends(email: str, host: str) -> None:
    keys = LoginKeys.of(email, normalized_address(host))
    for key in (keys.pair, keys.account, keys.address):
        assert len(key) <= 100, key
    assert keys.pair.endswith(f"|{normalized_address(host)}")
    assert len(normalized_address(host)) <= 43


def test_stale_failures_of_any_key_are_pruned_in_bulk(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher, clock: FakeClock
) -> None:
    """Old rows go even when their key never fails again, a batch per failure."""
    add_memory_user(memory_db, fast_hasher)
    for n in range(250):  # three rows each: pair, account, address
        wrong(service, f"10.0.{n // 200}.{n % 200}", email=f"gone{n}@example.com")
    clock.advance(days=2)
    wrong(service, "192.0.2.1")
    assert len(memory_db.login_failures) == 750 - PRUNE_BATCH + 3  # one batch per failure
    for n in range(7):
        wrong(service, f"192.0.2.{n + 2}")
    assert all(row["created_at"] == clock.now for row in memory_db.login_failures.values())
    assert len(memory_db.login_failures) == 8 * 3


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
    service: AuthService,
    memory_db: MemoryDatabase,
    fast_hasher: PasswordHasher,
    settings: Settings,
    clock: FakeClock,
) -> None:
    add_memory_user(memory_db, fast_hasher)
    other_login = service.login("alice@example.com", PASSWORD, ADDRESS)
    first = service.login("alice@example.com", PASSWORD, ADDRESS)
    second = service.refresh(first.refresh_token)
    clock.advance(seconds=settings.refresh_reuse_grace_seconds + 1)  # too late for a retry
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


def test_a_retry_within_the_grace_window_gets_a_new_pair(
    service: AuthService,
    memory_db: MemoryDatabase,
    fast_hasher: PasswordHasher,
    settings: Settings,
    clock: FakeClock,
) -> None:
    """A rotated token presented again soon (a lost response, a second tab) is a
    retry: another pair of the same chain, and nothing is revoked."""
    add_memory_user(memory_db, fast_hasher)
    first = service.login("alice@example.com", PASSWORD, ADDRESS)
    second = service.refresh(first.refresh_token)
    clock.advance(seconds=settings.refresh_reuse_grace_seconds)
    retried = service.refresh(first.refresh_token)
    assert retried.refresh_token not in (first.refresh_token, second.refresh_token)
    assert all(row["revoked_at"] is None for row in memory_db.refresh_tokens.values())
    assert len({row["family_id"] for row in memory_db.refresh_tokens.values()}) == 1
    assert service.refresh(second.refresh_token).user_id == first.user_id
    assert service.refresh(retried.refresh_token).user_id == first.user_id


def test_a_credential_change_kills_the_sessions_issued_before(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    alice = add_memory_user(memory_db, fast_hasher)
    before = service.login("alice@example.com", PASSWORD, ADDRESS)
    memory_db.users[alice]["session_version"] += 1  # what user_service does on a change
    with pytest.raises(InvalidRefreshTokenError):
        service.refresh(before.refresh_token)
    assert all(row["revoked_at"] is not None for row in memory_db.refresh_tokens.values())
    after = service.login("alice@example.com", PASSWORD, ADDRESS)
    assert service.refresh(after.refresh_token).user_id == alice


def test_logout_all_revokes_every_token_of_the_user_only(
    service: AuthService, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    alice = add_memory_user(memory_db, fast_hasher)
    bob = add_memory_user(memory_db, fast_hasher, "bob")
    phone = service.login("alice@example.com", PASSWORD, ADDRESS)
    laptop = service.login("alice@example.com", PASSWORD, ADDRESS)
    bobs = service.login("bob@example.com", PASSWORD, ADDRESS)
    service.logout_all(alice)
    for issued in (phone, laptop):
        with pytest.raises(InvalidRefreshTokenError):
            service.refresh(issued.refresh_token)
    assert service.refresh(bobs.refresh_token).user_id == bob
