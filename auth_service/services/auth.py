"""The rules of logging in: credentials, refresh-token rotation, logout."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from auth_service.repos.base import (
    CredentialRepository,
    Credentials,
    NewRefreshToken,
    RefreshTokenRepository,
)
from auth_service.services.throttle import LoginThrottle
from auth_service.services.tokens import AccessToken, Clock, TokenIssuer
from common.errors import InvalidCredentialsError, UnauthorizedError
from common.passwords import PasswordHasher
from database.types import utcnow

logger = logging.getLogger(__name__)


class InvalidRefreshTokenError(UnauthorizedError):
    detail = "Invalid refresh token"


@dataclass(frozen=True)
class IssuedTokens:
    access: AccessToken
    refresh_token: str
    user_id: int
    role: str


def hash_refresh_token(token: str) -> str:
    """Only this digest is stored, so a leaked table cannot be replayed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AuthService:
    def __init__(
        self,
        *,
        credentials: CredentialRepository,
        refresh_tokens: RefreshTokenRepository,
        throttle: LoginThrottle,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        refresh_lifetime: timedelta,
        clock: Clock = utcnow,
    ) -> None:
        self._credentials = credentials
        self._refresh_tokens = refresh_tokens
        self._throttle = throttle
        self._hasher = hasher
        self._issuer = issuer
        self._refresh_lifetime = refresh_lifetime
        self._clock = clock

    def login(self, email: str, password: str, client_address: str) -> IssuedTokens:
        """Tokens for valid credentials; an unknown email and a wrong password fail alike."""
        email = email.lower()
        self._throttle.check(email, client_address)  # before bcrypt: a locked account is cheap
        user = self._credentials.get_by_email(email)
        # verify() spends a full bcrypt round even without an account, so timing is equal.
        valid = self._hasher.verify(password, user.password_hash if user else None)
        if user is None or not valid:
            self._throttle.record_failure(email, client_address)
            raise InvalidCredentialsError()
        self._throttle.record_success(email)
        if self._hasher.needs_rehash(user.password_hash):
            self._credentials.update_password_hash(user.id, self._hasher.hash(password))
        return self._issue(user, family_id=uuid.uuid4().hex)

    def refresh(self, refresh_token: str) -> IssuedTokens:
        """Rotate: the presented token is consumed once; a reused one kills its family."""
        now = self._clock()
        record = self._refresh_tokens.get_by_hash(hash_refresh_token(refresh_token))
        if record is None:
            raise InvalidRefreshTokenError()
        if record.used_at is not None:
            # A rotated token came back: it was copied, so nothing of that login is trusted.
            revoked = self._refresh_tokens.revoke_family(record.family_id, now=now)
            logger.warning(
                "refresh token reuse for user %s; revoked %d tokens", record.user_id, revoked
            )
            raise InvalidRefreshTokenError()
        # A lost race with a concurrent refresh of the same token also ends here, without
        # revoking the family: two tabs refreshing at once is not an attack.
        if not self._refresh_tokens.consume(record.id, now=now):
            raise InvalidRefreshTokenError()
        # The current role, so promotions and demotions apply at the next refresh.
        user = self._credentials.get(record.user_id)
        if user is None:
            raise InvalidRefreshTokenError()
        return self._issue(user, family_id=record.family_id)

    def logout(self, user_id: int, refresh_token: str) -> None:
        """Revoke the token if it is the caller's; anyone else's is left alone, silently."""
        self._refresh_tokens.revoke(
            hash_refresh_token(refresh_token), user_id=user_id, now=self._clock()
        )

    def _issue(self, user: Credentials, *, family_id: str) -> IssuedTokens:
        now = self._clock()
        refresh_token = secrets.token_urlsafe(32)
        self._refresh_tokens.add(
            NewRefreshToken(
                user_id=user.id,
                token_hash=hash_refresh_token(refresh_token),
                family_id=family_id,
                expires_at=now + self._refresh_lifetime,
            ),
            now=now,
        )
        return IssuedTokens(
            self._issuer.issue(user.id, user.role), refresh_token, user.id, user.role
        )
