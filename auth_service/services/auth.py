"""The rules of logging in: credentials, refresh-token rotation, logout.

Every public method is one use case. Its transactions are the `with self._unit(…)`
blocks in it: a login records the attempt in one (the throttle counts it before
any verdict), checks the password outside any (bcrypt takes a quarter of a second
and must not hold a lock), then records a failure, or forgets the pair's failures
and issues the tokens, in a second. A refresh is a single unit from the token's row
lock to the new token's insert, so two refreshes of one token take turns and a
crash leaves either the old token live or the new one issued, never neither.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from auth_service.repos.base import (
    AuthUnitOfWork,
    Credentials,
    NewRefreshToken,
    RefreshTokenRepository,
)
from auth_service.services.throttle import Admission, LoginThrottle
from auth_service.services.tokens import AccessToken, Clock, TokenIssuer
from common import metrics
from common.errors import (
    DomainError,
    InvalidCredentialsError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnauthorizedError,
)
from common.passwords import PasswordHasher
from database.text import canonical_email
from database.types import utcnow
from database.unit_of_work import is_rerunnable

logger = logging.getLogger(__name__)
R = TypeVar("R")
# Counted once the throttle's record is committed (a re-run unit counts once).
LOGIN_FAILURES = metrics.LOGIN_FAILURES.labels("auth_service", "login")
LOGIN_THROTTLED = metrics.LOGIN_THROTTLED.labels("auth_service", "login")


class InvalidRefreshTokenError(UnauthorizedError):
    detail = "Invalid refresh token"


class LoginUnavailableError(ServiceUnavailableError):
    """The attempt could not be counted, so it gets no verdict (API.md, Sessions):
    the same 503 as any database outage."""

    headers = {"Retry-After": "5"}


@dataclass(frozen=True)
class IssuedTokens:
    access: AccessToken
    refresh_token: str
    user_id: int
    role: str


def counted(step: Callable[[], R]) -> R:
    """Run a step that records an attempt; if it cannot be recorded, answer 503
    (LoginUnavailableError) rather than a verdict: failing open would let
    guesses through uncounted. A lost race is left to run_unit, which re-runs
    the whole login; a domain error (429) goes out as it is."""
    try:
        return step()
    except DomainError:
        raise
    except Exception as exc:
        if is_rerunnable(exc):  # run_unit runs the whole login again
            raise
        logger.error("a login attempt could not be recorded: %r", exc)
        raise LoginUnavailableError() from exc


def hash_refresh_token(token: str) -> str:
    """Only this digest is stored, so a leaked table cannot be replayed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AuthService:
    def __init__(
        self,
        *,
        unit: Callable[..., AuthUnitOfWork],
        throttle: LoginThrottle,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        refresh_lifetime: timedelta,
        reuse_grace: timedelta,
        clock: Clock = utcnow,
    ) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit
        self._throttle = throttle
        self._hasher = hasher
        self._issuer = issuer
        self._refresh_lifetime = refresh_lifetime
        self._reuse_grace = reuse_grace
        self._clock = clock

    def login(self, email: str, password: str, client_address: str) -> IssuedTokens:
        """Tokens for valid credentials; an unknown email and a wrong password fail
        alike (InvalidCredentialsError), a throttled one with TooManyRequestsError.
        The email is compared in its canonical form (API.md, Text: Identity).

        The attempt is recorded (in flight) before bcrypt runs, and a wrong password
        as a failure before the answer goes out; if either cannot be recorded the
        answer is LoginUnavailableError (503), never a verdict."""
        email = canonical_email(email)

        def admit() -> tuple[Admission, Credentials | None]:
            with self._unit(write=True) as uow:
                # Before bcrypt: a throttled attempt costs nothing.
                admission = self._throttle.admit(uow.login_failures, email, client_address)
                user = uow.credentials.get_by_email(email)
                uow.commit()
            return admission, user

        try:
            admission, user = counted(admit)
        except TooManyRequestsError:
            LOGIN_THROTTLED.inc()
            raise
        # verify() spends a full bcrypt round even without an account, so timing is equal.
        valid, new_hash = self._hasher.verify_and_update(
            password, user.password_hash if user else None
        )
        if user is None or not valid:
            counted(lambda: self._record_failure(admission))
            LOGIN_FAILURES.inc()
            raise InvalidCredentialsError()
        with self._unit(write=True) as uow:
            current = uow.credentials.get(user.id)
            # The password was checked outside this unit: if it changed (or the
            # account went) meanwhile, the check no longer holds.
            if current is None or current.password_hash != user.password_hash:
                raise InvalidCredentialsError()
            self._throttle.succeed(uow.login_failures, admission)
            # A login prunes the user's dead tokens: the table stays small without a job.
            uow.refresh_tokens.prune_expired(user.id, now=self._clock())
            if new_hash is not None:
                uow.credentials.update_password_hash(user.id, new_hash)
            issued = self._issue(uow.refresh_tokens, current, family_id=uuid.uuid4().hex)
            uow.commit()
        return issued

    def _record_failure(self, admission: Admission) -> None:
        with self._unit(write=True) as uow:
            self._throttle.fail(uow.login_failures, admission)
            uow.commit()

    def refresh(self, refresh_token: str) -> IssuedTokens:
        """Rotate, atomically (API.md, Sessions): the token is marked used and its
        successor issued in one unit. Presented again within the grace window it
        is a retry and gets another pair; later, the whole chain is revoked.
        InvalidRefreshTokenError for an unknown, expired, revoked or outdated token."""
        with self._unit(write=True) as uow:
            record = uow.refresh_tokens.get_for_update(hash_refresh_token(refresh_token))
            # Read once the row is locked: a time read before waiting for a rival
            # could precede the rival's used_at and pass a late reuse as a retry.
            now = self._clock()
            if record is None or record.revoked_at is not None or record.expires_at <= now:
                raise InvalidRefreshTokenError()
            # The current role, so promotions and demotions apply at the next refresh.
            user = uow.credentials.get(record.user_id)
            if user is None:
                raise InvalidRefreshTokenError()
            reused = record.used_at is not None and now - record.used_at > self._reuse_grace
            if reused or record.session_version != user.session_version:
                # A rotated token came back late (it was copied), or the password,
                # email or role changed since it was issued: nothing of that login
                # is trusted any more.
                revoked = uow.refresh_tokens.revoke_family(record.family_id, now=now)
                uow.commit()
                logger.warning(
                    "refresh token %s for user %s; revoked %d tokens",
                    "reuse" if reused else "outlived a credential change",
                    record.user_id,
                    revoked,
                )
                raise InvalidRefreshTokenError()
            uow.refresh_tokens.mark_used(record.id, now=now)
            issued = self._issue(uow.refresh_tokens, user, family_id=record.family_id)
            uow.commit()
        return issued

    def logout(self, user_id: int, refresh_token: str) -> None:
        """Revoke the token if it is the caller's; anyone else's is left alone, silently."""
        with self._unit(write=True) as uow:
            uow.refresh_tokens.revoke(
                hash_refresh_token(refresh_token), user_id=user_id, now=self._clock()
            )
            uow.commit()

    def logout_all(self, user_id: int) -> None:
        """Revoke every refresh token of the user: every device must log in again."""
        with self._unit(write=True) as uow:
            uow.refresh_tokens.revoke_user(user_id, now=self._clock())
            uow.commit()

    def _issue(
        self, refresh_tokens: RefreshTokenRepository, user: Credentials, *, family_id: str
    ) -> IssuedTokens:
        """A new access token and a new refresh token of `family_id`, stored
        through the caller's unit (which commits)."""
        now = self._clock()
        refresh_token = secrets.token_urlsafe(32)
        refresh_tokens.add(
            NewRefreshToken(
                user_id=user.id,
                token_hash=hash_refresh_token(refresh_token),
                family_id=family_id,
                expires_at=now + self._refresh_lifetime,
                session_version=user.session_version,
            ),
            now=now,
        )
        return IssuedTokens(
            self._issuer.issue(user.id, user.role), refresh_token, user.id, user.role
        )
