"""song_service (port 8002): songs and their likes, listening history, playlists,
search across the catalogue and genres."""

from __future__ import annotations

from fastapi import FastAPI

from common.app import create_service_app
from common.settings import Settings, get_settings
from database import Database
from song_service.dependencies import (
    build_cover_service,
    build_library_service,
    build_listening_service,
    build_playlist_service,
    build_search_service,
    build_song_service,
)
from song_service.routers import (
    covers,
    library,
    player,
    playlists,
    plays,
    search,
    songs,
    stream,
)
from song_service.services.library import MAX_FILES_PER_UPLOAD

# The upload's request carries up to MAX_FILES_PER_UPLOAD files of MAX_UPLOAD_MB
# each (the service caps each file; this caps the request).
UPLOAD_PATH = "/songs/upload"


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    upload_bytes = (settings.max_upload_mb * MAX_FILES_PER_UPLOAD + 1) * 1024 * 1024
    return create_service_app(
        name="song_service",
        title="MusicPlayer songs",
        description="Songs and who likes them, listening history, playlists, search and genres; "
        "uploads, library scans, streaming and covers.",
        settings=settings,
        # plays.router before songs.protected: routes match in list order, and
        # /songs/played and /songs/top are not /songs/{song_id}.
        routers=[
            songs.public,
            library.router,
            plays.router,
            songs.protected,
            playlists.protected,
            search.router,
            player.router,
            covers.router,
            stream.router,
        ],
        service=build_song_service,
        services={
            "playlists": build_playlist_service,
            "listening": build_listening_service,
            "search": build_search_service,
            "library": build_library_service,
            "covers": build_cover_service,
        },
        database=database,
        body_limits={UPLOAD_PATH: upload_bytes},
    )
