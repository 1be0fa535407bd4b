"""The web player (song_service/player/): a static page, served at /player/.

Through the gateway everything the page calls is on one origin, and nginx answers
`/player/config.json` itself with `{}` ("every service is on this origin"). Under
`make run` there is no gateway: song_service serves the page and the config below,
which names the other services' base URLs, and their CORS_ORIGINS (by default
every local port 8000-8003, 8080 on localhost and 127.0.0.1) let the page call them.

None of these routes is part of the API, so none is in the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from common.server import SERVICES
from common.settings import Settings

PLAYER_DIR = Path(__file__).resolve().parent.parent / "player"


def player_config(settings: Settings) -> dict[str, str]:
    """`{"auth": base URL, "albums": base URL}`; song_service itself is the page's
    own origin, so it is not named (a missing name means "this origin"). Unset,
    PLAYER_AUTH_URL is where AUTH_TOKEN_URL points (the address Swagger's login
    already uses), and PLAYER_ALBUM_URL that host at album_service's port."""
    token = urlsplit(settings.auth_token_url)
    auth = settings.player_auth_url or f"{token.scheme}://{token.netloc}"
    album = settings.player_album_url
    if album is None:
        auth_parts = urlsplit(auth)
        album = f"{auth_parts.scheme}://{auth_parts.hostname}:{SERVICES['album_service']}"
    return {"auth": auth, "albums": album}


router = APIRouter(include_in_schema=False)


@router.get("/player")
async def player_root() -> RedirectResponse:
    """/player -> /player/ (a relative Location: no URL is built from the Host header),
    so that the page's relative links resolve under /player/."""
    return RedirectResponse("/player/", status_code=308)


@router.get("/player/config.json")
async def config(request: Request) -> JSONResponse:
    """The base URLs the page calls: `{"auth": url, "albums": url}` (see player_config).
    Behind the gateway nginx answers this path itself with `{}`."""
    body = player_config(request.app.state.settings)
    # no-store: a page opened after the fleet moved must not keep stale addresses.
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


# StaticFiles(html=True): /player/ is index.html; ETag, Last-Modified, 304s, HEAD.
router.routes.append(Mount("/player", app=StaticFiles(directory=PLAYER_DIR, html=True)))
