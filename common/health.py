"""Liveness and readiness, the same in every service."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from common.db import read

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process is up (no I/O)")
async def health(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.service_name}


@router.get(
    "/health/ready",
    summary="Readiness: the database answers",
    responses={503: {"description": "The database does not answer"}},
)
async def ready(request: Request) -> JSONResponse:
    database = request.app.state.database
    try:
        await read(database, database.ping)
    except SQLAlchemyError as exc:
        # The driver's text names hosts, ports and users: the log gets it, a
        # public probe only the verdict.
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        logger.warning("readiness check failed: %s: %s", exc.__class__.__name__, reason)
        return JSONResponse(
            {"detail": "Database unavailable"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse(
        {"status": "ready", "service": request.app.state.service_name},
    )
