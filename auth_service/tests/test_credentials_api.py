"""Third-party credentials over HTTP (API.md, Third-party credentials): API keys,
the app password, and their exchange at POST /auth/subsonic/token."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from sqlalchemy import select

from auth_service.services import third_party
from auth_service.tests.conftest import PASSWORD, add_memory_user, add_sql_user
from auth_service.tests.test_auth_api import bearer, login, verifier
from common.passwords import PasswordHasher
from common.settings import Settings
from common.tokens import SUBSONIC_SCOPE
from database import Database
from database.memory import MemoryDatabase
from database.tables import api_keys, app_passwords, metadata

ClientFactory = Callable[..., TestClient]
KEY_FIELDS = {"id", "name", "hint", "created_at", "last_used_at"}
EXCHANGE_FIELDS = {"access_token", "expires_in", "user_id", "username", "role"}
APP_PASSWORD = re.compile(r"^[a-z2-7]{5}(-[a-z2-7]{5}){3}$")
SECRET_NAMES = re.compile(r"hmac|cipher", re.IGNORECASE)


def token_of(client: TestClient, name: str = "alice") -> dict[str, str]:
    response = login(client, email=f"{name}@example.com")
    assert response.status_code == 200, response.text
    return bearer(response.json()["auth_token"])


def exchange(client: TestClient, **body: str) -> Response:
    return client.post("/auth/subsonic/token", json=body)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the Subsonic protocol's


def new_key(client: TestClient, headers: dict[str, str], name: str = "phone") -> dict[str, Any]:
    response = client.post("/auth/api-keys", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def new_app_password(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/auth/app-password", headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["password"]


def no_stored_secrets(response: Response) -> None:
    """No field named after a key's HMAC or a ciphertext, anywhere in the body."""

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                assert not SECRET_NAMES.search(name), name
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    if response.content:
        walk(response.json())


@pytest.fixture
def alice(memory_db: MemoryDatabase, fast_hasher: PasswordHasher) -> int:
    return add_memory_user(memory_db, fast_hasher)


@pytest.fixture
def bob(memory_db: MemoryDatabase, fast_hasher: PasswordHasher) -> int:
    return add_memory_user(memory_db, fast_hasher, "bob")


# API keys


def test_a_key_is_shown_once_and_exchanged(
    client: TestClient, alice: int, settings: Settings
) -> None:
    headers = token_of(client)
    created = new_key(client, headers, "Feishin on my laptop")
    assert set(created) == KEY_FIELDS | {"key"}
    key = created["key"]
    assert key.startswith("mpk_") and len(key) == 47
    assert created["hint"] == key[:8]
    assert (created["name"], created["last_used_at"]) == ("Feishin on my laptop", None)

    listed = client.get("/auth/api-keys", headers=headers)
    assert listed.status_code == 200
    assert [set(item) for item in listed.json()] == [KEY_FIELDS]
    assert key not in listed.text

    response = exchange(client, api_key=key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == EXCHANGE_FIELDS
    assert (body["user_id"], body["username"], body["role"]) == (alice, "alice", "user")
    assert body["expires_in"] == settings.access_token_expire_minutes * 60
    principal = verifier(settings).verify(body["access_token"])
    assert (principal.user_id, principal.scope) == (alice, SUBSONIC_SCOPE)
    # Scoped to Subsonic apps: it cannot manage credentials (a key must not mint
    # its own replacement); the owner's own token sees the key used.
    refused = client.get("/auth/api-keys", headers=bearer(body["access_token"]))
    assert refused.status_code == 403
    again = client.get("/auth/api-keys", headers=headers)
    assert again.json()[0]["last_used_at"] is not None


def test_a_revoked_key_is_refused_at_once(client: TestClient, alice: int) -> None:
    headers = token_of(client)
    created = new_key(client, headers)
    assert exchange(client, api_key=created["key"]).status_code == 200
    deleted = client.delete(f"/auth/api-keys/{created['id']}", headers=headers)
    assert deleted.status_code == 204
    refused = exchange(client, api_key=created["key"])
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid credentials"}
    assert client.get("/auth/api-keys", headers=headers).json() == []
    again = client.delete(f"/auth/api-keys/{created['id']}", headers=headers)
    assert again.status_code == 404


def test_another_users_key_is_not_found(
    client: TestClient, alice: int, bob: int, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    add_memory_user(memory_db, fast_hasher, "root", role="admin")
    created = new_key(client, token_of(client))
    for name in ("bob", "root"):  # an admin may not touch others' keys either
        response = client.delete(f"/auth/api-keys/{created['id']}", headers=token_of(client, name))
        assert response.status_code == 404
        assert response.json() == {"detail": "API key not found"}
        assert client.get("/auth/api-keys", headers=token_of(client, name)).json() == []
    assert exchange(client, api_key=created["key"]).status_code == 200


@pytest.mark.parametrize("key_id", ["0", "-1", str(2**63), "x"])
def test_bad_key_ids_are_404_or_422(client: TestClient, alice: int, key_id: str) -> None:
    response = client.delete(f"/auth/api-keys/{key_id}", headers=token_of(client))
    assert response.status_code in (404, 422)


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "n" * 101}])
def test_a_key_needs_a_name(client: TestClient, alice: int, body: dict[str, str]) -> None:
    assert client.post("/auth/api-keys", json=body, headers=token_of(client)).status_code == 422


