from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.settings import Settings
from database import Database
from database.memory import MemoryDatabase
from database.types import utcnow
from song_service.main import create_app
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.services.listening import ListeningService
from song_service.services.search import SearchService
from song_service.services.songs import SongService

SONG = {"title": "Song", "artist": "Band", "genre": "rock", "file_url": "/music/song.mp3"}


@pytest.fixture
def memory_db() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def add_user(memory_db: MemoryDatabase) -> Callable[[], int]:
    """A users row in the fake, as sign-up would leave it (likes need their user)."""

    def add() -> int:
        user_id = memory_db.next_id("users")
        now = utcnow()
        memory_db.users[user_id] = {
            "id": user_id, "username": f"u{user_id}", "email": f"u{user_id}@example.com",
            "password_hash": "x", "first_name": "U", "last_name": None, "role": "user",
            "session_version": 0, "created_at": now, "updated_at": now,
        }  # fmt: skip
        return user_id

    return add


@pytest.fixture
def service(memory_db: MemoryDatabase) -> SongService:
    return SongService(functools.partial(InMemorySongUnitOfWork, memory_db))


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI, memory_db: MemoryDatabase) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        units = functools.partial(InMemorySongUnitOfWork, memory_db)
        app.state.service = SongService(units)
        app.state.listening = ListeningService(units)
        app.state.search = SearchService(units)
        yield test_client


@pytest.fixture
def sql_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def song(**fields: Any) -> dict[str, Any]:
    return {**SONG, **fields}
