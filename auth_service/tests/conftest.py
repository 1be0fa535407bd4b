from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from auth_service.dependencies import build_auth_service, build_third_party_service
from auth_service.main import create_app
from auth_service.repos.memory import InMemoryAuthUnitOfWork
from auth_service.services.auth import AuthService
from auth_service.services.throttle import LoginThrottle
from auth_service.services.tokens import TokenIssuer
from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database
from database.memory import MemoryDatabase
from database.models import User
from database.types import utcnow

PASSWORD = "correct horse battery"


@dataclass
class FakeClock:
    """A clock tests move by hand, so windows and expiries need no sleeping."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def add_memory_user(
    db: MemoryDatabase,
    hasher: PasswordHasher,
    name: str = "alice",
    *,
    password: str = PASSWORD,
    role: str = "user",
) -> int:
    """A users row as user_service stores it (email lower-cased)."""
    user_id = db.next_id("users")
    now = utcnow()
    db.users[user_id] = {
        "id": user_id,
        "username": name,
        "email": f"{name}@example.com",
        "password_hash": hasher.hash(password),
        "first_name": name.title(),
        "last_name": None,
        "role": role,
        "session_version": 0,
        "created_at": now,
        "updated_at": now,
    }
    return user_id


def add_sql_user(
    database: Database,
    hasher: PasswordHasher,
    name: str = "alice",
    *,
    password: str = PASSWORD,
    role: str = "user",
) -> int:
    with database.connect(write=True) as connection:
        result = connection.execute(
            insert(User).values(
                username=name,
                email=f"{name}@example.com",
                password_hash=hasher.hash(password),
                first_name=name.title(),
                role=role,
            )
        )
        connection.commit()
    return result.inserted_primary_key[0]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def memory_db() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def issuer(settings: Settings, clock: FakeClock) -> TokenIssuer:
    return TokenIssuer.from_settings(settings, clock)


@pytest.fixture
def make_service(
    memory_db: MemoryDatabase,
    fast_hasher: PasswordHasher,
    issuer: TokenIssuer,
    settings: Settings,
    clock: FakeClock,
) -> Callable[..., AuthService]:
    """An AuthService over the in-memory units of work; settings can be overridden."""

    def build(hasher: PasswordHasher = fast_hasher, **overrides: object) -> AuthService:
        config = settings.model_copy(update=overrides)
        return AuthService(
            unit=functools.partial(InMemoryAuthUnitOfWork, memory_db),
            throttle=LoginThrottle.from_settings(config, clock),
            hasher=hasher,
            issuer=issuer,
            refresh_lifetime=timedelta(days=config.refresh_token_expire_days),
            reuse_grace=timedelta(seconds=config.refresh_reuse_grace_seconds),
            clock=clock,
        )

    return build


@pytest.fixture
def service(make_service: Callable[..., AuthService]) -> AuthService:
    return make_service()


@pytest.fixture
def make_client(
    settings: Settings,
    database: Database,
    memory_db: MemoryDatabase,
    fast_hasher: PasswordHasher,
) -> Iterator[Callable[..., TestClient]]:
    """The real app, with in-memory repositories unless `sql=True`; the hasher is
    always the fast one. Settings can be overridden per test."""
    clients: list[TestClient] = []

    def build(*, sql: bool = False, **overrides: object) -> TestClient:
        app: FastAPI = create_app(settings.model_copy(update=overrides), database)
        unit = None if sql else functools.partial(InMemoryAuthUnitOfWork, memory_db)
        if not sql:
            # The fake holds this app's accounts, so admin tokens are checked there.
            app.state.current_role = lambda user_id: memory_db.users.get(user_id, {}).get("role")
        client = TestClient(app)
        client.__enter__()  # runs the lifespan: keys, issuer, hasher, service
        app.state.hasher = fast_hasher  # in place of the one the lifespan built
        app.state.service = build_auth_service(app.state, unit)  # with that hasher
        app.state.third_party = build_third_party_service(app.state, unit)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def sql_client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(sql=True)
