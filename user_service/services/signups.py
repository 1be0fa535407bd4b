"""Sign-ups limited per client address (API.md, Sessions): at most `limit` in any
`window`, counted in the shared database so every process agrees. The attempt is
counted before the password is hashed, so a flood of sign-ups costs no bcrypt,
and whether it then succeeds or finds the email taken, it counts."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from common.errors import TooManyRequestsError
from common.settings import THROTTLE_RETENTION_SECONDS, Settings
from database.types import utcnow
from user_service.repos.signups import SignUpUnitOfWork

# Rows looked at by the bulk prune each counted sign-up runs (stale rows of any key).
PRUNE_BATCH = 100
RETENTION = timedelta(seconds=THROTTLE_RETENTION_SECONDS)


class TooManySignUpsError(TooManyRequestsError):
    detail = "Too many sign-ups from this address; try again later"


class SignUpThrottle:
    def __init__(
        self,
        unit: Callable[..., SignUpUnitOfWork],
        *,
        limit: int,
        window: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._unit = unit
        self._limit = limit
        self._window = window
        self._clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, unit: Callable[..., SignUpUnitOfWork]
    ) -> SignUpThrottle:
        return cls(
            unit,
            limit=settings.signup_max_per_address,
            window=timedelta(seconds=settings.signup_window_seconds),
        )

    def admit(self, address: str) -> None:
        """Count one sign-up from `address` (common.client_address), or raise
        TooManySignUpsError with the seconds until the oldest counted one expires."""
        key = f"signup:{address}"
        with self._unit(write=True) as uow:
            now = self._clock()
            window = uow.signups.recent(key, since=now - self._window)
            if window.count >= self._limit and window.oldest is not None:
                wait = window.oldest + self._window - now
                raise TooManySignUpsError(math.ceil(wait.total_seconds()))
            uow.signups.prune(before=now - max(RETENTION, self._window), limit=PRUNE_BATCH)
            uow.signups.add(key, at=now)
            uow.commit()
