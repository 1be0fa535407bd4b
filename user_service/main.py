"""user_service (port 8003): accounts, profiles and roles."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from common.app import create_service_app
from common.passwords import PasswordHasher
from common.settings import Settings, get_settings
from database import Database
from user_service.repos.sql import SqlUserRepository
from user_service.routers import users
from user_service.services.admin import ensure_admin

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        name="user_service",
        title="MusicPlayer users",
        description="Accounts, profiles and roles.",
        settings=settings,
        routers=[users.public, users.protected],
        database=database,
        on_startup=[_build_hasher, _bootstrap_admin],
    )


def _build_hasher(app: FastAPI) -> None:
    app.state.hasher = PasswordHasher(app.state.settings.bcrypt_rounds)


def _bootstrap_admin(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    if not (settings.admin_email and settings.admin_password):
        return
    database: Database = app.state.database
    try:
        ensure_admin(
            SqlUserRepository(database),
            app.state.hasher,
            email=settings.admin_email,
            password=settings.admin_password.get_secret_value(),
            username=settings.admin_username,
        )
    except SQLAlchemyError as exc:
        # The service still starts; readiness reports the database until it answers.
        logger.warning("admin bootstrap skipped, database unavailable: %s", exc.__class__.__name__)
