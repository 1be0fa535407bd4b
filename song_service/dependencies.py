"""How song_service's handlers get their service."""

from __future__ import annotations

import functools

from fastapi import FastAPI, Request

from song_service.repos.sql import SqlSongUnitOfWork
from song_service.services.covers import CoverService
from song_service.services.library import LibraryService
from song_service.services.listening import ListeningService
from song_service.services.playlists import PlaylistService
from song_service.services.search import SearchService
from song_service.services.songs import SongService


def build_song_service(app: FastAPI) -> SongService:
    """The service on the process's Database, made once at start-up: it opens a
    unit of work per use case and holds no per-request state."""
    return SongService(functools.partial(SqlSongUnitOfWork, app.state.database), app.state.settings)


def song_service(request: Request) -> SongService:
    """The app's SongService (tests put one on in-memory units in its place). A
    call rather than a FastAPI dependency: FastAPI solves each dependency anew on
    every request, ~13 us of a ~240 us point read."""
    return request.app.state.service


def build_playlist_service(app: FastAPI) -> PlaylistService:
    """The playlists' service, on the same units of work as the songs' (its unit
    has `uow.playlists`), made once at start-up as `app.state.playlists`."""
    return PlaylistService(functools.partial(SqlSongUnitOfWork, app.state.database))


def playlist_service(request: Request) -> PlaylistService:
    """The app's PlaylistService (tests put one on in-memory units in its place)."""
    return request.app.state.playlists


def build_listening_service(app: FastAPI) -> ListeningService:
    """Listening history on the songs' units of work (`uow.plays`), made once at
    start-up as `app.state.listening`."""
    return ListeningService(functools.partial(SqlSongUnitOfWork, app.state.database))


def listening_service(request: Request) -> ListeningService:
    """The app's ListeningService (tests put one on in-memory units in its place)."""
    return request.app.state.listening


def build_search_service(app: FastAPI) -> SearchService:
    """Search and genres on the songs' units of work (`uow.search`), made once at
    start-up as `app.state.search`."""
    return SearchService(functools.partial(SqlSongUnitOfWork, app.state.database))


def search_service(request: Request) -> SearchService:
    """The app's SearchService (tests put one on in-memory units in its place)."""
    return request.app.state.search


def build_library_service(app: FastAPI) -> LibraryService:
    """Uploads and library scans on the songs' units of work (`uow.media`,
    `uow.scans`), made once at start-up as `app.state.library`; closed at shutdown
    (a running scan stops)."""
    return LibraryService(
        functools.partial(SqlSongUnitOfWork, app.state.database), app.state.settings
    )


def build_cover_service(app: FastAPI) -> CoverService:
    """Covers on the songs' units of work (`uow.covers`), made once at start-up as
    `app.state.covers`."""
    return CoverService(functools.partial(SqlSongUnitOfWork, app.state.database))


def cover_service(request: Request) -> CoverService:
    """The app's CoverService (tests put one on in-memory units in its place)."""
    return request.app.state.covers
