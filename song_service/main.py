"""song_service (port 8002): songs and their likes, listening history, playlists,
search across the catalogue and genres."""

from __future__ import annotations

from fastapi import FastAPI

from common.app import create_service_app
from common.settings import Settings, get_settings
from database import Database
from song_service.dependencies import (
    build_listening_service,
    build_playlist_service,
    build_search_service,
    build_song_service,
)
from song_service.routers import playlists, plays, search, songs


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    return create_service_app(
        name="song_service",
        title="MusicPlayer songs",
        description="Songs and who likes them, listening history, playlists, search and genres.",
        settings=settings or get_settings(),
        # plays.router before songs.protected: routes match in list order, and
        # /songs/played and /songs/top are not /songs/{song_id}.
        routers=[songs.public, plays.router, songs.protected, playlists.protected, search.router],
        service=build_song_service,
        services={
            "playlists": build_playlist_service,
            "listening": build_listening_service,
            "search": build_search_service,
        },
        database=database,
    )
