"""auth_service (port 8000): login, access and refresh tokens, signing keys."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from auth_service.dependencies import build_auth_service, build_third_party_service
from auth_service.routers import auth, credentials
from auth_service.services.credentials import CredentialKeys
from auth_service.services.tokens import TokenIssuer
from common.app import create_service_app
from common.keys import check_key_pair, ensure_key_pair
from common.passwords import PasswordHasher
from common.settings import Settings, get_settings
from common.startup import explained
from database import Database

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    return create_service_app(
        name="auth_service",
        title="MusicPlayer auth",
        description=(
            "Login, access and refresh tokens, the public signing keys, and the API keys "
            "and app passwords of third-party (Subsonic) apps."
        ),
        settings=settings or get_settings(),
        routers=[auth.public, auth.protected, auth.keys, credentials.router, credentials.exchange],
        service=lambda app: build_auth_service(app.state),
        services={"third_party": lambda app: build_third_party_service(app.state)},
        database=database,
        on_startup=[_prepare_signing, _build_hasher, _prepare_credentials],
    )


def _prepare_signing(app: FastAPI) -> None:
    """Create the RS256 key pair on a fresh machine, check that its halves belong
    together (sign and verify once), then parse the key once. A pair that does not
    match would start fine and refuse every token: it stops the start, in one line."""
    settings: Settings = app.state.settings
    with explained(logger):
        if settings.jwt_algorithm == "RS256":
            ensure_key_pair(settings.private_key_path, settings.public_key_path)
            check_key_pair(settings.private_key_path, settings.public_key_path)
        app.state.token_issuer = TokenIssuer.from_settings(settings)


def _prepare_credentials(app: FastAPI) -> None:
    """Derive the API-key and app-password keys once, from CREDENTIALS_SECRET or the
    key file (made here on a fresh machine, as `python -m common.keys` would); a
    file that cannot be read or made stops the start, in one line."""
    settings: Settings = app.state.settings
    with explained(logger):
        app.state.credential_keys = CredentialKeys.from_settings(settings)


def _build_hasher(app: FastAPI) -> None:
    app.state.hasher = PasswordHasher(app.state.settings.bcrypt_rounds)
