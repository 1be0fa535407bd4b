"""Local JWT verification, identical in every service: no call to auth per request."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import jwt

from common.errors import UnauthorizedError
from common.keys import VerificationKey

# The roles an account can have: the one definition every service's schemas use.
Role = Literal["user", "admin"]
LEEWAY_SECONDS = 5
# A token signed with a key this process does not know makes it read the key files
# again (a rotation), but no more often than this, whatever a client sends.
KEY_RELOAD_SECONDS = 10.0
logger = logging.getLogger(__name__)
KeySet = Mapping[str | None, VerificationKey]
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "iss", "aud", "type", "role"]
ROLES = frozenset(get_args(Role))
# The optional `scope` claim of a token auth_service issued to a Subsonic app in
# exchange for an API key or app password (POST /auth/subsonic/token): it may do
# only what the Subsonic API does (common.auth's AppUser routes), never manage
# credentials, accounts or the catalogue.
SUBSONIC_SCOPE = "subsonic"
SCOPES = frozenset({SUBSONIC_SCOPE})


@dataclass(frozen=True)
class Principal:
    """The verified caller of a request."""

    user_id: int
    role: Role
    token_id: str
    expires_at: int
    scope: str | None = None  # SUBSONIC_SCOPE for a Subsonic app's token

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class TokenVerifier:
    """Checks signature, algorithm, key id and every claim. A client sends the same
    access token with every request until it expires, so a verified token is
    remembered (bounded, expiry still checked) instead of re-running RSA each time.

    The key is picked by the token's `kid` among `keys` (after a rotation, the
    current and the previous one). An unknown `kid` makes it call `reload` for
    the keys on disk now, at most once per KEY_RELOAD_SECONDS."""

    CACHE_SIZE = 8192

    def __init__(
        self,
        keys: VerificationKey | KeySet,
        *,
        issuer: str,
        audience: str,
        reload: Callable[[], KeySet] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = dict({keys.kid: keys} if isinstance(keys, VerificationKey) else keys)
        self._issuer = issuer
        self._audience = audience
        self._reload = reload
        self._monotonic = monotonic
        self._reloaded_at: float | None = None
        self._verified: OrderedDict[tuple[str, str], Principal] = OrderedDict()

    def _key_for(self, kid: object) -> VerificationKey | None:
        """The key with this `kid`; HS256's single secret whatever the header says."""
        if None in self._keys:
            return self._keys[None]
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is not None or self._reload is None or not isinstance(kid, str):
            return key
        now = self._monotonic()
        if self._reloaded_at is not None and now - self._reloaded_at < KEY_RELOAD_SECONDS:
            return None
        self._reloaded_at = now
        try:
            self._keys = dict(self._reload())
        except (OSError, ValueError) as exc:
            logger.warning("could not read the verification keys again: %s", exc)
            return None
        logger.info("verification keys read again for kid %s", kid)
        return self._keys.get(kid)

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
            key = self._key_for(header.get("kid"))
            if key is None or header.get("alg") != key.algorithm:
                raise UnauthorizedError("Invalid token")
            claims = jwt.decode(
                token,
                key.key,  # type: ignore[arg-type]
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError as exc:
            raise UnauthorizedError("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise UnauthorizedError("Invalid token") from exc
        sub, role, scope = claims["sub"], claims["role"], claims.get("scope")
        if claims["type"] != token_type or role not in ROLES:
            raise UnauthorizedError("Invalid token")
        if scope is not None and scope not in SCOPES:
            raise UnauthorizedError("Invalid token")
        if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and 0 < int(sub) < 2**63):
            raise UnauthorizedError("Invalid token")
        return Principal(int(sub), role, str(claims["jti"]), int(claims["exp"]), scope)
