"""Swagger UI (/docs) and ReDoc (/redoc) from the service itself.

FastAPI's own pages load their JavaScript and CSS from a CDN and ReDoc its fonts
from Google, so without internet they are blank. The `fastapi-offline` package
ships both bundles; they are served here under /docs/assets/, and the pages name
no other host (ReDoc falls back to system fonts, Swagger's online validator is
off). Paths follow `root_path`, so the pages also work behind the gateway's
/docs/<service>/ prefix.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException

ASSETS_URL = "/docs/assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
# The files a page may load, with their types. A route rather than a StaticFiles
# mount: a mount would look for the gateway's prefix in the path (common.middleware).
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# ReDoc shows a "Redocly" logo from cdn.redoc.ly; the browser is told not to
# fetch images or fonts from anywhere but the service (the logo then hides itself).
PAGE_HEADERS = {"Content-Security-Policy": "img-src 'self' data:; font-src 'self' data:"}
SWAGGER_UI_PARAMETERS = {
    "validatorUrl": None,  # the default sends the spec's URL to validator.swagger.io
    "persistAuthorization": True,  # the token survives a page reload
}


def install_docs(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Add /docs, its OAuth2 redirect page, /redoc and their assets to `app`
    (built with docs_url=None and redoc_url=None)."""
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=root + redirect_url,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})},
        )
        page.headers.update(PAGE_HEADERS)
        return page

    async def oauth2_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers.update(PAGE_HEADERS)
        return page

    async def asset(request: Request) -> FileResponse:
        name = request.path_params["name"]
        if name not in ASSETS:
            raise HTTPException(404, "Not Found")
        return FileResponse(
            ASSETS_DIR / name,
            media_type=ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # GET only (Starlette adds HEAD): anything else is a 405, not the page.
    for path, endpoint in (
        (f"{ASSETS_URL}/{{name}}", asset),
        (docs_url, swagger_ui),
        (redirect_url, oauth2_redirect),
        (redoc_url, redoc),
    ):
        app.add_route(path, endpoint, methods=["GET"], include_in_schema=False)
