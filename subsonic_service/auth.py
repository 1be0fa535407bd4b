"""Who is calling (OpenSubsonic reference: api-reference.md "Authentication",
Extensions/apiKeyAuth.md), decided before any method runs.

Exactly one scheme per request:

- `apiKey` (OpenSubsonic `apiKeyAuthentication`): with `u`, `p`, `t`, `s` or `jwt`
  beside it → error 43;
- `u` + `t` + `s`: the token md5(app password + salt); `u` + `p`: the app password,
  plain or `enc:`-hex. Both check the app password (never the login password);
  with SUBSONIC_PASSWORD_AUTH=false they answer 41 and 42, pointing at API keys;
- `jwt`: an access token of ours, verified here like every service verifies one.

The first three are exchanged at auth_service (`POST /auth/subsonic/token`), which
owns the credentials and throttles failures per (client address, lower-cased
username) as it does logins; the answer is an ordinary access token, with which
the facade's writes call the owning services. Nothing is cached: a revoked key
fails on its next request.
"""

from __future__ import annotations

import binascii
import functools
import time
from dataclasses import dataclass

from fastapi import Request

from common.client_address import UNKNOWN
from common.db import read
from common.errors import DomainError
from common.settings import Settings
from subsonic_service.errors import (
    AUTH_MECHANISM_UNSUPPORTED,
    CONFLICTING_AUTH,
    INVALID_API_KEY,
    TOKEN_AUTH_UNSUPPORTED,
    WRONG_CREDENTIALS,
    SubsonicError,
    missing,
)
from subsonic_service.params import Params
from subsonic_service.upstream import Upstream

AUTH_PARAMETERS = ("u", "p", "t", "s", "apiKey", "jwt")


@dataclass(frozen=True)
class Caller:
    """The authenticated user, and the access token the facade's writes carry."""

    user_id: int
    role: str
    token: str
    expires_at: int  # the token's expiry, seconds since the epoch

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _conflict() -> SubsonicError:
    return SubsonicError(
        CONFLICTING_AUTH, "Multiple conflicting authentication mechanisms provided"
    )


def decode_password(value: str) -> str:
    """`p` as sent: plain, or `enc:` and the UTF-8 bytes in hex (Subsonic 1.12)."""
    if not value.startswith("enc:"):
        return value
    try:
        return binascii.unhexlify(value[4:]).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise SubsonicError(WRONG_CREDENTIALS, "Wrong username or password") from None


def exchange_body(params: Params, settings: Settings) -> dict[str, str] | None:
    """What auth_service needs to check the request's credentials, or None for `jwt`.
    Raises 10 (missing), 41/42 (scheme switched off), 43 (conflicting: a parameter
    sent empty is still sent, Extensions/apiKeyAuth.md)."""
    present = {name for name in AUTH_PARAMETERS if name in params}
    if "apiKey" in present:
        if present - {"apiKey"}:
            raise _conflict()
        return {"api_key": params.require("apiKey")}
    if "jwt" in present:
        if present - {"jwt"}:
            raise _conflict()
        return None
    if "u" not in present:
        raise missing("u")
    username = params.require("u")
    if "p" in present and present & {"t", "s"}:
        raise _conflict()
    help_url = settings.subsonic_help_url
    if "p" in present:
        if not settings.subsonic_password_auth:
            raise SubsonicError(
                AUTH_MECHANISM_UNSUPPORTED,
                "Password authentication is switched off here: use an API key",
                help_url=help_url,
            )
        return {"username": username, "password": decode_password(params.require("p"))}
    if not settings.subsonic_password_auth and present & {"t", "s"}:
        raise SubsonicError(
            TOKEN_AUTH_UNSUPPORTED,
            "Token authentication is switched off here: use an API key",
            help_url=help_url,
        )
    token = params.require("t")
    salt = params.require("s")
    return {"username": username, "token": token, "salt": salt}


async def authenticate(request: Request, params: Params) -> Caller:
    """The caller of this request; a SubsonicError when the credentials do not name
    one (40 wrong, 44 bad API key, 0 + Retry-After when throttled)."""
    settings: Settings = request.app.state.settings
    body = exchange_body(params, settings)
    if body is None:
        token = params.require("jwt")
        try:
            principal = request.app.state.verifier.get().verify(token)
        except DomainError:
            raise SubsonicError(WRONG_CREDENTIALS, "Invalid or expired token") from None
        role = principal.role
        if principal.is_admin:
            # As every service does (common.auth): a demoted admin's unexpired token
            # acts as a user's, a deleted account's as no token.
            lookup = functools.partial(request.app.state.current_role, principal.user_id)
            current = await read(request.app.state.database, lookup)
            if current is None:
                raise SubsonicError(WRONG_CREDENTIALS, "Invalid or expired token")
            role = current
        return Caller(principal.user_id, role, token, principal.expires_at)
    upstream: Upstream = request.app.state.upstream
    wrong = (
        SubsonicError(INVALID_API_KEY, "Invalid API key")
        if "api_key" in body
        else SubsonicError(WRONG_CREDENTIALS, "Wrong username or password")
    )
    # The caller's own address (uvicorn's, after FORWARDED_ALLOW_IPS), not its
    # normalized form: auth_service normalizes it again (an IPv6 /64 would not parse).
    client = request.client.host if request.client else UNKNOWN
    granted = await upstream.exchange(body, client, wrong)
    expires_at = int(time.time()) + int(granted["expires_in"])
    return Caller(
        int(granted["user_id"]), str(granted["role"]), str(granted["access_token"]), expires_at
    )
