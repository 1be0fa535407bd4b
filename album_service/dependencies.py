"""The injectable pieces of album_service, declared once as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from album_service.repos.sql import SqlAlbumRepository
from album_service.services.albums import AlbumService


async def get_album_service(request: Request) -> AlbumService:
    # The repository takes a connection per unit of work from the process's
    # Database, so the service holds no per-request state; one dependency rather
    # than a chain, since FastAPI solves every level on every request.
    return AlbumService(SqlAlbumRepository(request.app.state.database))


AlbumServiceDep = Annotated[AlbumService, Depends(get_album_service)]
