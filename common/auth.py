"""Token dependencies every service declares once at router level."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from common.errors import ForbiddenError, ServiceUnavailableError, UnauthorizedError
from common.keys import load_verification_key
from common.settings import Settings
from common.tokens import Principal, TokenVerifier

# The token URL shown in Swagger is rewritten per deployment by the app factory
# (settings.auth_token_url); this default only names the path.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


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
                key = load_verification_key(self._settings)
            except FileNotFoundError as exc:
                missing = Path(exc.filename or self._settings.public_key_path)
                raise ServiceUnavailableError(
                    f"Token verification key not available yet ({missing.name})"
                ) from exc
            self._verifier = TokenVerifier(
                key, issuer=self._settings.jwt_issuer, audience=self._settings.jwt_audience
            )
        return self._verifier


async def get_optional_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal | None:
    """For public routes that say more to a signed-in caller; a bad token is still a 401."""
    if not token:
        return None
    provider: VerifierProvider = request.app.state.verifier
    return provider.get().verify(token)


async def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise UnauthorizedError()
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def require_admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise ForbiddenError("Admin role required")
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]


OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
