from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.passwords import PasswordHasher
from user_service.repos.memory import InMemoryUserRepository

AuthHeader = Callable[..., dict[str, str]]
PUBLIC_FIELDS = {"id", "username", "first_name", "last_name", "created_at"}
PRIVATE_FIELDS = PUBLIC_FIELDS | {"email", "role", "updated_at"}


def sign_up(client: TestClient, name: str = "alice", **extra: Any) -> dict[str, Any]:
    body = {
        "username": name,
        "email": f"{name}@example.com",
        "password": "password123",
        "first_name": name.title(),
        **extra,
    }
    response = client.post("/users", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_sign_up_returns_the_private_profile(client: TestClient) -> None:
    user = sign_up(client, last_name="Liddell")
    assert set(user) == PRIVATE_FIELDS
    assert user["role"] == "user"
    assert user["created_at"].endswith("Z")


def test_sign_up_ignores_privileged_fields(client: TestClient) -> None:
    user = sign_up(
        client, role="admin", id=4242, created_at="2000-01-01T00:00:00Z", password_hash="x"
    )
    assert user["role"] == "user"
    assert user["id"] != 4242
    assert not user["created_at"].startswith("2000")


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"email": "ALICE@example.com"}, "Email already registered"),
        ({"username": "Alice"}, "Username already taken"),
    ],
)
def test_duplicate_sign_up_is_409(client: TestClient, change: dict, detail: str) -> None:
    sign_up(client)
    body = {
        "username": "other",
        "email": "other@example.com",
        "password": "password123",
        "first_name": "O",
        **change,
    }
    response = client.post("/users", json=body)
    assert response.status_code == 409
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab", "email": "a@example.com", "password": "password123", "first_name": "A"},
        {
            "username": "a b c",
            "email": "a@example.com",
            "password": "password123",
            "first_name": "A",
        },
        {"username": "abc", "email": "not-an-email", "password": "password123", "first_name": "A"},
        {"username": "abc", "email": "a@example.com", "password": "Tiny7pw", "first_name": "A"},
        {"username": "abc", "email": "a@example.com", "password": "x" * 129, "first_name": "A"},
        {
            "username": "abc",
            "email": "a@example.com",
            "password": "password123",
            "first_name": "x" * 256,
        },
        {"username": "abc", "email": "a@example.com", "password": "password123"},
    ],
)
def test_invalid_sign_up_is_422_and_never_echoes_the_password(
    client: TestClient, body: dict
) -> None:
    response = client.post("/users", json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert body["password"] not in response.text


def test_long_multibyte_passwords_are_kept_whole(
    client: TestClient, user_repo: InMemoryUserRepository, fast_hasher: PasswordHasher
) -> None:
    password = "ü" * 128  # 256 bytes: far past bcrypt's 72
    user = sign_up(client, password=password)
    stored = user_repo.get(user["id"])
    assert stored is not None
    assert fast_hasher.verify(password, stored.password_hash)
    assert not fast_hasher.verify("ü" * 127 + "x", stored.password_hash)


def test_me_needs_a_token(client: TestClient) -> None:
    response = client.get("/users/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_returns_the_callers_private_profile(
    client: TestClient, auth_header: AuthHeader
) -> None:
    user = sign_up(client)
    response = client.get("/users/me", headers=auth_header(user["id"]))
    assert response.status_code == 200
    assert response.json() == user


def test_profiles_are_private_for_self_and_admin_public_otherwise(
    client: TestClient, auth_header: AuthHeader
) -> None:
    alice, bob = sign_up(client, "alice"), sign_up(client, "bob")
    as_bob = client.get(f"/users/{alice['id']}", headers=auth_header(bob["id"])).json()
    as_self = client.get(f"/users/{alice['id']}", headers=auth_header(alice["id"])).json()
    as_admin = client.get(f"/users/{alice['id']}", headers=auth_header(999, "admin")).json()
    assert set(as_bob) == PUBLIC_FIELDS
    assert set(as_self) == PRIVATE_FIELDS
    assert set(as_admin) == PRIVATE_FIELDS


@pytest.mark.parametrize("user_id", ["0", "-1", str(2**63), "99999999999999999999999", "abc"])
def test_out_of_range_ids_are_422(
    client: TestClient, auth_header: AuthHeader, user_id: str
) -> None:
    assert client.get(f"/users/{user_id}", headers=auth_header()).status_code == 422


def test_missing_user_is_404(client: TestClient, auth_header: AuthHeader) -> None:
    response = client.get("/users/12345", headers=auth_header())
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


def test_list_gives_admins_private_and_users_public_profiles(
    client: TestClient, auth_header: AuthHeader
) -> None:
    alice = sign_up(client)
    as_user = client.get("/users", headers=auth_header(alice["id"])).json()
    as_admin = client.get("/users", headers=auth_header(999, "admin")).json()
    assert [set(u) for u in as_user] == [PUBLIC_FIELDS]
    assert [set(u) for u in as_admin] == [PRIVATE_FIELDS]


def test_list_follows_link_headers_to_the_end(client: TestClient, auth_header: AuthHeader) -> None:
    created = [sign_up(client, f"user{i}")["id"] for i in range(7)]
    seen: list[int] = []
    url: str | None = "/users?limit=3"
    while url:
        response = client.get(url, headers=auth_header())
        assert response.status_code == 200
        seen += [u["id"] for u in response.json()]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
    assert seen == created


@pytest.mark.parametrize("query", ["limit=201", "limit=0", "offset=-1", "cursor=%%%", "cursor=W10"])
def test_bad_paging_is_422(client: TestClient, auth_header: AuthHeader, query: str) -> None:
    assert client.get(f"/users?{query}", headers=auth_header()).status_code == 422


def test_email_lookup_is_admin_only_and_case_insensitive(
    client: TestClient, auth_header: AuthHeader
) -> None:
    alice = sign_up(client)
    path = "/users/email/ALICE@example.com"
    assert client.get(path, headers=auth_header(alice["id"])).status_code == 403
    response = client.get(path, headers=auth_header(999, "admin"))
    assert response.status_code == 200
    assert response.json()["id"] == alice["id"]
    assert (
        client.get("/users/email/nobody@x.io", headers=auth_header(1, "admin")).status_code == 404
    )


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_partial_update_of_own_profile(
    client: TestClient, auth_header: AuthHeader, method: str
) -> None:
    alice = sign_up(client, last_name="Liddell")
    response = client.request(
        method, f"/users/{alice['id']}", json={"first_name": "Al"}, headers=auth_header(alice["id"])
    )
    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["last_name"]) == ("Al", "Liddell")


