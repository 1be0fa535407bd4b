"""Failed-login throttling, counted in the shared database so every replica agrees."""

from __future__ import annotations

import math
from datetime import timedelta

from auth_service.repos.base import LoginFailureRepository
from auth_service.services.tokens import Clock
from common.errors import TooManyRequestsError
from common.settings import Settings
from database.types import utcnow


def account_key(email: str) -> str:
    return f"account:{email.lower()}"


def address_key(address: str) -> str:
    return f"address:{address}"


class LoginThrottle:
    """Per account and per client address: at the limit, refuse before any bcrypt work."""

    def __init__(
        self,
        failures: LoginFailureRepository,
        *,
        max_per_account: int,
        max_per_address: int,
        window: timedelta,
        clock: Clock = utcnow,
    ) -> None:
        self._failures = failures
        self._window = window
        self._clock = clock
        self._limits = {"account": max_per_account, "address": max_per_address}

    @classmethod
    def from_settings(
        cls, failures: LoginFailureRepository, settings: Settings, clock: Clock = utcnow
    ) -> LoginThrottle:
        return cls(
            failures,
            max_per_account=settings.login_max_failures_per_account,
            max_per_address=settings.login_max_failures_per_address,
            window=timedelta(seconds=settings.login_failure_window_seconds),
            clock=clock,
        )

    def check(self, email: str, address: str) -> None:
        """TooManyRequestsError when either key is at its limit."""
        now = self._clock()
        keys = {account_key(email): "account", address_key(address): "address"}
        windows = self._failures.recent(list(keys), since=now - self._window)
        waits = [
            window.oldest + self._window - now
            for key, window in windows.items()
            if window.count >= self._limits[keys[key]] and window.oldest is not None
        ]
        if waits:
            # The caller may retry once the oldest counted failure leaves the window.
            raise TooManyRequestsError(math.ceil(max(waits).total_seconds()))

    def record_failure(self, email: str, address: str) -> None:
        now = self._clock()
        self._failures.add(
            [account_key(email), address_key(address)], at=now, prune_before=now - self._window
        )

    def record_success(self, email: str) -> None:
        # Only the account is forgiven: one address spraying many accounts stays counted.
        self._failures.clear(account_key(email))
