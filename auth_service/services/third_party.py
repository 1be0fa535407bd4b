"""Third-party credentials (API.md, Third-party credentials): API keys and app
passwords for Subsonic apps, and their exchange for an ordinary access token.

A user makes and revokes their own credentials (any valid access token). The
exchange (POST /auth/subsonic/token, called by subsonic_service) takes exactly one
scheme of the Subsonic API: an API key (OpenSubsonic apiKeyAuthentication), the
app password (`u`+`p`), or a token of it (`u`+`t`+`s`, t = md5(password + salt)).

Throttling is logins' own LoginThrottle (services/throttle.py), counted per
(client address, subject): the subject of a username scheme is the lower-cased
username with a prefix that no email has, so Subsonic failures and email logins of
one person are counted apart; every API key failure counts as the one subject
"api key". The username schemes follow login's flow exactly: the attempt is
admitted (recorded in flight, or refused with 429) before the password is
checked, then recorded as a failure or forgotten. An API key is looked up first
and only a key that matches nothing is counted: 256 random bits cannot be guessed
anyway, and a stranger's failures from many addresses, all counted against the
one subject "api key", must not lock every key holder out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from auth_service.repos.base import (
    ApiKeyRecord,
    AuthUnitOfWork,
    Credentials,
    NewApiKey,
)
from auth_service.services.auth import counted
from auth_service.services.credentials import (
    CredentialKeys,
    api_key_hint,
    new_api_key,
    new_app_password,
    same_text,
    subsonic_token,
)
from auth_service.services.throttle import Admission, LoginThrottle
from auth_service.services.tokens import AccessToken, Clock, TokenIssuer
from common import metrics
from common.errors import (
    AccountGoneError,
    ConflictError,
    InvalidCredentialsError,
    NotFoundError,
    TooManyRequestsError,
)
from common.tokens import SUBSONIC_SCOPE
from database.types import utcnow

logger = logging.getLogger(__name__)
# The Subsonic exchange's failures and refusals, counted like logins' (auth.py).
SUBSONIC_FAILURES = metrics.LOGIN_FAILURES.labels("auth_service", "subsonic")
SUBSONIC_THROTTLED = metrics.LOGIN_THROTTLED.labels("auth_service", "subsonic")

# Keys per user: a bounded list (one page, no paging needed) and a bounded table.
MAX_API_KEYS = 50
# last_used_at is written at most this often per key, so a busy client costs reads.
TOUCH_INTERVAL = timedelta(minutes=1)
# The throttle subject of every API key failure, and the prefix of a username's
# (no email address starts with it, so the two kinds of login are counted apart).
API_KEY_SUBJECT = "api key"
USERNAME_SUBJECT = "subsonic username:"


class ApiKeyNotFoundError(NotFoundError):
    detail = "API key not found"


class AppPasswordNotFoundError(NotFoundError):
    detail = "No app password; create one with POST /auth/app-password"


class TooManyApiKeysError(ConflictError):
    detail = f"At most {MAX_API_KEYS} API keys per user; delete one first"


@dataclass(frozen=True)
class CreatedApiKey:
    record: ApiKeyRecord
    key: str  # shown once, never stored


@dataclass(frozen=True)
class AppPasswordInfo:
    username: str
    created_at: datetime


@dataclass(frozen=True)
class CreatedAppPassword:
    username: str
    password: str  # shown once; stored only encrypted
    created_at: datetime


@dataclass(frozen=True)
class Exchanged:
    access: AccessToken
    user_id: int
    username: str
    role: str


class ThirdPartyService:
    def __init__(
        self,
        *,
        unit: Callable[..., AuthUnitOfWork],
        keys: CredentialKeys,
        throttle: LoginThrottle,
        issuer: TokenIssuer,
        clock: Clock = utcnow,
    ) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit
        self._keys = keys
        self._throttle = throttle
        self._issuer = issuer
        self._clock = clock

    # API keys

    def list_api_keys(self, user_id: int) -> list[ApiKeyRecord]:
        """The caller's keys, oldest first (at most MAX_API_KEYS)."""
        with self._unit() as uow:
            return uow.api_keys.list_for_user(user_id)

    def create_api_key(self, user_id: int, name: str) -> CreatedApiKey:
        """A new key for the caller; the key itself is in the result only.
        AccountGoneError (401) when the account was deleted meanwhile,
        TooManyApiKeysError (409) beyond MAX_API_KEYS."""
        key = new_api_key()
        with self._unit(write=True) as uow:
            self._locked_user(uow, user_id)
            if uow.api_keys.count_for_user(user_id) >= MAX_API_KEYS:
                raise TooManyApiKeysError()
            record = uow.api_keys.add(
                NewApiKey(
                    user_id=user_id,
                    name=name,
                    key_hmac=self._keys.key_hmac(key),
                    hint=api_key_hint(key),
                ),
                now=self._clock(),
            )
            uow.commit()
        return CreatedApiKey(record, key)

    def delete_api_key(self, user_id: int, key_id: int) -> None:
        """Revoke one of the caller's keys: the next exchange with it fails.
        ApiKeyNotFoundError (404) for a key that is not theirs, admins included."""
        with self._unit(write=True) as uow:
            if not uow.api_keys.delete(key_id, user_id=user_id):
                raise ApiKeyNotFoundError()
            uow.commit()

    # App passwords

    def app_password(self, user_id: int) -> AppPasswordInfo:
        """When the caller's app password was made (never the password);
        AppPasswordNotFoundError (404) when there is none."""
        with self._unit() as uow:
            user = uow.credentials.get(user_id)
            stored = uow.app_passwords.get(user_id)
        if user is None:
            raise AccountGoneError()
        if stored is None:
            raise AppPasswordNotFoundError()
        return AppPasswordInfo(user.username, stored.created_at)

    def create_app_password(self, user_id: int) -> CreatedAppPassword:
        """A new random app password in place of any earlier one (which stops
        working at once); the password is in the result only."""
        password = new_app_password()
        with self._unit(write=True) as uow:
            user = self._locked_user(uow, user_id)
            stored = uow.app_passwords.set(user_id, self._keys.encrypt(password), now=self._clock())
            uow.commit()
        return CreatedAppPassword(user.username, password, stored.created_at)

    def delete_app_password(self, user_id: int) -> None:
        """Remove the caller's app password, if any (idempotent)."""
        with self._unit(write=True) as uow:
            uow.app_passwords.delete(user_id)
            uow.commit()

    # The exchange

    def exchange_api_key(self, api_key: str, address: str) -> Exchanged:
        """An access token for the owner of `api_key`; InvalidCredentialsError (401)
        for a key that matches nothing (revoked, never issued), TooManyRequestsError
        (429) once this address has failed too often."""
        digest = self._keys.key_hmac(api_key)
        with self._unit() as uow:
            record = uow.api_keys.find_by_hmac(digest)
            user = uow.credentials.get(record.user_id) if record else None
        if record is None or user is None:
            try:
                counted(lambda: self._record_api_key_failure(address))
            except TooManyRequestsError:
                SUBSONIC_THROTTLED.inc()
                raise
            SUBSONIC_FAILURES.inc()
            raise InvalidCredentialsError()
        now = self._clock()
        if record.last_used_at is None or record.last_used_at <= now - TOUCH_INTERVAL:
            with self._unit(write=True) as uow:
                uow.api_keys.touch(record.id, now=now, not_since=now - TOUCH_INTERVAL)
                uow.commit()
        return self._exchanged(user)

    def exchange_password(self, username: str, password: str, address: str) -> Exchanged:
        """An access token for `username` (any case) and its app password (`u`+`p`;
        `enc:` hex is decoded by subsonic_service, not here). A wrong password, an
        unknown user and a user without an app password fail alike (401)."""
        return self._exchange_app_password(
            username, address, lambda stored: same_text(stored, password)
        )

    def exchange_token(self, username: str, token: str, salt: str, address: str) -> Exchanged:
        """As exchange_password, for `u`+`t`+`s`: `token` must be md5(app password +
        salt) in hex (either case)."""
        return self._exchange_app_password(
            username,
            address,
            lambda stored: same_text(subsonic_token(stored, salt), token.lower()),
        )

    def _exchange_app_password(
        self, username: str, address: str, matches: Callable[[str], bool]
    ) -> Exchanged:
        """Login's flow (AuthService.login): admit (429, or the attempt is recorded
        in flight), check, then record a failure or forget the pair's failures."""
        # Usernames are stored lower-cased (user_service), so equality is enough.
        # Stripped too: MariaDB and SQL Server ignore trailing spaces in `=`, so
        # "alice " would find alice under a throttle subject of its own.
        username = username.strip().lower()
        subject = USERNAME_SUBJECT + username

        def admit() -> tuple[Admission, Credentials | None, str | None]:
            with self._unit(write=True) as uow:
                admission = self._throttle.admit(uow.login_failures, subject, address)
                user = uow.credentials.get_by_username(username)
                stored = uow.app_passwords.get(user.id) if user else None
                uow.commit()
            return admission, user, stored.ciphertext if stored else None

        try:
            admission, user, ciphertext = counted(admit)
        except TooManyRequestsError:
            SUBSONIC_THROTTLED.inc()
            raise
        # Decrypting is microseconds: no timing step worth hiding between an
        # unknown user and a wrong password.
        password = self._keys.decrypt(ciphertext) if ciphertext else None
        valid = user is not None and password is not None and matches(password)

        def record() -> bool:
            with self._unit(write=True) as uow:
                # The password was checked outside this unit: if it was replaced or
                # deleted meanwhile, the check no longer holds.
                current = uow.app_passwords.get(user.id) if valid and user else None
                still_valid = current is not None and current.ciphertext == ciphertext
                if still_valid:
                    self._throttle.succeed(uow.login_failures, admission)
                else:
                    self._throttle.fail(uow.login_failures, admission)
                uow.commit()
            return still_valid

        if not counted(record) or user is None:
            SUBSONIC_FAILURES.inc()  # record() wrote a failure
            raise InvalidCredentialsError()
        return self._exchanged(user)

    def _record_api_key_failure(self, address: str) -> None:
        with self._unit(write=True) as uow:
            admission = self._throttle.admit(uow.login_failures, API_KEY_SUBJECT, address)
            self._throttle.fail(uow.login_failures, admission)
            uow.commit()

    def _exchanged(self, user: Credentials) -> Exchanged:
        # Scoped: an app's credential buys what the Subsonic API does, never the
        # power to mint more credentials, manage the account or the catalogue.
        access = self._issuer.issue(user.id, user.role, scope=SUBSONIC_SCOPE)
        return Exchanged(access, user.id, user.username, user.role)

    @staticmethod
    def _locked_user(uow: AuthUnitOfWork, user_id: int) -> Credentials:
        """The caller's row, locked for the unit; AccountGoneError (401) when the
        account was deleted after its token was issued."""
        user = uow.credentials.get_for_update(user_id)
        if user is None:
            raise AccountGoneError()
        return user
