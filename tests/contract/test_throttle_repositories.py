"""The throttle rows (failed logins, sign-ups) behave alike on every backend: the
in-memory fake, SQLite, PostgreSQL and MariaDB (API.md, Sessions)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from auth_service.repos.base import AuthUnitOfWork, FailureWindow, LoginFailureRepository
from auth_service.repos.memory import InMemoryAuthUnitOfWork
from auth_service.repos.sql import SqlAuthUnitOfWork
from auth_service.services.throttle import KEY_LIMIT, LoginKeys, LoginThrottle
from common.client_address import normalized_address
from common.errors import TooManyRequestsError
from database.types import utcnow
from tests.contract.conftest import Backend
from user_service.repos.signups import (
    AttemptWindow,
    InMemorySignUpUnitOfWork,
    SignUpAttemptRepository,
    SqlSignUpUnitOfWork,
)
from user_service.services.signups import SignUpThrottle, TooManySignUpsError


def failures(backend: Backend) -> LoginFailureRepository:
    return backend.repository(
        memory=InMemoryAuthUnitOfWork, sql=SqlAuthUnitOfWork, name="login_failures"
    )


def signups(backend: Backend) -> SignUpAttemptRepository:
    return backend.repository(
        memory=InMemorySignUpUnitOfWork, sql=SqlSignUpUnitOfWork, name="signups"
    )


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# Login failures


def test_failures_are_counted_per_key_with_the_latest(backend: Backend) -> None:
    repo = failures(backend)
    start = utcnow()
    for minute in range(3):
        repo.add(["pair:a|1.2.3.4", "address:1.2.3.4"], at=start + timedelta(minutes=minute))
    repo.add(["pair:b|1.2.3.4"], at=start)
    keys = ["pair:a|1.2.3.4", "address:1.2.3.4", "pair:b|1.2.3.4", "address:x"]
    last = start + timedelta(minutes=2)
    assert repo.recent(keys, since=start - timedelta(minutes=15)) == {
        "pair:a|1.2.3.4": FailureWindow(3, last),
        "address:1.2.3.4": FailureWindow(3, last),
        "pair:b|1.2.3.4": FailureWindow(1, start),
        "address:x": FailureWindow(0, None),
    }
    # Only failures strictly after `since` count.
    assert repo.recent(["pair:a|1.2.3.4"], since=start) == {
        "pair:a|1.2.3.4": FailureWindow(2, last)
    }


def test_discard_takes_back_exactly_the_rows_added(backend: Backend) -> None:
    repo = failures(backend)
    now = utcnow()
    kept = repo.add(["account:a", "address:1.2.3.4"], at=now)
    taken_back = repo.add(["account:a", "address:1.2.3.4"], at=now)  # the same instant
    assert len(set(kept + taken_back)) == 4
    repo.discard(taken_back)
    since = now - timedelta(minutes=1)
    assert repo.recent(["account:a", "address:1.2.3.4"], since=since) == {
        "account:a": FailureWindow(1, now),
        "address:1.2.3.4": FailureWindow(1, now),
    }


def test_clear_forgets_one_key_only(backend: Backend) -> None:
    repo = failures(backend)
    now = utcnow()
    repo.add(["pair:a|1.2.3.4", "address:1.2.3.4"], at=now)
    repo.clear("pair:a|1.2.3.4")
    since = now - timedelta(minutes=1)
    assert repo.recent(["pair:a|1.2.3.4", "address:1.2.3.4"], since=since) == {
        "pair:a|1.2.3.4": FailureWindow(0, None),
        "address:1.2.3.4": FailureWindow(1, now),
    }


def test_prune_deletes_stale_rows_of_any_key_a_batch_at_a_time(backend: Backend) -> None:
    repo = failures(backend)
    old = utcnow() - timedelta(days=2)
    for n in range(5):
        repo.add([f"address:10.0.0.{n}", f"pair:x|10.0.0.{n}"], at=old)  # keys never seen again
    now = utcnow()
    repo.add(["address:192.0.2.1"], at=now)
    assert repo.prune(before=now - timedelta(days=1), limit=4) == 4  # only the 4 oldest looked at
    assert repo.prune(before=now - timedelta(days=1), limit=100) == 6
    assert repo.prune(before=now - timedelta(days=1), limit=100) == 0
    since = old - timedelta(days=1)
    keys = [f"address:10.0.0.{n}" for n in range(5)] + ["address:192.0.2.1"]
    assert [window.count for window in repo.recent(keys, since=since).values()] == [0] * 5 + [1]


def test_the_longest_key_the_throttle_makes_fits(backend: Backend) -> None:
    repo = failures(backend)
    key = "é" * KEY_LIMIT  # non-ASCII: the column counts characters on every database
    now = utcnow()
    repo.add([key], at=now)
    assert repo.recent([key], since=now - timedelta(minutes=1)) == {key: FailureWindow(1, now)}


def test_concurrent_failures_are_all_counted(backend: Backend) -> None:
    repo = failures(backend)
    now = utcnow()

    def fail(_: int) -> None:
        for _ in range(10):
            repo.add(["pair:a|1.2.3.4", "address:1.2.3.4"], at=now)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fail, range(8)))
    window = repo.recent(["pair:a|1.2.3.4"], since=now - timedelta(minutes=1))
    assert window["pair:a|1.2.3.4"].count == 80


# The login throttle over each backend (no passwords involved: the throttle's steps).


@pytest.fixture
def throttle_units(backend: Backend) -> Callable[..., AuthUnitOfWork]:
    return backend.units(memory=InMemoryAuthUnitOfWork, sql=SqlAuthUnitOfWork)


def admit(units: Callable[..., Any], throttle: LoginThrottle, address: str) -> Any:
    with units(write=True) as uow:
        admission = throttle.admit(uow.login_failures, "owner@example.com", address)
        uow.commit()
    return admission


def settle(units: Callable[..., Any], throttle: LoginThrottle, admission: Any, ok: bool) -> None:
    with units(write=True) as uow:
        (throttle.succeed if ok else throttle.fail)(uow.login_failures, admission)
        uow.commit()


def make_throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(
        free_failures=5,
        max_per_account=20,
        max_per_address=100,
        max_delay=timedelta(minutes=15),
        window=timedelta(days=1),
        clock=clock,
    )


def test_a_stranger_never_slows_the_owner_down_elsewhere(
    throttle_units: Callable[..., AuthUnitOfWork],
) -> None:
    clock = Clock()
    throttle = make_throttle(clock)
    stranger = normalized_address("198.51.100.7")
    waits = []
    for _ in range(40):  # a stranger who waits out every delay
        try:
            settle(throttle_units, throttle, admit(throttle_units, throttle, stranger), ok=False)
        except TooManyRequestsError as refused:
            waits.append(int((refused.headers or {})["Retry-After"]))
            clock.advance(waits[-1])
    assert waits[:4] == [1, 2, 4, 8]
    # The owner, from home: let through at once, and forgiven after the right password.
    home = normalized_address("203.0.113.5")
    settle(throttle_units, throttle, admit(throttle_units, throttle, home), ok=True)
    keys = LoginKeys.of("owner@example.com", home)
    with throttle_units() as uow:
        windows = uow.login_failures.recent(
            [keys.pair, keys.address, keys.in_flight], since=clock.now - timedelta(hours=1)
        )
    assert set(windows.values()) == {FailureWindow(0, None)}


def test_simultaneous_attempts_are_bounded_before_any_verdict(
    throttle_units: Callable[..., AuthUnitOfWork],
) -> None:
    """Attempts in flight count before their verdicts: a client logging in a few
    times at once passes, a burst of guesses does not all get through."""
    clock = Clock()
    throttle = make_throttle(clock)
    address = normalized_address("192.0.2.50")
    burst = [admit(throttle_units, throttle, address) for _ in range(10)]  # 2 x free
    with pytest.raises(TooManyRequestsError):
        admit(throttle_units, throttle, address)
    for admission in burst:
        settle(throttle_units, throttle, admission, ok=False)
    clock.advance(3600)  # past every delay: now one attempt at a time
    admit(throttle_units, throttle, address)
    with pytest.raises(TooManyRequestsError):
        admit(throttle_units, throttle, address)


# Sign-ups


def test_sign_up_attempts_are_counted_with_the_oldest(backend: Backend) -> None:
    repo = signups(backend)
    start = utcnow()
    for minute in range(3):
        repo.add("signup:1.2.3.4", at=start + timedelta(minutes=minute))
    assert repo.recent("signup:1.2.3.4", since=start - timedelta(hours=1)) == AttemptWindow(
        3, start
    )
    assert repo.recent("signup:1.2.3.4", since=start) == AttemptWindow(
        2, start + timedelta(minutes=1)
    )
    assert repo.recent("signup:5.6.7.8", since=start) == AttemptWindow(0, None)
    assert repo.prune(before=start + timedelta(seconds=30), limit=100) == 1


def test_sign_ups_are_limited_per_address_on_every_backend(backend: Backend) -> None:
    clock = Clock()
    throttle = SignUpThrottle(
        backend.units(memory=InMemorySignUpUnitOfWork, sql=SqlSignUpUnitOfWork),
        limit=3,
        window=timedelta(hours=1),
        clock=clock,
    )
    for _ in range(3):
        throttle.admit("192.0.2.8")
        clock.advance(60)
    with pytest.raises(TooManySignUpsError) as refused:
        throttle.admit("192.0.2.8")
    # The oldest of the three leaves the window an hour after it came, 3 minutes ago.
    assert refused.value.headers == {"Retry-After": str(3600 - 180)}
    throttle.admit("192.0.2.9")
    clock.advance(3600 - 180 + 1)
    throttle.admit("192.0.2.8")
