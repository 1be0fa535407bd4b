"""How song_service's handlers get their service."""

from __future__ import annotations

import functools

from fastapi import FastAPI, Request

from song_service.repos.sql import SqlSongUnitOfWork
from song_service.services.songs import SongService


def build_song_service(app: FastAPI) -> SongService:
    """The service on the process's Database, made once at start-up: it opens a
    unit of work per use case and holds no per-request state."""
    return SongService(functools.partial(SqlSongUnitOfWork, app.state.database))


def song_service(request: Request) -> SongService:
    """The app's SongService (tests put one on in-memory units in its place). A
    call rather than a FastAPI dependency: FastAPI solves each dependency anew on
    every request, ~13 us of a ~240 us point read."""
    return request.app.state.service
