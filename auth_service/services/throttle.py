"""Failed-login throttling (API.md, Sessions), counted in the shared database so
every process and replica agrees.

Three counts, each a key of `login_failures` rows:

- the pair (account, client address): its first `free_failures` are free; after
  that each attempt must wait `base_delay` (1 s) after the pair's last failure,
  doubling with each further failure (2 s, 4 s ...) up to `max_delay`. The owner
  who mistypes a few times waits seconds, not a quarter of an hour, and a
  stranger's guesses slow down only the stranger;
- the account across addresses: the same delays beyond `max_per_account`. An
  address adds to it only while its own pair is within its free failures, so no
  single address can reach it (the owner elsewhere is never slowed down by one
  stranger); many addresses guessing together do;
- the address across accounts: the same delays beyond `max_per_address`.

Before the password is checked an attempt is recorded as in flight (`admit`):
a pair may have only a few attempts in flight at once (twice its remaining free
failures while it has some, one once it waits), so a burst of simultaneous
guesses cannot all pass the check before any of them is counted, while a client
logging in several times at once is not refused. A wrong password is recorded
as a failure before the verdict goes out (`fail`), and when that record cannot
be written there is no verdict at all; a right one forgets the pair's failures
(`succeed`). An in-flight row whose process died is ignored after
IN_FLIGHT_SECONDS. Keys never contain what a client typed: the account is a
digest of the canonical email, the address a normalized IP
(common.client_address), so every key is short and valid.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from auth_service.repos.base import FailureWindow, LoginFailureRepository
from auth_service.services.tokens import Clock
from common.errors import TooManyRequestsError
from common.settings import THROTTLE_RETENTION_SECONDS, Settings
from database.types import utcnow

# Rows looked at by the bulk prune that each admitted attempt runs: enough to keep
# up with any rate of failures, few enough to cost nothing.
PRUNE_BATCH = 100
RETENTION = timedelta(seconds=THROTTLE_RETENTION_SECONDS)
# 2**30 seconds is decades: beyond any max_delay, and no overflow for huge counts.
MAX_DOUBLINGS = 30
KEY_LIMIT = 200  # the column holds 300
# An attempt is in flight from its admission to its verdict: a bcrypt check, a
# second or so even on a loaded machine. Rows older than this are a process that
# died meanwhile and no longer count.
IN_FLIGHT_SECONDS = 30


def account_id(email: str) -> str:
    """A short, fixed-length stand-in for the (canonical) email."""
    return hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]


def bounded(key: str) -> str:
    """Keys are short by construction; should one ever not be, store its digest."""
    if len(key) <= KEY_LIMIT:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoginKeys:
    pair: str
    account: str
    address: str
    in_flight: str

    @classmethod
    def of(cls, email: str, address: str) -> LoginKeys:
        account = account_id(email)
        return cls(
            pair=bounded(f"pair:{account}|{address}"),
            account=bounded(f"account:{account}"),
            address=bounded(f"address:{address}"),
            in_flight=bounded(f"inflight:{account}|{address}"),
        )


@dataclass(frozen=True)
class Admission:
    """An attempt let through: its keys, its in-flight row, and how many failures
    its pair had (an address adds to the account's count only within its free ones)."""

    keys: LoginKeys
    in_flight_row: int
    pair_failures: int


def delay_after(
    failures: int, threshold: int, base_delay: timedelta, max_delay: timedelta
) -> timedelta:
    """The wait after `failures` failures of a count whose first `threshold` are
    free: nothing, then `base_delay`, doubling per failure, up to `max_delay`."""
    if failures < threshold:
        return timedelta(0)
    doublings = min(failures - threshold, MAX_DOUBLINGS)
    return min(base_delay * 2**doublings, max_delay)


class LoginThrottle:
    """Each method works through the failure repository of the caller's unit of work."""

    def __init__(
        self,
        *,
        free_failures: int,
        max_per_account: int,
        max_per_address: int,
        max_delay: timedelta,
        window: timedelta,
        base_delay: timedelta = timedelta(seconds=1),
        clock: Clock = utcnow,
    ) -> None:
        self._free = free_failures
        self._base_delay = base_delay
        self._max_per_account = max_per_account
        self._max_per_address = max_per_address
        self._max_delay = max_delay
        self._window = window
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utcnow) -> LoginThrottle:
        return cls(
            free_failures=settings.login_free_failures,
            max_per_account=settings.login_max_failures_per_account,
            max_per_address=settings.login_max_failures_per_address,
            base_delay=timedelta(seconds=settings.login_base_delay_seconds),
            max_delay=timedelta(seconds=settings.login_max_delay_seconds),
            window=timedelta(seconds=settings.login_failure_window_seconds),
            clock=clock,
        )

    def admit(self, failures: LoginFailureRepository, email: str, address: str) -> Admission:
        """Record the attempt as in flight, or raise TooManyRequestsError (with the
        seconds until the next attempt may come) when one of the counts says wait."""
        now = self._clock()
        keys = LoginKeys.of(email, address)
        windows = failures.recent([keys.pair, keys.account, keys.address], since=now - self._window)
        in_flight = failures.recent(
            [keys.in_flight], since=now - timedelta(seconds=IN_FLIGHT_SECONDS)
        )[keys.in_flight]
        pair = windows[keys.pair]
        wait = max(
            self._wait(pair, self._free, now),
            self._wait(windows[keys.account], self._max_per_account, now),
            self._wait(windows[keys.address], self._max_per_address, now),
        )
        if wait > timedelta(0):
            raise TooManyRequestsError(math.ceil(wait.total_seconds()))
        if in_flight.count >= self._in_flight_limit(pair.count):
            raise TooManyRequestsError(1)
        # Stale rows of every key go a batch at a time, whoever tries next.
        failures.prune(before=now - max(RETENTION, self._window), limit=PRUNE_BATCH)
        (row,) = failures.add([keys.in_flight], at=now)
        return Admission(keys, row, pair.count)

    def fail(self, failures: LoginFailureRepository, admission: Admission) -> None:
        """The password was wrong: the attempt becomes a failure of its pair, its
        address and (while the pair is within its free failures) its account."""
        keys = admission.keys
        counted = [keys.pair, keys.address]
        if admission.pair_failures < self._free:
            counted.append(keys.account)
        failures.add(counted, at=self._clock())
        failures.discard([admission.in_flight_row])

    def succeed(self, failures: LoginFailureRepository, admission: Admission) -> None:
        """The password was right: the attempt is over and the pair's failures are
        forgotten. The account's failures elsewhere, and this address's failures on
        other accounts, stay counted."""
        failures.discard([admission.in_flight_row])
        failures.clear(admission.keys.pair)

    def _in_flight_limit(self, pair_failures: int) -> int:
        """Attempts a pair may have in flight at once: twice its remaining free
        failures (a client logging in several times at once is let through, a
        burst of guesses is not), and one at a time once it has to wait."""
        return max(1, 2 * (self._free - pair_failures))

    def _wait(self, window: FailureWindow, threshold: int, now: datetime) -> timedelta:
        if window.latest is None:
            return timedelta(0)
        delay = delay_after(window.count, threshold, self._base_delay, self._max_delay)
        return window.latest + delay - now
