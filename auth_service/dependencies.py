"""The injectable pieces of auth_service, declared once as Annotated aliases."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import State

from auth_service.repos.base import (
    CredentialRepository,
    LoginFailureRepository,
    RefreshTokenRepository,
)
from auth_service.repos.sql import (
    SqlCredentialRepository,
    SqlLoginFailureRepository,
    SqlRefreshTokenRepository,
)
from auth_service.services.auth import AuthService
from auth_service.services.throttle import LoginThrottle
from auth_service.services.tokens import TokenIssuer
from common.settings import Settings
from database import Database


def build_auth_service(
    state: State,
    credentials: CredentialRepository,
    refresh_tokens: RefreshTokenRepository,
    failures: LoginFailureRepository,
) -> AuthService:
    """The service over the given repositories, with the app's hasher, token issuer
    and settings (made at start-up); tests pass in-memory repositories."""
    settings: Settings = state.settings
    return AuthService(
        credentials=credentials,
        refresh_tokens=refresh_tokens,
        throttle=LoginThrottle.from_settings(failures, settings),
        hasher=state.hasher,
        issuer=state.token_issuer,
        refresh_lifetime=timedelta(days=settings.refresh_token_expire_days),
    )


async def get_auth_service(request: Request) -> AuthService:
    # The repositories take a connection per unit of work from the process's
    # Database, so the service holds no per-request state; one dependency rather
    # than a chain, since FastAPI solves every level on every request.
    state = request.app.state
    database: Database = state.database
    return build_auth_service(
        state,
        SqlCredentialRepository(database),
        SqlRefreshTokenRepository(database),
        SqlLoginFailureRepository(database),
    )


async def get_token_issuer(request: Request) -> TokenIssuer:
    return request.app.state.token_issuer


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
TokenIssuerDep = Annotated[TokenIssuer, Depends(get_token_issuer)]
