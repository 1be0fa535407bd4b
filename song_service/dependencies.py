"""The injectable pieces of song_service, declared once as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from song_service.repos.sql import SqlLikeRepository, SqlSongRepository
from song_service.services.songs import SongService


async def get_song_service(request: Request) -> SongService:
    # The repositories take a connection per unit of work from the process's
    # Database, so the service holds no per-request state; one dependency rather
    # than a chain, since FastAPI solves every level on every request.
    database = request.app.state.database
    return SongService(SqlSongRepository(database), SqlLikeRepository(database))


SongServiceDep = Annotated[SongService, Depends(get_song_service)]
