"""The injectable pieces of auth_service, declared once as Annotated aliases."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import State

from auth_service.repos.base import AuthUnitOfWork
from auth_service.repos.sql import SqlAuthUnitOfWork
from auth_service.services.auth import AuthService
from auth_service.services.throttle import LoginThrottle
from auth_service.services.tokens import TokenIssuer
from common.settings import Settings


def build_auth_service(state: State, unit: Callable[..., AuthUnitOfWork]) -> AuthService:
    """The service over the given units of work, with the app's hasher, token
    issuer and settings (made at start-up); tests pass in-memory units."""
    settings: Settings = state.settings
    return AuthService(
        unit=unit,
        throttle=LoginThrottle.from_settings(settings),
        hasher=state.hasher,
        issuer=state.token_issuer,
        refresh_lifetime=timedelta(days=settings.refresh_token_expire_days),
        reuse_grace=timedelta(seconds=settings.refresh_reuse_grace_seconds),
    )


async def get_auth_service(request: Request) -> AuthService:
    # The service opens a unit of work per use case on the process's Database, so
    # it holds no per-request state; one dependency rather than a chain, since
    # FastAPI solves every level on every request.
    state = request.app.state
    return build_auth_service(state, functools.partial(SqlAuthUnitOfWork, state.database))


async def get_token_issuer(request: Request) -> TokenIssuer:
    return request.app.state.token_issuer


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
TokenIssuerDep = Annotated[TokenIssuer, Depends(get_token_issuer)]
