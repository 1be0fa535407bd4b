"""user_service (port 8003): accounts, profiles and roles."""

from __future__ import annotations

from fastapi import FastAPI

from common.app import create_service_app
from common.passwords import PasswordHasher
from common.settings import Settings, get_settings
from database import Database
from user_service.dependencies import build_user_service
from user_service.routers import users


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        name="user_service",
        title="MusicPlayer users",
        description="Accounts, profiles and roles.",
        settings=settings,
        routers=[users.public, users.protected],
        service=build_user_service,
        database=database,
        # The admin (ADMIN_EMAIL / ADMIN_PASSWORD) is made once per fleet by a setup
        # step, `python -m user_service.admin`, not by every worker here.
        on_startup=[_build_hasher],
    )


def _build_hasher(app: FastAPI) -> None:
    app.state.hasher = PasswordHasher(app.state.settings.bcrypt_rounds)
