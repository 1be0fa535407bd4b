"""A database outage and its end: with the fleet on PostgreSQL, stop the server;
every service stays alive, says 503 quickly and clearly, and serves again once the
server is back, without a restart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.e2e.fleet import Fleet, running_fleet
from tests.e2e.private_postgres import PrivatePostgres, private_postgres

pytestmark = pytest.mark.e2e
ANSWER_WITHIN_SECONDS = 5.0
RECOVER_WITHIN_SECONDS = 30.0


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    with private_postgres() as started:
        yield started


@pytest.fixture(scope="module")
def pg_fleet(server: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with running_fleet(tmp_path_factory.mktemp("outage"), server.url) as started:
        yield started


def data_calls(fleet: Fleet) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    """One call per service that needs the database."""
    stem = uuid.uuid4().hex[:10]
    return {
        "user": lambda c: c.post(
            f"{fleet.user}/users",
            json={
                "username": stem,
                "email": f"{stem}@example.com",
                "password": "outage-password",
                "first_name": "O",
            },
        ),
        "auth": lambda c: c.post(
            f"{fleet.auth}/auth/login",
            json={"email": fleet.admin_email, "password": fleet.admin_password},
        ),
        "album": lambda c: c.get(f"{fleet.album}/albums"),
        "song": lambda c: c.get(f"{fleet.song}/songs"),
    }


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_outage_gives_clear_503s_and_recovery_needs_no_restart(
    pg_fleet: Fleet, server: PrivatePostgres
) -> None:
    with httpx.Client(timeout=20, trust_env=False) as http:
        for name, call in data_calls(pg_fleet).items():
            assert call(http).status_code in (200, 201), name

        server.stop()
        for name, base in pg_fleet.urls.items():
            live, took = timed(lambda base=base: http.get(f"{base}/health"))
            assert (live.status_code, took < ANSWER_WITHIN_SECONDS) == (200, True), name
            ready, took = timed(lambda base=base: http.get(f"{base}/health/ready"))
            assert ready.status_code == 503, name
            assert ready.json()["detail"].startswith("Database unavailable"), ready.text
            assert took < ANSWER_WITHIN_SECONDS, (name, took)
        for name, call in data_calls(pg_fleet).items():
            response, took = timed(lambda call=call: call(http))
            assert response.status_code == 503, (name, response.status_code, response.text)
            assert response.json() == {"detail": "Database unavailable"}
            assert response.headers.get("retry-after"), name
            assert took < ANSWER_WITHIN_SECONDS, (name, took)

        server.start()
        deadline = time.monotonic() + RECOVER_WITHIN_SECONDS
        waiting = dict(data_calls(pg_fleet))
        while waiting and time.monotonic() < deadline:
            for name, call in list(waiting.items()):
                if call(http).status_code in (200, 201):
                    del waiting[name]
            time.sleep(0.3)
        assert waiting == {}, f"still failing after the server came back: {sorted(waiting)}"
        for name, base in pg_fleet.urls.items():
            assert http.get(f"{base}/health/ready").status_code == 200, name
