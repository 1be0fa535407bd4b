"""The injectable pieces of album_service, declared once as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from album_service.repos.base import AlbumRepository
from album_service.repos.sql import SqlAlbumRepository
from album_service.services.albums import AlbumService
from common.db import SessionDep


async def get_album_repository(session: SessionDep) -> AlbumRepository:
    return SqlAlbumRepository(session)


async def get_album_service(
    albums: Annotated[AlbumRepository, Depends(get_album_repository)],
) -> AlbumService:
    return AlbumService(albums)


AlbumServiceDep = Annotated[AlbumService, Depends(get_album_service)]
