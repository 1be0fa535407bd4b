"""subsonic_service (port 8004): the Subsonic REST API with OpenSubsonic extensions,
so Subsonic apps (Symfonium, DSub, Feishin …) play from MusicPlayer.

A facade: it reads the shared catalogue, authenticates through auth_service and
writes through the services that own what a method changes (README, ownership)."""

from __future__ import annotations

import functools

from fastapi import FastAPI

from common.app import create_service_app
from common.settings import Settings, get_settings
from database import Database
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork
from subsonic_service.routers import rest
from subsonic_service.upstream import Upstream


def build_unit(app: FastAPI) -> functools.partial[SqlSubsonicUnitOfWork]:
    """The read unit over the process's Database (registry.Call.unit)."""
    return functools.partial(SqlSubsonicUnitOfWork, app.state.database)


def build_upstream(app: FastAPI) -> Upstream:
    """The HTTP client for auth, album and song service, closed at shutdown."""
    return Upstream(app.state.settings)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    return create_service_app(
        name="subsonic_service",
        title="MusicPlayer Subsonic API",
        description=(
            "The Subsonic REST API with OpenSubsonic extensions at /rest/{method}, for "
            "Subsonic apps. Authenticate with an API key or the app password "
            "(auth_service: /auth/api-keys, /auth/app-password)."
        ),
        settings=settings or get_settings(),
        routers=[rest.router],
        service=build_unit,
        services={"upstream": build_upstream},
        database=database,
    )
