"""album_service (port 8001): albums and their track lists."""

from __future__ import annotations

from fastapi import FastAPI

from album_service.dependencies import build_album_service
from album_service.routers import albums, tracks
from common.app import create_service_app
from common.settings import Settings, get_settings
from database import Database


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    return create_service_app(
        name="album_service",
        title="MusicPlayer albums",
        description="Albums and the songs on them.",
        settings=settings or get_settings(),
        routers=[albums.public, albums.protected, albums.admin, tracks.protected, tracks.admin],
        service=build_album_service,
        database=database,
    )
