"""Sign-ups limited per client address (API.md, Sessions): counted before any
bcrypt work, answered with 429 and Retry-After over HTTP."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.passwords import PasswordHasher
from database.memory import MemoryDatabase
from user_service.repos.base import UserUnitOfWork
from user_service.repos.signups import InMemorySignUpUnitOfWork
from user_service.schemas import SignUp
from user_service.services.signups import SignUpThrottle, TooManySignUpsError
from user_service.services.users import UserService


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(4)
        self.hashed = 0

    def hash(self, password: str) -> str:
        self.hashed += 1
        return super().hash(password)


def body(n: int) -> dict[str, str]:
    return {"username": f"user{n}", "email": f"user{n}@example.com",
            "password": "password123", "first_name": "U"}  # fmt: skip


def test_a_refused_sign_up_costs_no_bcrypt(
    memory_db: MemoryDatabase, user_unit: Callable[..., UserUnitOfWork]
) -> None:
    hasher = CountingHasher()
    throttle = SignUpThrottle(
        functools.partial(InMemorySignUpUnitOfWork, memory_db), limit=2, window=timedelta(hours=1)
    )
    service = UserService(user_unit, hasher, throttle)
    for n in range(2):
        service.sign_up(SignUp(**body(n)), "192.0.2.1")
    with pytest.raises(TooManySignUpsError):
        service.sign_up(SignUp(**body(2)), "192.0.2.1")
    assert hasher.hashed == 2
    service.sign_up(SignUp(**body(3)), "192.0.2.2")  # another address


@pytest.fixture
def limited_client(
    app: FastAPI,
    memory_db: MemoryDatabase,
    user_unit: Callable[..., UserUnitOfWork],
) -> Iterator[TestClient]:
    throttle = SignUpThrottle(
        functools.partial(InMemorySignUpUnitOfWork, memory_db), limit=2, window=timedelta(hours=1)
    )
    with TestClient(app) as client:
        app.state.service = UserService(user_unit, PasswordHasher(4), throttle)
        yield client


def test_too_many_sign_ups_are_a_429_with_retry_after(limited_client: TestClient) -> None:
    assert [limited_client.post("/users", json=body(n)).status_code for n in range(2)] == [201] * 2
    refused = limited_client.post("/users", json=body(2))
    assert refused.status_code == 429
    assert refused.json() == {"detail": "Too many sign-ups from this address; try again later"}
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
