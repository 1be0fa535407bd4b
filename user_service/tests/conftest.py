from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database
from database.memory import MemoryDatabase
from user_service.main import create_app
from user_service.repos.base import UserUnitOfWork
from user_service.repos.memory import InMemoryUserRepository, InMemoryUserUnitOfWork
from user_service.repos.sql import SqlUserUnitOfWork
from user_service.services.users import UserService


@pytest.fixture
def memory_db() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def user_repo(memory_db: MemoryDatabase) -> InMemoryUserRepository:
    """The fake's users, to look at what a use case stored."""
    return InMemoryUserRepository(memory_db)


@pytest.fixture
def user_unit(memory_db: MemoryDatabase) -> Callable[..., UserUnitOfWork]:
    """The unit-of-work factory the services take, over the fake."""
    return functools.partial(InMemoryUserUnitOfWork, memory_db)


@pytest.fixture
def service(user_unit: Callable[..., UserUnitOfWork], fast_hasher: PasswordHasher) -> UserService:
    return UserService(user_unit, fast_hasher)


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI, service: UserService) -> Iterator[TestClient]:
    """The real app with the service on the in-memory repository and a fast hasher."""
    with TestClient(app) as test_client:
        app.state.service = service
        yield test_client


@pytest.fixture
def sql_client(
    app: FastAPI, database: Database, fast_hasher: PasswordHasher
) -> Iterator[TestClient]:
    """The real app on a migrated SQLite file, only the hasher made fast."""
    with TestClient(app) as test_client:
        app.state.service = UserService(functools.partial(SqlUserUnitOfWork, database), fast_hasher)
        yield test_client
