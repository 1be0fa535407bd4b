"""HTTP for logging in: translate requests to AuthService calls, nothing more.

Every database call goes through `in_database`; the bcrypt work of a login is in
POST handlers, which it always runs in the threadpool, so a login never blocks the
event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from auth_service.dependencies import TokenIssuerDep, auth_service
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
from common.auth import CurrentUser
from common.client_address import client_address
from common.db import in_database
from common.schemas import error_responses

public = APIRouter(prefix="/auth", tags=["auth"])
# Every protected route names its caller (CurrentUser); a router-level guard as
# well would make FastAPI verify the token twice per request.
protected = APIRouter(prefix="/auth", tags=["auth"], responses=error_responses(401, 503))
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
async def login(request: Request, body: LoginRequest) -> LoginResponse:
    auth = auth_service(request)
    address = client_address(request)
    issued = await in_database(request, lambda: auth.login(body.email, body.password, address))
    return _login_response(issued)


@public.post(
    "/token",
    response_model=TokenResponse,
    responses=error_responses(401, 413, 429, 503),
    summary="OAuth2 password flow (username = email); used by Swagger's Authorize",
)
async def token(request: Request, form: Annotated[PasswordForm, Depends()]) -> TokenResponse:
    auth = auth_service(request)
    address = client_address(request)
    issued = await in_database(request, lambda: auth.login(form.username, form.password, address))
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
async def refresh(request: Request, body: RefreshRequest) -> LoginResponse:
    auth = auth_service(request)
    return _login_response(await in_database(request, lambda: auth.refresh(body.refresh_token)))


@protected.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(413),
    summary="Revoke one of your refresh tokens",
)
async def logout(request: Request, body: LogoutRequest, caller: CurrentUser) -> Response:
    auth = auth_service(request)
    await in_database(request, lambda: auth.logout(caller.user_id, body.refresh_token))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@protected.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke every refresh token you hold: log out on every device",
)
async def logout_all(request: Request, caller: CurrentUser) -> Response:
    auth = auth_service(request)
    await in_database(request, lambda: auth.logout_all(caller.user_id))
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
