"""The injectable pieces of song_service, declared once as Annotated aliases."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import Depends, Request

from song_service.repos.sql import SqlSongUnitOfWork
from song_service.services.songs import SongService


async def get_song_service(request: Request) -> SongService:
    # The service opens a unit of work per use case on the process's Database, so
    # it holds no per-request state; one dependency rather than a chain, since
    # FastAPI solves every level on every request.
    return SongService(functools.partial(SqlSongUnitOfWork, request.app.state.database))


SongServiceDep = Annotated[SongService, Depends(get_song_service)]
