"""The injectable pieces of auth_service, declared once as Annotated aliases."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

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
from common.db import SessionDep
from common.passwords import PasswordHasher
from common.settings import Settings

# Dependencies that do no I/O are async: sync ones each cost a threadpool hop.


async def get_credential_repository(session: SessionDep) -> CredentialRepository:
    return SqlCredentialRepository(session)


async def get_refresh_token_repository(session: SessionDep) -> RefreshTokenRepository:
    return SqlRefreshTokenRepository(session)


async def get_login_failure_repository(session: SessionDep) -> LoginFailureRepository:
    return SqlLoginFailureRepository(session)


async def get_password_hasher(request: Request) -> PasswordHasher:
    return request.app.state.hasher


async def get_token_issuer(request: Request) -> TokenIssuer:
    return request.app.state.token_issuer


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_client_address(request: Request) -> str:
    # The peer address; behind a proxy, uvicorn's --proxy-headers puts the real one here.
    return request.client.host if request.client else "unknown"


async def get_auth_service(
    credentials: Annotated[CredentialRepository, Depends(get_credential_repository)],
    refresh_tokens: Annotated[RefreshTokenRepository, Depends(get_refresh_token_repository)],
    failures: Annotated[LoginFailureRepository, Depends(get_login_failure_repository)],
    hasher: Annotated[PasswordHasher, Depends(get_password_hasher)],
    issuer: Annotated[TokenIssuer, Depends(get_token_issuer)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> AuthService:
    return AuthService(
        credentials=credentials,
        refresh_tokens=refresh_tokens,
        throttle=LoginThrottle.from_settings(failures, settings),
        hasher=hasher,
        issuer=issuer,
        refresh_lifetime=timedelta(days=settings.refresh_token_expire_days),
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
TokenIssuerDep = Annotated[TokenIssuer, Depends(get_token_issuer)]
ClientAddress = Annotated[str, Depends(get_client_address)]
