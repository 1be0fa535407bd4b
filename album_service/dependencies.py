"""How album_service's handlers get their service."""

from __future__ import annotations

import functools

from fastapi import FastAPI, Request

from album_service.repos.sql import SqlAlbumUnitOfWork
from album_service.services.albums import AlbumService
from album_service.services.artists import ArtistService
from album_service.services.covers import CoverService


def build_album_service(app: FastAPI) -> AlbumService:
    """The service on the process's Database, made once at start-up: it opens a
    unit of work per use case and holds no per-request state."""
    return AlbumService(functools.partial(SqlAlbumUnitOfWork, app.state.database))


def album_service(request: Request) -> AlbumService:
    """The app's AlbumService (tests put one on in-memory units in its place); a
    call rather than a FastAPI dependency, as song_service.dependencies explains."""
    return request.app.state.service


def build_artist_service(app: FastAPI) -> ArtistService:
    """The artists domain's service, on the same unit of work as the albums'
    (artists are album_service's rows)."""
    return ArtistService(functools.partial(SqlAlbumUnitOfWork, app.state.database))


def artist_service(request: Request) -> ArtistService:
    """The app's ArtistService (tests put one on in-memory units in its place)."""
    return request.app.state.artists


def build_cover_service(app: FastAPI) -> CoverService:
    """Covers on the albums' units of work (`uow.covers`), made once at start-up as
    `app.state.covers`."""
    return CoverService(functools.partial(SqlAlbumUnitOfWork, app.state.database))


def cover_service(request: Request) -> CoverService:
    """The app's CoverService (tests put one on in-memory units in its place)."""
    return request.app.state.covers
