"""HTTP helpers the end-to-end tests share: accounts, logins, and requests released
together by a barrier."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from tests.e2e.fleet import Fleet

T = TypeVar("T")
# bcrypt at production cost makes a login take a moment; a busy machine several.
TIMEOUT_SECONDS = 60


def client() -> httpx.Client:
    """A client that ignores proxy settings of the environment (127.0.0.1 only)."""
    return httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False)


def all_at_once(jobs: list[Callable[[httpx.Client], T]]) -> list[T]:
    """Run every job on its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[httpx.Client], T]) -> T:
        with client() as own:
            barrier.wait()
            return job(own)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expect(response: httpx.Response, status: int) -> Any:
    """The JSON body (None when empty) after asserting the status, showing the body."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}, "
        f"wanted {status}: {response.text}"
    )
    return response.json() if response.content else None


def sign_up_body(stem: str, email: str | None = None) -> dict[str, str]:
    return {
        "username": stem,
        "email": email or f"{stem}@example.com",
        "password": f"pw-{stem}-long",
        "first_name": "Racer",
    }


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str


def sign_up(
    http: httpx.Client, fleet: Fleet, *, email: str | None = None, password: str | None = None
) -> Account:
    """A new account with a unique username (and email, unless given)."""
    stem = f"u{uuid.uuid4().hex[:12]}"
    body = sign_up_body(stem, email)
    if password is not None:
        body["password"] = password
    created = expect(http.post(f"{fleet.user}/users", json=body), 201)
    return Account(created["id"], body["email"], body["password"])


def log_in(http: httpx.Client, fleet: Fleet, email: str, password: str) -> dict[str, Any]:
    """The login body: auth_token, refresh_token, user_id, role..."""
    return expect(
        http.post(f"{fleet.auth}/auth/login", json={"email": email, "password": password}), 200
    )


def refresh(http: httpx.Client, fleet: Fleet, refresh_token: str) -> httpx.Response:
    return http.post(f"{fleet.auth}/auth/refresh", json={"refresh_token": refresh_token})


def new_user(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    """Headers of a freshly signed-up, logged-in user."""
    account = sign_up(http, fleet)
    return bearer(log_in(http, fleet, account.email, account.password)["auth_token"])


def admin_headers(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    return bearer(log_in(http, fleet, fleet.admin_email, fleet.admin_password)["auth_token"])
