"""album_service (port 8001): albums and their track lists, artists, and likes of
albums and artists."""

from __future__ import annotations

from fastapi import FastAPI

from album_service.dependencies import (
    build_album_service,
    build_artist_service,
    build_cover_service,
)
from album_service.routers import albums, artists, covers, tracks
from common.app import create_service_app
from common.settings import Settings, get_settings
from database import Database


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    return create_service_app(
        name="album_service",
        title="MusicPlayer albums",
        description="Albums, the songs on them, artists, and likes of albums and artists.",
        settings=settings or get_settings(),
        # /artists/liked (protected) before /artists/{artist_id} (public).
        routers=[
            albums.public,
            albums.protected,
            albums.admin,
            tracks.protected,
            tracks.admin,
            artists.protected,
            artists.public,
            covers.router,
        ],
        service=build_album_service,
        services={"artists": build_artist_service, "covers": build_cover_service},
        database=database,
    )