def test_keys_are_capped_per_user(
    client: TestClient, alice: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(third_party, "MAX_API_KEYS", 2)
    headers = token_of(client)
    new_key(client, headers, "one")
    new_key(client, headers, "two")
    response = client.post("/auth/api-keys", json={"name": "three"}, headers=headers)
    assert response.status_code == 409


def test_credentials_need_a_token(client: TestClient) -> None:
    for method, path in [
        ("GET", "/auth/api-keys"),
        ("POST", "/auth/api-keys"),
        ("DELETE", "/auth/api-keys/1"),
        ("GET", "/auth/app-password"),
        ("POST", "/auth/app-password"),
        ("DELETE", "/auth/app-password"),
    ]:
        response = client.request(method, path, json={"name": "x"})
        assert response.status_code == 401, (method, path)


def test_a_deleted_account_makes_no_credentials(
    client: TestClient, alice: int, memory_db: MemoryDatabase
) -> None:
    headers = token_of(client)
    memory_db.delete_user(alice)
    assert client.post("/auth/api-keys", json={"name": "x"}, headers=headers).status_code == 401
    assert client.post("/auth/app-password", headers=headers).status_code == 401


# App passwords


def test_app_password_is_random_and_not_the_login_password(client: TestClient, alice: int) -> None:
    headers = token_of(client)
    assert client.get("/auth/app-password", headers=headers).status_code == 404
    response = client.post("/auth/app-password", headers=headers)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"username", "password", "created_at"}
    assert body["username"] == "alice"
    assert APP_PASSWORD.match(body["password"]) and body["password"] != PASSWORD

    shown = client.get("/auth/app-password", headers=headers)
    assert shown.status_code == 200
    assert set(shown.json()) == {"username", "created_at"}
    assert body["password"] not in shown.text

    assert exchange(client, username="alice", password=body["password"]).status_code == 200
    # The login password is not an app password.
    assert exchange(client, username="alice", password=PASSWORD).status_code == 401


def test_regenerating_replaces_the_old_password(client: TestClient, alice: int) -> None:
    headers = token_of(client)
    old = new_app_password(client, headers)
    new = new_app_password(client, headers)
    assert old != new
    assert exchange(client, username="alice", password=old).status_code == 401
    assert exchange(client, username="alice", password=new).status_code == 200


def test_deleting_the_app_password(client: TestClient, alice: int) -> None:
    headers = token_of(client)
    password = new_app_password(client, headers)
    assert client.delete("/auth/app-password", headers=headers).status_code == 204
    assert client.get("/auth/app-password", headers=headers).status_code == 404
    assert exchange(client, username="alice", password=password).status_code == 401
    assert client.delete("/auth/app-password", headers=headers).status_code == 204  # idempotent


