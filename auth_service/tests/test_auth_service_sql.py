"""AuthService on the real SQL repositories, where concurrency is the database's job."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from auth_service.repos.sql import (
    SqlCredentialRepository,
    SqlLoginFailureRepository,
    SqlRefreshTokenRepository,
)
from auth_service.services.auth import AuthService, InvalidRefreshTokenError
from auth_service.services.throttle import LoginThrottle
from auth_service.services.tokens import TokenIssuer
from auth_service.tests.conftest import PASSWORD, add_sql_user
from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database


def test_concurrent_refreshes_with_one_token_give_one_success(
    database: Database, fast_hasher: PasswordHasher, settings: Settings, issuer: TokenIssuer
) -> None:
    """Every repository call takes a pooled connection of its own, so threads sharing
    one service race as concurrent requests do."""
    add_sql_user(database, fast_hasher)
    service = AuthService(
        credentials=SqlCredentialRepository(database),
        refresh_tokens=SqlRefreshTokenRepository(database),
        throttle=LoginThrottle.from_settings(SqlLoginFailureRepository(database), settings),
        hasher=fast_hasher,
        issuer=issuer,
        refresh_lifetime=timedelta(days=1),
    )
    token = service.login("alice@example.com", PASSWORD, "203.0.113.9").refresh_token

    def attempt(_: int) -> str:
        try:
            service.refresh(token)
        except InvalidRefreshTokenError:
            return "refused"
        return "refreshed"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert outcomes.count("refreshed") == 1
    assert outcomes.count("refused") == 11