def test_update_rules_over_http(client: TestClient, auth_header: AuthHeader) -> None:
    alice, bob = sign_up(client, "alice"), sign_up(client, "bob")
    path = f"/users/{alice['id']}"
    mine = auth_header(alice["id"])
    assert (
        client.patch(path, json={"first_name": "X"}, headers=auth_header(bob["id"])).status_code
        == 403
    )
    assert client.patch(path, json={"role": "admin"}, headers=mine).status_code == 403
    assert client.patch(path, json={"password": "new-password"}, headers=mine).status_code == 403
    assert (
        client.patch(
            path, json={"email": "bob@example.com", "current_password": "password123"}, headers=mine
        ).status_code
        == 409
    )
    assert client.patch(path, json={"first_name": None}, headers=mine).status_code == 422
    promoted = client.patch(path, json={"role": "admin"}, headers=auth_header(999, "admin"))
    assert promoted.json()["role"] == "admin"


def test_delete_own_account(client: TestClient, auth_header: AuthHeader) -> None:
    alice = sign_up(client)
    response = client.delete(f"/users/{alice['id']}", headers=auth_header(alice["id"]))
    assert response.status_code == 200
    assert response.json() == {"detail": "User deleted"}
    assert client.get(f"/users/{alice['id']}", headers=auth_header(1, "admin")).status_code == 404


def test_sql_backed_sign_up_and_read(sql_client: TestClient, auth_header: AuthHeader) -> None:
    alice = sign_up(sql_client)
    assert (
        sql_client.post(
            "/users",
            json={
                "username": "alice2",
                "email": "Alice@example.com",
                "password": "password123",
                "first_name": "A",
            },
        ).status_code
        == 409
    )
    response = sql_client.get("/users/me", headers=auth_header(alice["id"]))
    assert response.json() == alice