def test_token_scheme(client: TestClient, alice: int) -> None:
    password = new_app_password(client, token_of(client))
    salt = "c19b2d"
    good = exchange(client, username="alice", token=md5(password + salt), salt=salt)
    assert good.status_code == 200, good.text
    assert good.json()["username"] == "alice"
    upper = exchange(client, username="alice", token=md5(password + salt).upper(), salt=salt)
    assert upper.status_code == 200
    for token, salt_sent in [
        (md5(password + "other"), salt),  # another salt's token
        (md5(password + salt), "other"),
        (md5(PASSWORD + salt), salt),  # the login password's token
        ("0" * 32, salt),
        ("é" * 32, salt),  # non-ASCII must fail, not crash
    ]:
        response = exchange(client, username="alice", token=token, salt=salt_sent)
        assert response.status_code == 401, token


def test_usernames_compare_in_any_case(client: TestClient, alice: int) -> None:
    password = new_app_password(client, token_of(client))
    response = exchange(client, username="ALICE", password=password)
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_enc_hex_is_not_decoded_here(client: TestClient, alice: int) -> None:
    """subsonic_service decodes `p=enc:<hex>`; the exchange takes the plain password."""
    password = new_app_password(client, token_of(client))
    encoded = "enc:" + password.encode().hex()
    assert exchange(client, username="alice", password=encoded).status_code == 401
    assert exchange(client, username="alice", password=password).status_code == 200


def test_unknown_user_and_no_app_password_look_like_a_wrong_password(
    client: TestClient, alice: int, bob: int
) -> None:
    new_app_password(client, token_of(client))
    for body in (
        {"username": "alice", "password": "wrong-wrong-wrong-wrong"},
        {"username": "nobody", "password": "wrong-wrong-wrong-wrong"},
        {"username": "bob", "password": PASSWORD},  # bob has no app password
        {"username": "bob", "token": md5(PASSWORD + "salt12"), "salt": "salt12"},
        {"api_key": "mpk_" + "x" * 43},
    ):
        response = exchange(client, **body)
        assert response.status_code == 401, body
        assert response.json() == {"detail": "Invalid credentials"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "alice"},
        {"password": "x"},
        {"api_key": "mpk_x", "username": "alice"},
        {"api_key": "mpk_x", "username": "alice", "password": "x"},
        {"username": "alice", "password": "x", "token": "t", "salt": "s"},
        {"username": "alice", "token": "t"},
        {"username": "alice", "salt": "s"},
        {"token": "t", "salt": "s"},
        {"api_key": ""},
        {"api_key": "k" * 257},
        {"username": "alice", "password": "p" * 129},
        {"api_key": ["mpk_x"]},
    ],
)
def test_exactly_one_scheme_or_422(client: TestClient, body: dict[str, object]) -> None:
    response = exchange(client, **body)  # type: ignore[arg-type]
    assert response.status_code == 422, body
    assert "p" * 129 not in response.text


# Throttling


def test_throttled_per_address_and_username(
    make_client: ClientFactory, alice: int, bob: int
) -> None:
    client = make_client(login_free_failures=2, login_base_delay_seconds=120)
    password = new_app_password(client, token_of(client))
    new_app_password(client, token_of(client, "bob"))
    for _ in range(2):
        assert exchange(client, username="Alice", password="nope").status_code == 401
    throttled = exchange(client, username="alice", password=password)  # even the right one
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 120
    token_scheme = exchange(client, username="ALICE", token=md5(password + "abcdef"), salt="abcdef")
    assert token_scheme.status_code == 429
    # Another username from the same address is not held up...
    assert exchange(client, username="bob", password="nope").status_code == 401
    # ...and Subsonic failures are counted apart from alice's email logins.
    assert login(client).status_code == 200


def test_api_key_failures_are_throttled_but_a_valid_key_passes(
    make_client: ClientFactory, alice: int
) -> None:
    client = make_client(login_free_failures=2, login_base_delay_seconds=120)
    created = new_key(client, token_of(client))
    wrong = "mpk_" + "w" * 43
    assert [exchange(client, api_key=wrong).status_code for _ in range(2)] == [401, 401]
    throttled = exchange(client, api_key=wrong)
    assert throttled.status_code == 429
    assert "Retry-After" in throttled.headers
    # A key cannot be guessed; its holder is not locked out by others' failures.
    assert exchange(client, api_key=created["key"]).status_code == 200
    # The username schemes of the same address are a pair of their own.
    assert exchange(client, username="alice", password="nope").status_code == 401


