"""Who is calling: the bearer-token dependencies every service uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from common.db import read
from common.errors import (
    AccountGoneError,
    ForbiddenError,
    ServiceUnavailableError,
    UnauthorizedError,
)
from common.keys import load_verification_keys
from common.settings import Settings
from common.tokens import Principal, TokenVerifier


class VerifierProvider:
    """Loads the verification key on first use and keeps it for the process.

    Lazy so a service can start before auth_service has written the RS256
    public key on a fresh machine; until then protected calls answer 503.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._verifier: TokenVerifier | None = None

    def get(self) -> TokenVerifier:
        if self._verifier is None:
            try:
                keys = load_verification_keys(self._settings)
            except FileNotFoundError as exc:
                missing = Path(exc.filename or self._settings.public_key_path)
                raise ServiceUnavailableError(
                    f"Token verification key not available yet ({missing.name})"
                ) from exc
            # After a key rotation the first token with the new `kid` makes the
            # verifier read the key files again (common.tokens).
            self._verifier = TokenVerifier(
                keys,
                issuer=self._settings.jwt_issuer,
                audience=self._settings.jwt_audience,
                reload=lambda: load_verification_keys(self._settings),
            )
        return self._verifier


class BearerPrincipal(OAuth2PasswordBearer):
    """The caller named by the request's bearer token, as one dependency.

    A subclass rather than a dependency on `OAuth2PasswordBearer`: FastAPI solves a
    dependency's whole sub-tree on every request, each level costing tens of
    microseconds, and a security-scheme instance still documents the scheme (and
    Swagger's Authorize button) in OpenAPI. All instances share one scheme name;
    the token URL shown in Swagger is rewritten per deployment by the app factory
    (settings.auth_token_url), this default only names the path."""

    def __init__(self, *, required: bool, admin: bool = False, apps: bool = False) -> None:
        """`apps`: the route is one the Subsonic facade calls for an app (a like, a
        play, a playlist edit, a scan), so a token scoped to Subsonic apps may call
        it; every other route refuses such a token (403)."""
        super().__init__(
            tokenUrl="/auth/token", scheme_name="OAuth2PasswordBearer", auto_error=False
        )
        self._required = required or admin
        self._admin = admin
        self._apps = apps

    async def __call__(self, request: Request) -> Principal | None:  # type: ignore[override]
        token = await super().__call__(request)
        if not token:
            if self._required:
                raise UnauthorizedError()
            return None  # public routes say more to a signed-in caller; a bad token is still a 401
        provider: VerifierProvider = request.app.state.verifier
        principal = provider.get().verify(token)
        if principal.scope is not None and not self._apps:
            raise ForbiddenError(
                "This token was issued to a Subsonic app: it only serves the Subsonic API"
            )
        if principal.is_admin:
            principal = await _as_current_role(request, principal)
        if self._admin and not principal.is_admin:
            raise ForbiddenError("Admin role required")
        return principal


async def _as_current_role(request: Request, principal: Principal) -> Principal:
    """The caller with the role the database holds now (API.md, Sessions): a
    demoted admin's unexpired token acts as a user; a deleted account's is a 401.
    `app.state.current_role(user_id)` answers, read where reads run (common.db)."""
    lookup: Callable[[int], str | None] = request.app.state.current_role
    role = await read(request.app.state.database, functools.partial(lookup, principal.user_id))
    if role is None:
        raise AccountGoneError
    return principal if role == principal.role else replace(principal, role=role)


get_optional_principal = BearerPrincipal(required=False)
get_principal = BearerPrincipal(required=True)
require_admin = BearerPrincipal(required=True, admin=True)
get_app_principal = BearerPrincipal(required=True, apps=True)
require_app_admin = BearerPrincipal(required=True, admin=True, apps=True)

OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentUser = Annotated[Principal, Depends(get_principal)]
AdminUser = Annotated[Principal, Depends(require_admin)]
# The routes subsonic_service calls on an app's behalf: any user's token, or one
# scoped to Subsonic apps (common.tokens.SUBSONIC_SCOPE).
AppUser = Annotated[Principal, Depends(get_app_principal)]
AppAdmin = Annotated[Principal, Depends(require_app_admin)]
