"""song_service (port 8002): songs and likes."""

from __future__ import annotations

from fastapi import FastAPI

from common.app import create_service_app
from common.settings import Settings, get_settings
from database import Database
from song_service.dependencies import build_song_service
from song_service.routers import songs


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    return create_service_app(
        name="song_service",
        title="MusicPlayer songs",
        description="Songs and who likes them.",
        settings=settings or get_settings(),
        routers=[songs.public, songs.protected],
        service=build_song_service,
        database=database,
    )
