"""The injectable pieces of song_service, declared once as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from common.db import SessionDep
from song_service.repos.base import LikeRepository, SongRepository
from song_service.repos.sql import SqlLikeRepository, SqlSongRepository
from song_service.services.songs import SongService


async def get_song_repository(session: SessionDep) -> SongRepository:
    return SqlSongRepository(session)


async def get_like_repository(session: SessionDep) -> LikeRepository:
    return SqlLikeRepository(session)


async def get_song_service(
    songs: Annotated[SongRepository, Depends(get_song_repository)],
    likes: Annotated[LikeRepository, Depends(get_like_repository)],
) -> SongService:
    return SongService(songs, likes)


SongServiceDep = Annotated[SongService, Depends(get_song_service)]
