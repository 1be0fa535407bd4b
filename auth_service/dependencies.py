"""How auth_service's handlers get their service and token issuer."""

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
from auth_service.services.third_party import ThirdPartyService
from auth_service.services.throttle import LoginThrottle
from auth_service.services.tokens import TokenIssuer
from common.settings import Settings


def build_auth_service(
    state: State, unit: Callable[..., AuthUnitOfWork] | None = None
) -> AuthService:
    """The service over the given units of work (default: the SQL ones on the
    process's Database), with the app's hasher, token issuer and settings (made
    at start-up before it); tests pass in-memory units."""
    unit = unit or functools.partial(SqlAuthUnitOfWork, state.database)
    settings: Settings = state.settings
    return AuthService(
        unit=unit,
        throttle=LoginThrottle.from_settings(settings),
        hasher=state.hasher,
        issuer=state.token_issuer,
        refresh_lifetime=timedelta(days=settings.refresh_token_expire_days),
        reuse_grace=timedelta(seconds=settings.refresh_reuse_grace_seconds),
    )


def build_third_party_service(
    state: State, unit: Callable[..., AuthUnitOfWork] | None = None
) -> ThirdPartyService:
    """API keys, app passwords and their exchange, over the given units of work
    (default: the SQL ones), with the credential keys and token issuer made at
    start-up; the same login throttle settings as logins."""
    unit = unit or functools.partial(SqlAuthUnitOfWork, state.database)
    return ThirdPartyService(
        unit=unit,
        keys=state.credential_keys,
        throttle=LoginThrottle.from_settings(state.settings),
        issuer=state.token_issuer,
    )


def third_party_service(request: Request) -> ThirdPartyService:
    """The app's ThirdPartyService (`app.state.third_party`), made at start-up."""
    return request.app.state.third_party


def auth_service(request: Request) -> AuthService:
    """The app's AuthService, made once at start-up by `build_auth_service` on the
    process's Database (tests put their own in its place); a call rather than a
    FastAPI dependency, as song_service.dependencies explains."""
    return request.app.state.service


async def get_token_issuer(request: Request) -> TokenIssuer:
    return request.app.state.token_issuer


TokenIssuerDep = Annotated[TokenIssuer, Depends(get_token_issuer)]
