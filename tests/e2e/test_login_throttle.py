"""The login and sign-up throttles over real HTTP, on every database (API.md,
Sessions): client addresses come from X-Forwarded-For only when the peer is a
listed proxy, failures are recorded whatever a client sends, delays grow per
(account, address), and a stranger's guesses never lock the owner out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx
import pytest

from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e

FREE_FAILURES = 5  # LOGIN_FREE_FAILURES' default
PASSWORD = "owner-password-123"
# The first delay after the free failures; long, so that no test depends on how
# fast the machine runs (the 1 s default and its doubling are tested with a clock
# in auth_service/tests).
BASE_DELAY = 60
TRUST_THE_TEST_CLIENT = {"FORWARDED_ALLOW_IPS": "127.0.0.1", "LOGIN_BASE_DELAY_SECONDS": "60"}


@contextmanager
def restarted(fleet: Fleet, name: str, env: Mapping[str, str]) -> Iterator[None]:
    """`name` running with `env` added for the block, then as it was."""
    fleet.stop_service(name)
    fleet.start(name, env)
    try:
        yield
    finally:
        fleet.stop_service(name)
        fleet.start(name)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, trust_env=False) as client:
        yield client


def sign_up(http: httpx.Client, fleet: Fleet, headers: Mapping[str, str] | None = None) -> str:
    name = f"owner{uuid.uuid4().hex[:10]}"
    email = f"{name}@example.com"
    body = {"username": name, "email": email, "password": PASSWORD, "first_name": "O"}
    response = http.post(f"{fleet.user}/users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return email


def log_in(
    http: httpx.Client, fleet: Fleet, email: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return http.post(
        f"{fleet.auth}/auth/login", json={"email": email, "password": password}, headers=headers
    )


def forged_addresses(count: int) -> list[str]:
    """What an attacker puts in X-Forwarded-For: a new address each time, junk, and
    values far longer than any address."""
    values = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            values.append(f"10.{n // 250}.{n % 250}.1")
        elif kind == 1:
            values.append(f"2001:db8:{n:x}::1, 10.9.9.{n % 250}")
        elif kind == 2:
            values.append(f"junk-{n}-<script>")
        else:
            values.append(("9" * 60 + ".") * 80)  # 4,880 characters
    return values


def test_a_forged_forwarded_for_from_a_direct_client_is_ignored(
    fleet: Fleet, http: httpx.Client
) -> None:
    """One client guessing one password on many accounts, with a fresh
    X-Forwarded-For each time: the throttle still counts the one real address."""
    limit = 10
    env = {"LOGIN_MAX_FAILURES_PER_ADDRESS": str(limit), "LOGIN_BASE_DELAY_SECONDS": "60"}
    with restarted(fleet, "auth", env):
        statuses = []
        for n, forged in enumerate(forged_addresses(60)):
            email = f"sprayed{n}-{uuid.uuid4().hex[:6]}@example.com"
            statuses.append(log_in(http, fleet, email, "Summer2026!", forged).status_code)
    assert set(statuses) <= {401, 429}, statuses
    # Earlier tests may have failed logins from this address too: at most `limit` get through.
    assert 429 in statuses and statuses.count(401) <= limit, statuses


def test_a_failure_is_recorded_whatever_the_proxy_forwards(
    fleet: Fleet, http: httpx.Client
) -> None:
    """A trusted proxy forwarding junk (400 characters) still gets every failure
    counted: never a database error, never an uncounted verdict."""
    victim = sign_up(http, fleet)
    with restarted(fleet, "auth", TRUST_THE_TEST_CLIENT):
        statuses = [
            log_in(http, fleet, victim, "wrong-password", "x" * 400).status_code
            for _ in range(FREE_FAILURES + 2)
        ]
    assert statuses == [401] * FREE_FAILURES + [429, 429], statuses


def test_a_stranger_cannot_lock_the_owner_out(fleet: Fleet, http: httpx.Client) -> None:
    owner = sign_up(http, fleet)
    stranger, home = "198.51.100.23", "203.0.113.77"
    with restarted(fleet, "auth", TRUST_THE_TEST_CLIENT):
        answers = [log_in(http, fleet, owner, "guess", stranger) for _ in range(3 * FREE_FAILURES)]
        statuses = [answer.status_code for answer in answers]
        assert statuses == [401] * FREE_FAILURES + [429] * (2 * FREE_FAILURES), statuses
        # The stranger learns when one more guess may come, not when five more may.
        assert int(answers[FREE_FAILURES].headers["Retry-After"]) <= BASE_DELAY
        assert log_in(http, fleet, owner, PASSWORD, stranger).status_code == 429
        # The owner, elsewhere, with the right password.
        assert log_in(http, fleet, owner, PASSWORD, home).status_code == 200


def test_sign_ups_are_limited_per_client_address(fleet: Fleet, http: httpx.Client) -> None:
    env = {"FORWARDED_ALLOW_IPS": "127.0.0.1", "SIGNUP_MAX_PER_ADDRESS": "3"}
    with restarted(fleet, "user", env):
        for _ in range(3):
            sign_up(http, fleet, {"X-Forwarded-For": "192.0.2.41"})
        body = {"username": f"u{uuid.uuid4().hex[:8]}", "email": f"{uuid.uuid4().hex}@example.com",
                "password": PASSWORD, "first_name": "U"}  # fmt: skip
        refused = http.post(f"{fleet.user}/users", json=body,
                            headers={"X-Forwarded-For": "192.0.2.41"})  # fmt: skip
        assert refused.status_code == 429, refused.text
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        # Another address is not affected.
        sign_up(http, fleet, {"X-Forwarded-For": "192.0.2.42"})
