"""The baseline: the least a FastAPI app on one uvicorn worker can do on this
machine. Every scenario's requests/s is divided by this app's, measured in the
same run, so the ratios survive a slow or busy machine."""

from __future__ import annotations

from fastapi import FastAPI

BODY = {"status": "ok", "service": "baseline"}


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    # `/health` too, only so that the readiness wait treats it like a service.
    @app.get("/")
    @app.get("/health")
    async def constant() -> dict[str, str]:
        return BODY

    return app
