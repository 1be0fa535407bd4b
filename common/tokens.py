"""Local JWT verification, identical in every service: no call to auth per request."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import jwt

from common.errors import UnauthorizedError
from common.keys import VerificationKey

LEEWAY_SECONDS = 5
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "iss", "aud", "type", "role"]
ROLES = frozenset({"user", "admin"})


@dataclass(frozen=True)
class Principal:
    """The verified caller of a request."""

    user_id: int
    role: str
    token_id: str
    expires_at: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class TokenVerifier:
    """Checks signature, algorithm, key id and every claim. A client sends the same
    access token with every request until it expires, so a verified token is
    remembered (bounded, expiry still checked) instead of re-running RSA each time."""

    CACHE_SIZE = 8192

    def __init__(self, key: VerificationKey, *, issuer: str, audience: str) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._verified: OrderedDict[tuple[str, str], Principal] = OrderedDict()

    def verify(self, token: str, *, token_type: str = "access") -> Principal:  # noqa: S107
        cache_key = (token, token_type)
        known = self._verified.get(cache_key)
        if known is not None:
            if time.time() < known.expires_at + LEEWAY_SECONDS:
                self._verified.move_to_end(cache_key)
                return known
            del self._verified[cache_key]
        principal = self._verify(token, token_type)
        self._verified[cache_key] = principal
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str, token_type: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != self._key.algorithm:
                raise UnauthorizedError("Invalid token")
            if self._key.kid is not None and header.get("kid") != self._key.kid:
                raise UnauthorizedError("Invalid token")
            claims = jwt.decode(
                token,
                self._key.key,  # type: ignore[arg-type]
                algorithms=[self._key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError as exc:
            raise UnauthorizedError("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise UnauthorizedError("Invalid token") from exc
        sub, role = claims["sub"], claims["role"]
        if claims["type"] != token_type or role not in ROLES:
            raise UnauthorizedError("Invalid token")
        if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and 0 < int(sub) < 2**63):
            raise UnauthorizedError("Invalid token")
        return Principal(int(sub), role, str(claims["jti"]), int(claims["exp"]))
