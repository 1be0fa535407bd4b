"""The behaviour every service inherits from the shared app factory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

from common.app import create_service_app
from common.auth import AdminUser, CurrentUser
from common.settings import Settings
from database import Database
from database.unit_of_work import RerunUnit

router = APIRouter()


class Echo(BaseModel):
    text: str
    password: str | None = None


@router.post("/echo")
def echo(body: Echo) -> dict[str, str]:
    return {"text": body.text}


@router.get("/whoami")
async def whoami(caller: CurrentUser) -> dict[str, int]:
    return {"user_id": caller.user_id}


@router.get("/admin-only")
async def admin_only(_: AdminUser) -> dict[str, bool]:
    return {"ok": True}


@router.get("/boom")
def boom() -> None:
    raise RuntimeError("secret internals")


class _DriverError(Exception):
    def __init__(self, *args: object, sqlstate: str | None = None) -> None:
        super().__init__(*args)
        self.sqlstate = sqlstate


@router.get("/deadlock/{kind}")
def deadlock(kind: str) -> None:
    if kind == "overtaken":  # a unit whose reads were overtaken on every re-run
        raise RerunUnit
    original = (
        _DriverError(1213, "Deadlock found")
        if kind == "mysql"
        else _DriverError("deadlock detected", sqlstate="40P01")
    )
    raise OperationalError("UPDATE ...", {}, original)


@router.get("/bad-value")
def bad_value() -> None:
    raise DataError("INSERT ...", {}, _DriverError("A string literal cannot contain NUL"))


@router.get("/bad-value-asyncpg")
def bad_value_asyncpg() -> None:
    # SQLAlchemy's asyncpg adapter raises a plain DBAPIError carrying the SQLSTATE.
    raise DBAPIError("SELECT ...", {}, _DriverError("invalid byte sequence", sqlstate="22021"))


@router.get("/db-down")
def db_down() -> None:
    raise OperationalError("SELECT 1", {}, _DriverError("connection refused"))


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    app = create_service_app(
        name="test_service",
        title="t",
        description="d",
        settings=settings,
        routers=[router],
        database=database,
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "service": "test_service"}
    assert client.get("/health/ready").status_code == 200


def test_readiness_is_503_with_a_clear_detail_when_the_database_is_gone(
    settings: Settings, tmp_path
) -> None:
    # Nothing listens on port 1: the server is "down".
    missing = Database("postgresql+psycopg://u:p@127.0.0.1:1/db", connect_timeout=1)
    app = create_service_app(
        name="t",
        title="t",
        description="d",
        settings=settings,
        routers=[],
        database=missing,
    )
    with TestClient(app) as client:
        response = client.get("/health/ready")
        assert client.get("/health").status_code == 200
    assert response.status_code == 503
    assert response.json()["detail"].startswith("Database unavailable")


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = client.get("/health", headers={"X-Request-ID": "bad id\n"}).headers["X-Request-ID"]
    assert len(generated) == 32


def test_security_headers_and_no_server_banner(client: TestClient) -> None:
    headers = client.get("/health").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "server" not in headers


def test_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    response = client.post("/echo", json={"text": "x" * (1024 * 1024)})
    assert response.status_code == 413
    assert "detail" in response.json()


def test_streamed_body_over_the_cap_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = client.post("/echo", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_malformed_json_is_422_not_500(client: TestClient) -> None:
    response = client.post(
        "/echo", content=b'{"text": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_validation_errors_never_echo_passwords(client: TestClient) -> None:
    response = client.post("/echo", json={"password": "hunter2-secret"})  # text missing
    assert response.status_code == 422
    assert "hunter2-secret" not in response.text


def test_unexpected_errors_are_a_bare_500(client: TestClient) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert "secret internals" not in response.text


def test_protected_routes_need_a_valid_token(client: TestClient, make_token) -> None:
    assert client.get("/whoami").status_code == 401
    wrong_scheme = client.get("/whoami", headers={"Authorization": f"Basic {make_token()}"})
    assert wrong_scheme.status_code == 401
    assert wrong_scheme.headers["WWW-Authenticate"] == "Bearer"
    ok = client.get("/whoami", headers={"Authorization": f"Bearer {make_token(42)}"})
    assert ok.json() == {"user_id": 42}


def test_admin_routes_are_403_for_users(client: TestClient, make_token) -> None:
    user = {"Authorization": f"Bearer {make_token(1, 'user')}"}
    admin = {"Authorization": f"Bearer {make_token(1, 'admin')}"}
    assert client.get("/admin-only", headers=user).status_code == 403
    assert client.get("/admin-only", headers=admin).status_code == 200


def test_cors_allows_only_configured_origins(client: TestClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    allowed = client.options("/echo", headers={"Origin": "http://frontend.test", **preflight})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://frontend.test"
    refused = client.options("/echo", headers={"Origin": "http://evil.test", **preflight})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_swagger_authorize_points_at_auth_service(client: TestClient, settings: Settings) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert (
        schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == settings.auth_token_url
    )


@pytest.mark.parametrize("kind", ["mysql", "postgresql", "overtaken"])
def test_a_deadlock_victim_is_asked_to_retry(client: TestClient, kind: str) -> None:
    response = client.get(f"/deadlock/{kind}")
    assert response.status_code == 503
    assert response.json() == {"detail": "Database busy; retry the request"}
    assert response.headers["Retry-After"] == "1"


def test_a_lost_database_is_503_unavailable(client: TestClient) -> None:
    response = client.get("/db-down")
    assert (response.status_code, response.json()) == (503, {"detail": "Database unavailable"})


@pytest.mark.parametrize("path", ["/bad-value", "/bad-value-asyncpg"])
def test_a_value_the_database_refuses_is_422_not_500(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "A value was not accepted"


@pytest.mark.parametrize(
    ("environment", "threads", "pool_size", "event_loop_pool_size"),
    [
        ({}, 2, 3, None),
        ({"DATABASE_URL": "postgresql+psycopg://u@h/db"}, 8, 10, None),
        ({"DATABASE_URL": "postgresql+psycopg://u@h/db", "DB_EVENT_LOOP": "false"}, 16, 18, None),
        ({"DATABASE_URL": "mysql+pymysql://u@h/db"}, 16, 18, None),
        ({"DATABASE_URL": "postgresql+psycopg://u@h/db", "DB_POOL_SIZE": "6"}, 8, 6, 6),
        ({"THREADPOOL_SIZE": "5"}, 5, 6, None),
    ],
)
def test_threads_and_pools_are_sized_for_the_database(
    environment: dict[str, str],
    threads: int,
    pool_size: int,
    event_loop_pool_size: int | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A connection for every thread that may hold one, and no more threads than
    the database's work can use (common.db.Capacity)."""
    from common.db import Capacity

    for name in ("DATABASE_URL", "DB_EVENT_LOOP", "DB_POOL_SIZE", "THREADPOOL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    capacity = Capacity.of(Settings(_env_file=None))
    assert (capacity.threads, capacity.pool_size, capacity.event_loop_pool_size) == (
        threads,
        pool_size,
        event_loop_pool_size,
    )
