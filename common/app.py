"""The app factory every service builds on: middleware, error handlers, health,
CORS and the shared state (database, token verifier) set up in one lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from common import health
from common.auth import VerifierProvider
from common.errors import install_error_handlers
from common.forwarded import ForwardedPrefixMiddleware
from common.logging import configure_logging
from common.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from common.settings import Settings
from database import Database

StartupHook = Callable[[FastAPI], None]


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    settings: Settings,
    routers: Sequence[APIRouter],
    database: Database | None = None,
    on_startup: Sequence[StartupHook] = (),
) -> FastAPI:
    """Build a service app. `database` lets tests inject one; otherwise the
    lifespan opens the configured database and disposes of it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_database = database is None
        app.state.database = database or Database(
            settings.sqlalchemy_url, connect_timeout=settings.db_connect_timeout_seconds
        )
        _size_threadpool(settings.threadpool_size, app.state.database.backend)
        for hook in on_startup:
            hook(app)
        try:
            yield
        finally:
            if owns_database:
                app.state.database.dispose()

    configure_logging(name, settings.log_level)
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.service_name = name
    app.state.settings = settings
    app.state.verifier = VerifierProvider(settings)
    if database is not None:
        app.state.database = database

    install_error_handlers(app)
    app.include_router(health.router)
    for router in routers:
        app.include_router(router)

    # Added last runs first: request ids wrap everything, then CORS, then the cap.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["Link", "X-Request-ID", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(ForwardedPrefixMiddleware)  # docs behind the gateway's prefix
    _point_swagger_at_auth(app, settings.auth_token_url)
    return app


# Embedded SQLite work is in-process CPU under the GIL: every extra handler
# thread only makes the event loop wait longer for the GIL (a page of songs
# served 2.8x faster with 1-2 threads than with anyio's default 40). Server
# databases release the GIL while they wait on the network, so they get more.
DEFAULT_THREADPOOL = {"sqlite": 2}
DEFAULT_SERVER_THREADPOOL = 16


def _size_threadpool(configured: int | None, backend: str) -> None:
    size = configured or DEFAULT_THREADPOOL.get(backend, DEFAULT_SERVER_THREADPOOL)
    anyio.to_thread.current_default_thread_limiter().total_tokens = size


def _point_swagger_at_auth(app: FastAPI, token_url: str) -> None:
    """Every service's Swagger "Authorize" button logs in at auth_service."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build_schema()
            schemes = schema.get("components", {}).get("securitySchemes", {})
            for scheme in schemes.values():
                password_flow = scheme.get("flows", {}).get("password")
                if password_flow is not None:
                    password_flow["tokenUrl"] = token_url
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
