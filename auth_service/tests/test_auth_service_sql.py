"""AuthService on the real SQL repositories, where concurrency is the database's job.

Every use case opens a unit of work on a pooled connection of its own, so threads
sharing one service race as concurrent requests do."""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import func, select

from auth_service.repos.sql import SqlAuthUnitOfWork, tokens
from auth_service.services.auth import AuthService, InvalidRefreshTokenError
from auth_service.services.throttle import LoginThrottle
from auth_service.services.tokens import Clock, TokenIssuer
from auth_service.tests.conftest import PASSWORD, add_sql_user
from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database
from database.types import utcnow


def sql_service(
    database: Database,
    hasher: PasswordHasher,
    settings: Settings,
    issuer: TokenIssuer,
    *,
    grace: timedelta,
    clock: Clock = utcnow,
) -> AuthService:
    """An AuthService over SQL units of work with the given reuse grace window."""
    return AuthService(
        unit=functools.partial(SqlAuthUnitOfWork, database),
        throttle=LoginThrottle.from_settings(settings, clock),
        hasher=hasher,
        issuer=issuer,
        refresh_lifetime=timedelta(days=1),
        reuse_grace=grace,
        clock=clock,
    )


def refresh_outcome(service: AuthService, token: str) -> str:
    """The outcome of one refresh, "refreshed" or "refused", for counting races."""
    try:
        service.refresh(token)
    except InvalidRefreshTokenError:
        return "refused"
    return "refreshed"


def test_concurrent_refreshes_with_one_token_give_one_success(
    database: Database, fast_hasher: PasswordHasher, settings: Settings, issuer: TokenIssuer
) -> None:
    """Without a grace window every second use of a token is a reuse."""
    add_sql_user(database, fast_hasher)
    service = sql_service(database, fast_hasher, settings, issuer, grace=timedelta(0))
    token = service.login("alice@example.com", PASSWORD, "203.0.113.9").refresh_token

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: refresh_outcome(service, token), range(12)))
    assert outcomes.count("refreshed") == 1
    assert outcomes.count("refused") == 11


def test_concurrent_retries_within_the_grace_window_all_succeed(
    database: Database, fast_hasher: PasswordHasher, settings: Settings, issuer: TokenIssuer
) -> None:
    """Two tabs refreshing at once are retries, not theft: each gets a pair and
    nothing is revoked."""
    add_sql_user(database, fast_hasher)
    service = sql_service(database, fast_hasher, settings, issuer, grace=timedelta(seconds=60))
    token = service.login("alice@example.com", PASSWORD, "203.0.113.9").refresh_token

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: refresh_outcome(service, token), range(12)))
    assert outcomes == ["refreshed"] * 12
    with database.connect() as connection:
        counts = connection.execute(
            select(func.count(), func.count(tokens.c.revoked_at), func.count(tokens.c.used_at))
        ).one()
    assert tuple(counts) == (13, 0, 1)  # the login's and 12 new; only the first one used


def test_a_refresh_that_waited_for_a_rival_judges_reuse_by_the_time_after(
    database: Database, fast_hasher: PasswordHasher, settings: Settings, issuer: TokenIssuer
) -> None:
    """A refresh that read the clock and then waited for the rival's row lock would
    find the rival's used_at later than its own "now" and pass as a retry; the
    service reads the clock once it holds the row."""
    add_sql_user(database, fast_hasher)
    slow = threading.local()
    slow_has_read_the_clock, rival_done = threading.Event(), threading.Event()

    def clock() -> datetime:
        now = utcnow()
        if getattr(slow, "first_read", False):
            slow.first_read = False
            slow_has_read_the_clock.set()
            rival_done.wait(timeout=0.5)  # times out when the rival waits for our lock
        return now

    service = sql_service(database, fast_hasher, settings, issuer, grace=timedelta(0), clock=clock)
    token = service.login("alice@example.com", PASSWORD, "203.0.113.9").refresh_token

    def slow_refresh() -> str:
        slow.first_read = True
        return refresh_outcome(service, token)

    def rival_refresh() -> str:
        assert slow_has_read_the_clock.wait(timeout=5)
        try:
            return refresh_outcome(service, token)
        finally:
            rival_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [pool.submit(slow_refresh), pool.submit(rival_refresh)]
        results = sorted(future.result(timeout=30) for future in outcomes)
    assert results == ["refreshed", "refused"]
