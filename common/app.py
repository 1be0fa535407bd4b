"""The app factory every service builds on: middleware, error handlers, health,
CORS and the shared state (database, token verifier) set up in one lifespan."""

from __future__ import annotations

import copy
import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response

from common import health, metrics
from common.auth import VerifierProvider
from common.db import Capacity
from common.docs import install_docs
from common.errors import install_error_handlers
from common.logging import configure_logging
from common.middleware import ServiceMiddleware
from common.settings import Settings
from database import Database
from database.accounts import current_role

StartupHook = Callable[[FastAPI], None]


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    settings: Settings,
    routers: Sequence[APIRouter],
    service: Callable[[FastAPI], object] | None = None,
    services: Mapping[str, Callable[[FastAPI], object]] | None = None,
    database: Database | None = None,
    on_startup: Sequence[StartupHook] = (),
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """Build a service app. `service(app)` makes the app's service at start-up,
    after the `on_startup` hooks, as `app.state.service` (handlers read it from
    there; tests replace it, or make it again with `app.state.build_service`
    after changing what it is made of). `services` makes the service of each of the
    app's other domains the same way, as `app.state.<name>` (song_service's
    playlists, say), with `app.state.build_services` to make them again. `database`
    lets tests inject one; otherwise the lifespan opens the configured database and
    disposes of it on shutdown. `body_limits` raises MAX_BODY_BYTES for the paths
    named (song_service's upload). A service with a `close()` method is closed at
    shutdown, before the database (a background scan stops there)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_database = database is None
        capacity = Capacity.of(settings)
        app.state.database = database or Database(
            settings.sqlalchemy_url,
            connect_timeout=settings.db_connect_timeout_seconds,
            pool_size=capacity.pool_size,
            event_loop=settings.db_event_loop,
            event_loop_pool_size=capacity.event_loop_pool_size,
        )
        if not hasattr(app.state, "current_role"):  # tests over fakes set their own
            app.state.current_role = functools.partial(current_role, app.state.database)
        anyio.to_thread.current_default_thread_limiter().total_tokens = capacity.threads
        await app.state.database.start_event_loop()
        for hook in on_startup:
            hook(app)
        if service is not None:
            app.state.build_service = service
            app.state.service = service(app)
        app.state.build_services = dict(services or {})
        for domain, build in app.state.build_services.items():
            setattr(app.state, domain, build(app))
        try:
            yield
        finally:
            for domain in ("service", *app.state.build_services):
                close = getattr(getattr(app.state, domain, None), "close", None)
                if callable(close):
                    close()
                aclose = getattr(getattr(app.state, domain, None), "aclose", None)
                if callable(aclose):  # an HTTP client (subsonic_service's upstream)
                    await aclose()
            await app.state.database.stop_event_loop()
            if owns_database:
                app.state.database.dispose()

    configure_logging(name, settings.log_level, settings.log_format)
    metrics.serve_as(name)
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        # Starlette would build the redirect of /songs/ to /songs from the Host
        # header a client chose; a path with a trailing slash is a 404 instead.
        redirect_slashes=False,
        # Served from local assets by common.docs: the default pages need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.service_name = name
    app.state.settings = settings
    app.state.verifier = VerifierProvider(settings)
    if database is not None:
        app.state.database = database

    install_error_handlers(app)
    # The routers' routes go straight into the app's own list, the service's first:
    # FastAPI matches an included router as a router of its own, twice per request
    # and level (~20 us of a 200 us point read); its routes already carry their
    # router's prefix, tags and documented responses, so nothing is lost.
    for router in (*routers, health.router):
        app.router.routes.extend(router.routes)
    # Next to health, outside the OpenAPI document. Public on the service's port for
    # Prometheus; the gateway does not route it (gateway/nginx.conf).
    app.add_route("/metrics", _metrics, methods=["GET"], include_in_schema=False)
    install_docs(app)

    # One layer for everything the fleet adds around its routes (common.middleware).
    app.add_middleware(
        ServiceMiddleware,
        router=app.router,
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_origins,
        body_limits=body_limits,
        service=name,
    )
    _finish_openapi(app, settings.auth_token_url)
    return app


async def _metrics(request: Request) -> Response:
    """Prometheus' scrape (common.metrics): the text format, or OpenMetrics when the
    Accept header asks for it; the Content-Type is prometheus-client's."""
    body, content_type = metrics.exposition(request.headers.get("accept"))
    return Response(body, headers={"Content-Type": content_type})


def _finish_openapi(app: FastAPI, token_url: str) -> None:
    """The generated document, plus what FastAPI cannot know: every service's
    Swagger "Authorize" button logs in at auth_service, and every GET also
    answers HEAD (common.middleware.ServiceMiddleware)."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build_schema()
            schemes = schema.get("components", {}).get("securitySchemes", {})
            for scheme in schemes.values():
                password_flow = scheme.get("flows", {}).get("password")
                if password_flow is not None:
                    password_flow["tokenUrl"] = token_url
            for path_item in schema.get("paths", {}).values():
                if "get" in path_item and "head" not in path_item:
                    path_item["head"] = _head_operation(path_item["get"])
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _head_operation(get: dict[str, Any]) -> dict[str, Any]:
    """The GET operation's parameters, security and statuses, without bodies."""
    head = copy.deepcopy(get)
    get_id = get["operationId"]
    head["operationId"] = f"{get_id.removesuffix('_get')}_head"
    head["summary"] = f"{get.get('summary', get_id)} (headers only)"
    head["description"] = "The same as GET, with the same status and headers but no body."
    for response in head.get("responses", {}).values():
        response.pop("content", None)
    return head
