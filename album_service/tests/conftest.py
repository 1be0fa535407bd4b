from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from album_service.main import create_app
from album_service.repos.base import AlbumUnitOfWork
from album_service.repos.memory import InMemoryAlbumUnitOfWork
from album_service.services.albums import AlbumService
from album_service.services.artists import ArtistService
from common.settings import Settings
from database import Database
from database.memory import MemoryDatabase
from database.models import Song
from database.types import utcnow

SongFactory = Callable[..., int]


def song_columns(title: str, **overrides: Any) -> dict[str, Any]:
    """Every column of a songs row but the id."""
    now = utcnow()
    return {
        "title": title,
        "artist": "Someone",
        "artist_id": None,
        "genre": "rock",
        "file_url": f"https://cdn.example.com/{title}.mp3",
        "duration": 180,
        "description": None,
        "cover_image_url": None,
        "release_date": None,
        "created_at": now,
        "updated_at": now,
        **overrides,
    }


@pytest.fixture
def memory_db() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def album_unit(memory_db: MemoryDatabase) -> Callable[..., AlbumUnitOfWork]:
    """The unit-of-work factory the service takes, over the fake."""
    return functools.partial(InMemoryAlbumUnitOfWork, memory_db)


@pytest.fixture
def service(album_unit: Callable[..., AlbumUnitOfWork]) -> AlbumService:
    return AlbumService(album_unit)


@pytest.fixture
def add_song(memory_db: MemoryDatabase) -> SongFactory:
    """Songs belong to song_service; here they are rows put straight into the fake."""

    def add(title: str = "song", **overrides: Any) -> int:
        song_id = memory_db.next_id("songs")
        memory_db.songs[song_id] = {"id": song_id, **song_columns(title, **overrides)}
        return song_id

    return add


@pytest.fixture
def add_user(memory_db: MemoryDatabase) -> Callable[[], int]:
    """A users row in the fake, as sign-up would leave it (likes need their user)."""

    def add() -> int:
        now = utcnow()
        user_id = memory_db.next_id("users")
        memory_db.users[user_id] = {
            "id": user_id,
            "username": f"user{user_id}",
            "email": f"user{user_id}@example.com",
            "password_hash": "x",
            "first_name": "U",
            "last_name": None,
            "role": "user",
            "session_version": 0,
            "created_at": now,
            "updated_at": now,
        }
        return user_id

    return add


@pytest.fixture
def add_sql_song(database: Database) -> SongFactory:
    def add(title: str = "song", **overrides: Any) -> int:
        with database.transaction() as session:
            song = Song(**song_columns(title, **overrides))
            session.add(song)
            session.flush()
            return song.id

    return add


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI, album_unit: Callable[..., AlbumUnitOfWork]) -> Iterator[TestClient]:
    """The real app with the in-memory repository swapped in."""
    with TestClient(app) as test_client:
        app.state.service = AlbumService(album_unit)
        app.state.artists = ArtistService(album_unit)
        yield test_client


@pytest.fixture
def sql_client(app: FastAPI) -> Iterator[TestClient]:
    """The real app on a migrated SQLite file."""
    with TestClient(app) as test_client:
        yield test_client
