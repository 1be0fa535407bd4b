"""HTTP behaviour of auth_service, on the in-memory repositories and on SQLite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from sqlalchemy import delete, select, update

from auth_service.tests.conftest import PASSWORD, add_memory_user, add_sql_user
from common.keys import load_verification_key, public_jwk
from common.passwords import PasswordHasher
from common.settings import Settings
from common.tokens import TokenVerifier
from database import Database
from database.memory import MemoryDatabase
from database.models import User

ClientFactory = Callable[..., TestClient]
LOGIN_FIELDS = {"auth_token", "token_type", "expires_in", "user_id", "role", "refresh_token"}


def login(
    client: TestClient, email: str = "alice@example.com", password: str = PASSWORD
) -> Response:
    return client.post("/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        load_verification_key(settings), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )


@pytest.fixture
def alice(memory_db: MemoryDatabase, fast_hasher: PasswordHasher) -> int:
    return add_memory_user(memory_db, fast_hasher)


def test_login_returns_tokens(client: TestClient, alice: int, settings: Settings) -> None:
    response = login(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == LOGIN_FIELDS
    assert body["token_type"] == "bearer"
    assert (body["user_id"], body["role"]) == (alice, "user")
    assert body["expires_in"] == settings.access_token_expire_minutes * 60
    assert verifier(settings).verify(body["auth_token"]).user_id == alice


def test_unknown_email_and_wrong_password_look_the_same(client: TestClient, alice: int) -> None:
    wrong = login(client, password="wrong password")
    unknown = login(client, email="nobody@example.com")
    invalid = login(client, email="not an address")
    for response in (wrong, unknown, invalid):
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid credentials"}
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a" * 250 + "@x.io", "password": PASSWORD},
        {"email": "alice@example.com", "password": "p" * 129},
        {"email": "alice@example.com"},
        {"email": ["alice@example.com"], "password": PASSWORD},
    ],
)
def test_bad_login_bodies_are_422_without_echoing_the_password(
    client: TestClient, body: dict[str, object]
) -> None:
    response = client.post("/auth/login", json=body)
    assert response.status_code == 422
    assert "p" * 129 not in response.text and PASSWORD not in response.text


def test_password_of_128_multibyte_characters_works(
    client: TestClient, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    password = "ü🎵" * 64
    add_memory_user(memory_db, fast_hasher, password=password)
    assert login(client, password=password).status_code == 200
    assert login(client, password=password[:-1]).status_code == 401


def test_throttled_login_is_429_with_retry_after(make_client: ClientFactory, alice: int) -> None:
    client = make_client(login_free_failures=2, login_base_delay_seconds=120)
    assert [login(client, password="wrong").status_code for _ in range(2)] == [401, 401]
    response = login(client)  # not even the right password, until the wait is over
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many failed attempts; try again later"}
    assert 1 <= int(response.headers["Retry-After"]) <= 120


def test_throttling_by_address_covers_every_account(make_client: ClientFactory, alice: int) -> None:
    client = make_client(login_max_failures_per_address=2, login_base_delay_seconds=60)
    for email in ("a@example.com", "b@example.com"):
        assert login(client, email=email).status_code == 401
    assert login(client).status_code == 429


def test_token_endpoint_takes_the_oauth2_form(
    client: TestClient, alice: int, settings: Settings
) -> None:
    form = {"grant_type": "password", "username": "Alice@example.com", "password": PASSWORD}
    response = client.post("/auth/token", data=form)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert verifier(settings).verify(body["access_token"]).user_id == alice
    # The refresh token it hands out is a real one.
    assert (
        client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"username": "alice@example.com", "password": "wrong"}, 401),
        ({"username": "nobody@example.com", "password": PASSWORD}, 401),
        ({"username": "alice@example.com", "password": "p" * 129}, 422),
        ({"username": "a" * 255, "password": PASSWORD}, 422),
        ({"username": "alice@example.com", "password": PASSWORD, "grant_type": "code"}, 422),
        ({"username": "alice@example.com"}, 422),
    ],
)
def test_token_endpoint_refusals(
    client: TestClient, alice: int, form: dict[str, str], status: int
) -> None:
    response = client.post("/auth/token", data=form)
    assert response.status_code == status
    if status == 401:
        assert response.json() == {"detail": "Invalid credentials"}
    assert "p" * 129 not in response.text


def test_token_endpoint_is_throttled_too(make_client: ClientFactory, alice: int) -> None:
    client = make_client(login_free_failures=1, login_base_delay_seconds=60)
    assert login(client, password="wrong").status_code == 401
    form = {"username": "alice@example.com", "password": PASSWORD}
    assert client.post("/auth/token", data=form).status_code == 429


def test_refresh_rotates_and_reuse_revokes_the_family(
    make_client: ClientFactory, alice: int
) -> None:
    client = make_client(refresh_reuse_grace_seconds=0)  # any second use is a reuse
    first = login(client).json()["refresh_token"]
    response = client.post("/auth/refresh", json={"refresh_token": first})
    assert response.status_code == 200
    assert set(response.json()) == LOGIN_FIELDS
    second = response.json()["refresh_token"]
    reused = client.post("/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    assert reused.headers["WWW-Authenticate"] == "Bearer"
    # The newer token of that chain is dead as well.
    assert client.post("/auth/refresh", json={"refresh_token": second}).status_code == 401


def test_a_quick_second_refresh_is_a_retry(client: TestClient, alice: int) -> None:
    """Within the grace window (10 s by default) the rotated token works once more."""
    first = login(client).json()["refresh_token"]
    second = client.post("/auth/refresh", json={"refresh_token": first})
    retried = client.post("/auth/refresh", json={"refresh_token": first})
    assert (second.status_code, retried.status_code) == (200, 200)
    for body in (second.json(), retried.json()):
        again = client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
        assert again.status_code == 200


def test_logout_all_ends_every_session(client: TestClient, alice: int) -> None:
    phone, laptop = login(client).json(), login(client).json()
    assert client.post("/auth/logout-all").status_code == 401
    response = client.post("/auth/logout-all", headers=bearer(phone["auth_token"]))
    assert response.status_code == 204
    for tokens in (phone, laptop):
        refused = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refused.status_code == 401


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": "x" * 257}])
def test_malformed_refresh_is_422(client: TestClient, body: dict[str, str]) -> None:
    assert client.post("/auth/refresh", json=body).status_code == 422


def test_unknown_refresh_token_is_401(client: TestClient) -> None:
    response = client.post("/auth/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid refresh token"}


def test_logout_kills_the_refresh_token(client: TestClient, alice: int) -> None:
    tokens = login(client).json()
    body = {"refresh_token": tokens["refresh_token"]}
    response = client.post("/auth/logout", json=body, headers=bearer(tokens["auth_token"]))
    assert response.status_code == 204
    assert response.content == b""
    assert client.post("/auth/refresh", json=body).status_code == 401


def test_logout_needs_an_access_token(client: TestClient) -> None:
    response = client.post("/auth/logout", json={"refresh_token": "x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_logout_with_someone_elses_token_changes_nothing(
    client: TestClient, alice: int, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    add_memory_user(memory_db, fast_hasher, "bob")
    bobs = login(client, email="bob@example.com").json()["refresh_token"]
    alices_access = login(client).json()["auth_token"]
    response = client.post(
        "/auth/logout", json={"refresh_token": bobs}, headers=bearer(alices_access)
    )
    assert response.status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": bobs}).status_code == 200


def test_verify_describes_the_token(client: TestClient, alice: int) -> None:
    access = login(client).json()["auth_token"]
    response = client.get("/auth/verify", headers=bearer(access))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"valid", "user_id", "role", "exp"}
    assert (body["valid"], body["user_id"], body["role"]) == (True, alice, "user")
    assert client.get("/auth/verify").status_code == 401
    assert client.get("/auth/verify", headers=bearer(access + "x")).status_code == 401


def test_jwks_publishes_the_signing_key(client: TestClient, alice: int, settings: Settings) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key == public_jwk(settings.public_key_path.read_bytes())
    access = login(client).json()["auth_token"]
    assert verifier(settings).verify(access).user_id == alice


def test_hs256_deployment(make_client: ClientFactory, alice: int, settings: Settings) -> None:
    overrides = {"jwt_algorithm": "HS256", "jwt_secret_key": SecretStr("k" * 32)}
    client = make_client(**overrides)
    assert client.get("/.well-known/jwks.json").json() == {"keys": []}
    access = login(client).json()["auth_token"]
    assert verifier(settings.model_copy(update=overrides)).verify(access).user_id == alice
    assert client.get("/auth/verify", headers=bearer(access)).status_code == 200


def test_startup_creates_the_key_pair_when_missing(
    make_client: ClientFactory, alice: int, tmp_path: Path
) -> None:
    private, public = tmp_path / "new" / "private.pem", tmp_path / "new" / "public.pem"
    client = make_client(jwt_private_key_file=private, jwt_public_key_file=public)
    assert private.exists() and public.exists()
    (key,) = client.get("/.well-known/jwks.json").json()["keys"]
    assert key == public_jwk(public.read_bytes())
    # The app's own verifier reads the new public key, so its tokens work at /verify.
    access = login(client).json()["auth_token"]
    assert client.get("/auth/verify", headers=bearer(access)).status_code == 200


# The same flows on a migrated SQLite file, through the SQL repositories.


@pytest.fixture
def sql_alice(database: Database, fast_hasher: PasswordHasher) -> int:
    return add_sql_user(database, fast_hasher)


def test_sql_login_refresh_logout_flow(sql_client: TestClient, sql_alice: int) -> None:
    tokens = login(sql_client).json()
    assert tokens["user_id"] == sql_alice
    refreshed = sql_client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    newest = refreshed.json()
    logout = sql_client.post(
        "/auth/logout",
        json={"refresh_token": newest["refresh_token"]},
        headers=bearer(newest["auth_token"]),
    )
    assert logout.status_code == 204
    gone = sql_client.post("/auth/refresh", json={"refresh_token": newest["refresh_token"]})
    assert gone.status_code == 401


def test_sql_reuse_revokes_the_family(make_client: ClientFactory, sql_alice: int) -> None:
    sql_client = make_client(sql=True, refresh_reuse_grace_seconds=0)
    first = login(sql_client).json()["refresh_token"]
    second = sql_client.post("/auth/refresh", json={"refresh_token": first}).json()["refresh_token"]
    assert sql_client.post("/auth/refresh", json={"refresh_token": first}).status_code == 401
    assert sql_client.post("/auth/refresh", json={"refresh_token": second}).status_code == 401


def test_sql_throttling_is_shared_across_app_instances(
    make_client: ClientFactory, sql_alice: int
) -> None:
    """Two processes on one database see the same failure count."""
    first = make_client(sql=True, login_free_failures=2, login_base_delay_seconds=60)
    second = make_client(sql=True, login_free_failures=2, login_base_delay_seconds=60)
    assert login(first, password="wrong").status_code == 401
    assert login(second, password="wrong").status_code == 401
    assert login(first).status_code == 429
    assert "Retry-After" in login(second).headers


def test_sql_refresh_applies_a_role_change(
    sql_client: TestClient, sql_alice: int, database: Database, settings: Settings
) -> None:
    tokens = login(sql_client).json()
    with database.connect(write=True) as connection:
        connection.execute(update(User).where(User.id == sql_alice).values(role="admin"))
        connection.commit()
    refreshed = sql_client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.json()["role"] == "admin"
    assert verifier(settings).verify(refreshed.json()["auth_token"]).role == "admin"


def test_sql_refresh_after_a_credential_change_is_refused(
    sql_client: TestClient, sql_alice: int, database: Database
) -> None:
    tokens = login(sql_client).json()
    with database.connect(write=True) as connection:
        connection.execute(
            update(User)
            .where(User.id == sql_alice)
            .values(session_version=User.session_version + 1)
        )
        connection.commit()
    response = sql_client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401
    assert login(sql_client).status_code == 200  # logging in again starts a new session


def test_sql_deleted_users_refresh_token_is_refused(
    sql_client: TestClient, sql_alice: int, database: Database
) -> None:
    tokens = login(sql_client).json()
    with database.connect(write=True) as connection:
        connection.execute(delete(User).where(User.id == sql_alice))
        connection.commit()
    response = sql_client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401


def test_no_response_carries_a_password_or_hash(
    sql_client: TestClient, sql_alice: int, database: Database
) -> None:
    tokens = login(sql_client).json()
    with database.connect() as connection:
        stored_hash = connection.scalar(select(User.password_hash).where(User.id == sql_alice))
    assert stored_hash
    responses = [
        login(sql_client),
        login(sql_client, password="wrong"),
        login(sql_client, password="p" * 129),
        sql_client.post(
            "/auth/token", data={"username": "alice@example.com", "password": PASSWORD}
        ),
        sql_client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        sql_client.get("/auth/verify", headers=bearer(tokens["auth_token"])),
        sql_client.get("/.well-known/jwks.json"),
        sql_client.get("/openapi.json"),
    ]
    for response in responses:
        assert PASSWORD not in response.text
        assert stored_hash not in response.text and "$bcrypt" not in response.text
        if response.status_code == 200 and "paths" not in response.json():
            assert "password" not in response.text