# What is stored (SQL)


def all_rows(database: Database) -> str:
    """Every row of every table, as one string."""
    with database.connect() as connection:
        rows = [
            row
            for table in metadata.sorted_tables
            for row in connection.execute(select(table)).all()
        ]
    return json.dumps([list(row) for row in rows], default=str)


def test_only_an_hmac_of_the_key_is_stored(
    sql_client: TestClient, database: Database, fast_hasher: PasswordHasher
) -> None:
    add_sql_user(database, fast_hasher)
    headers = token_of(sql_client)
    created = new_key(sql_client, headers)
    key = created["key"]
    with database.connect() as connection:
        (stored,) = connection.execute(select(api_keys.c.key_hmac, api_keys.c.hint)).all()
    assert stored.key_hmac != key and len(stored.key_hmac) == 64
    assert stored.hint == key[:8]
    assert key not in all_rows(database)
    assert key[8:] not in all_rows(database)
    listed = sql_client.get("/auth/api-keys", headers=headers)
    for response in (listed, exchange(sql_client, api_key=key)):
        assert response.status_code == 200
        assert stored.key_hmac not in response.text
        no_stored_secrets(response)
    assert exchange(sql_client, api_key=stored.key_hmac).status_code == 401


def test_the_app_password_is_stored_encrypted(
    sql_client: TestClient, database: Database, fast_hasher: PasswordHasher
) -> None:
    add_sql_user(database, fast_hasher)
    headers = token_of(sql_client)
    response = sql_client.post("/auth/app-password", headers=headers)
    password = response.json()["password"]
    with database.connect() as connection:
        (row,) = connection.execute(select(app_passwords)).all()
    assert password not in row.ciphertext
    assert password not in all_rows(database)
    assert password.replace("-", "") not in all_rows(database)
    for answer in (
        response,
        sql_client.get("/auth/app-password", headers=headers),
        exchange(sql_client, username="alice", password=password),
    ):
        assert answer.status_code in (200, 201)
        assert row.ciphertext not in answer.text
        no_stored_secrets(answer)
    assert exchange(sql_client, username="alice", password=row.ciphertext).status_code == 401


def test_sql_exchange_and_revocation(
    sql_client: TestClient, database: Database, fast_hasher: PasswordHasher
) -> None:
    alice = add_sql_user(database, fast_hasher)
    headers = token_of(sql_client)
    created = new_key(sql_client, headers)
    assert exchange(sql_client, api_key=created["key"]).json()["user_id"] == alice
    with database.connect() as connection:
        assert connection.execute(select(api_keys.c.last_used_at)).scalar_one() is not None
    sql_client.delete(f"/auth/api-keys/{created['id']}", headers=headers)
    assert exchange(sql_client, api_key=created["key"]).status_code == 401
    salt = "s4lt99"
    password = new_app_password(sql_client, headers)
    token = md5(password + salt)
    assert exchange(sql_client, username="alice", token=token, salt=salt).status_code == 200


# The secret


def test_keys_from_the_secret_survive_a_restart(
    make_client: ClientFactory, alice: int, settings: Settings
) -> None:
    secret = SecretStr("s" * 32)  # model_copy does not validate: the type it would make
    first = make_client(credentials_secret=secret)
    key = new_key(first, token_of(first))["key"]
    password = new_app_password(first, token_of(first))
    again = make_client(credentials_secret=secret)
    assert exchange(again, api_key=key).status_code == 200
    assert exchange(again, username="alice", password=password).status_code == 200
    # Another secret: every key and app password stops working (a rotation).
    other = make_client(credentials_secret=SecretStr("t" * 32))
    assert exchange(other, api_key=key).status_code == 401
    assert exchange(other, username="alice", password=password).status_code == 401


def test_without_a_secret_a_key_file_is_made_once(
    make_client: ClientFactory, alice: int, settings: Settings
) -> None:
    client = make_client()
    path = settings.credentials_key_file
    assert path is not None and path.exists()
    assert path.stat().st_mode & 0o077 == 0
    key = new_key(client, token_of(client))["key"]
    content = path.read_bytes()
    again = make_client()
    assert path.read_bytes() == content
    assert exchange(again, api_key=key).status_code == 200
