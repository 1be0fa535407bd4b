"""HTTP for logging in: translate requests to AuthService calls, nothing more.

Handlers that may run bcrypt are plain `def`, so FastAPI runs them in the
threadpool and a login never blocks the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from auth_service.dependencies import AuthServiceDep, ClientAddress, TokenIssuerDep
from auth_service.schemas import (
    Jwks,
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    PasswordForm,
    RefreshRequest,
    TokenResponse,
    VerifyResponse,
)
from auth_service.services.auth import IssuedTokens
from common.auth import CurrentUser, get_principal
from common.schemas import error_responses

public = APIRouter(prefix="/auth", tags=["auth"])
protected = APIRouter(
    prefix="/auth",
    tags=["auth"],
    dependencies=[Depends(get_principal)],
    responses=error_responses(401, 503),
)
keys = APIRouter(tags=["keys"])


def _login_response(issued: IssuedTokens) -> LoginResponse:
    return LoginResponse(
        auth_token=issued.access.token,
        expires_in=issued.access.expires_in,
        user_id=issued.user_id,
        role=issued.role,  # type: ignore[arg-type]
        refresh_token=issued.refresh_token,
    )


@public.post(
    "/login",
    response_model=LoginResponse,
    responses=error_responses(401, 413, 429, 503),
    summary="Log in with email and password",
)
def login(body: LoginRequest, address: ClientAddress, auth: AuthServiceDep) -> LoginResponse:
    return _login_response(auth.login(body.email, body.password, address))


@public.post(
    "/token",
    response_model=TokenResponse,
    responses=error_responses(401, 413, 429, 503),
    summary="OAuth2 password flow (username = email); used by Swagger's Authorize",
)
def token(
    form: Annotated[PasswordForm, Depends()], address: ClientAddress, auth: AuthServiceDep
) -> TokenResponse:
    issued = auth.login(form.username, form.password, address)
    return TokenResponse(
        access_token=issued.access.token,
        expires_in=issued.access.expires_in,
        refresh_token=issued.refresh_token,
    )


@public.post(
    "/refresh",
    response_model=LoginResponse,
    responses=error_responses(401, 413, 503),
    summary="Trade a refresh token for new tokens (the old one stops working)",
)
def refresh(body: RefreshRequest, auth: AuthServiceDep) -> LoginResponse:
    return _login_response(auth.refresh(body.refresh_token))


@protected.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(413),
    summary="Revoke one of your refresh tokens",
)
def logout(body: LogoutRequest, caller: CurrentUser, auth: AuthServiceDep) -> Response:
    auth.logout(caller.user_id, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@protected.get("/verify", response_model=VerifyResponse, summary="Check an access token")
async def verify(caller: CurrentUser) -> VerifyResponse:
    # The token was verified locally by the dependency; nothing to look up.
    return VerifyResponse(
        user_id=caller.user_id,
        role=caller.role,  # type: ignore[arg-type]
        exp=caller.expires_at,
    )


@keys.get("/.well-known/jwks.json", response_model=Jwks, summary="Public signing keys (JWKS)")
async def jwks(issuer: TokenIssuerDep) -> Jwks:
    return Jwks.model_validate(issuer.jwks)
