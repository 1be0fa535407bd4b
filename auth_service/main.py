"""auth_service (port 8000): login, access and refresh tokens, signing keys."""

from __future__ import annotations

from fastapi import FastAPI

from auth_service.routers import auth
from auth_service.services.tokens import TokenIssuer
from common.app import create_service_app
from common.keys import ensure_key_pair
from common.passwords import PasswordHasher
from common.settings import Settings, get_settings
from database import Database


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    return create_service_app(
        name="auth_service",
        title="MusicPlayer auth",
        description="Login, access and refresh tokens, and the public signing keys.",
        settings=settings or get_settings(),
        routers=[auth.public, auth.protected, auth.keys],
        database=database,
        on_startup=[_prepare_signing, _build_hasher],
    )


def _prepare_signing(app: FastAPI) -> None:
    """Create the RS256 key pair on a fresh machine, then parse the key once."""
    settings: Settings = app.state.settings
    if settings.jwt_algorithm == "RS256":
        ensure_key_pair(settings.private_key_path, settings.public_key_path)
    app.state.token_issuer = TokenIssuer.from_settings(settings)


def _build_hasher(app: FastAPI) -> None:
    app.state.hasher = PasswordHasher(app.state.settings.bcrypt_rounds)
