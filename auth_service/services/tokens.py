"""Signing access tokens: the only place in the fleet that holds the private key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from common.keys import load_private_key, previous_jwk, public_jwk
from common.settings import Settings
from database.types import utcnow

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int  # seconds, as OAuth2 clients expect
    expires_at: int  # the `exp` claim


class TokenIssuer:
    """Signs access tokens that `common.tokens.TokenVerifier` accepts.

    Built once per process: parsing the PEM on every login would be wasted work.
    """

    def __init__(
        self,
        *,
        algorithm: str,
        signing_key: Any,
        jwk: dict[str, str] | None,
        issuer: str,
        audience: str,
        lifetime: timedelta,
        clock: Clock = utcnow,
        previous_jwk: dict[str, str] | None = None,
    ) -> None:
        self._algorithm = algorithm
        # After a rotation: still published, so tokens it signed keep verifying.
        self._previous = [previous_jwk] if previous_jwk and previous_jwk != jwk else []
        self._signing_key = signing_key
        self._jwk = jwk
        self._headers = {"kid": jwk["kid"]} if jwk else None
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utcnow) -> TokenIssuer:
        common: dict[str, Any] = {
            "issuer": settings.jwt_issuer,
            "audience": settings.jwt_audience,
            "lifetime": timedelta(minutes=settings.access_token_expire_minutes),
            "clock": clock,
        }
        if settings.jwt_algorithm == "HS256":
            secret = settings.jwt_secret_key.get_secret_value()  # type: ignore[union-attr]
            return cls(algorithm="HS256", signing_key=secret.encode(), jwk=None, **common)
        private = load_private_key(settings.private_key_path)
        # The JWK comes from the private key itself, so the published key and `kid`
        # always match what we sign with.
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(
            algorithm="RS256",
            signing_key=private,
            jwk=public_jwk(public_pem),
            previous_jwk=previous_jwk(settings),
            **common,
        )

    @property
    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public half for `/.well-known/jwks.json`: the current key and, after a
        rotation, the previous one; empty for a shared HS256 secret."""
        return {"keys": [self._jwk, *self._previous] if self._jwk else []}

    def issue(self, user_id: int, role: str, scope: str | None = None) -> AccessToken:
        """A signed access token; `scope` (common.tokens.SUBSONIC_SCOPE) limits what
        it may do, for a token issued to a Subsonic app."""
        now = int(self._clock().timestamp())
        expires_at = now + int(self._lifetime.total_seconds())
        claims = {
            "sub": str(user_id),
            "role": role,
            "type": "access",
            "iat": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
            "iss": self._issuer,
            "aud": self._audience,
        }
        if scope is not None:
            claims["scope"] = scope
        token = jwt.encode(
            claims, self._signing_key, algorithm=self._algorithm, headers=self._headers
        )
        return AccessToken(token, expires_at - now, expires_at)
