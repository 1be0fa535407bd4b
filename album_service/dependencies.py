"""The injectable pieces of album_service, declared once as Annotated aliases."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import Depends, Request

from album_service.repos.sql import SqlAlbumUnitOfWork
from album_service.services.albums import AlbumService


async def get_album_service(request: Request) -> AlbumService:
    # The service opens a unit of work per use case on the process's Database, so
    # it holds no per-request state; one dependency rather than a chain, since
    # FastAPI solves every level on every request.
    return AlbumService(functools.partial(SqlAlbumUnitOfWork, request.app.state.database))


AlbumServiceDep = Annotated[AlbumService, Depends(get_album_service)]
