"""The account and token flow over real HTTP, across the four running services,
as API.md describes it (and the README's choices where API.md is silent)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e

PUBLIC_FIELDS = {"id", "username", "first_name", "last_name", "created_at"}
PRIVATE_FIELDS = PUBLIC_FIELDS | {"email", "role", "updated_at"}
LOGIN_FIELDS = {"auth_token", "token_type", "expires_in", "user_id", "role", "refresh_token"}


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    password: str


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str
    body: dict[str, Any]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # bcrypt at production cost makes sign-up and login take a moment each;
    # trust_env=False so a proxy configured in the environment is not used for 127.0.0.1.
    with httpx.Client(timeout=20, trust_env=False) as client:
        yield client


def expect(response: httpx.Response, status: int) -> httpx.Response:
    """Assert the status (showing the body when it differs) and the request id every
    response carries, errors included."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}, "
        f"wanted {status}: {response.text}"
    )
    assert response.headers.get("x-request-id"), "response without X-Request-ID"
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_bearer_challenge(response: httpx.Response) -> None:
    expect(response, 401)
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert isinstance(response.json()["detail"], str)


def sign_up(http: httpx.Client, fleet: Fleet, stem: str) -> Account:
    unique = uuid.uuid4().hex[:10]
    # Mixed case on purpose: both are stored lower-cased (README, "choices").
    username, email, password = f"{stem}_{unique}", f"{stem}.{unique}@Example.com", "pw-" + unique
    response = expect(
        http.post(
            f"{fleet.user}/users",
            json={
                "username": username,
                "email": email,
                "password": password,
                "first_name": stem,
                "last_name": "Tester",
                "role": "admin",  # must be ignored: sign-up always makes a user
            },
        ),
        201,
    )
    body = response.json()
    assert set(body) == PRIVATE_FIELDS
    assert body["username"] == username.lower()
    assert body["email"] == email.lower()
    assert body["role"] == "user"
    return Account(body["id"], body["username"], body["email"], password)


def log_in(http: httpx.Client, fleet: Fleet, email: str, password: str) -> Tokens:
    body = expect(
        http.post(f"{fleet.auth}/auth/login", json={"email": email, "password": password}), 200
    ).json()
    assert set(body) >= LOGIN_FIELDS
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] > 0
    return Tokens(body["auth_token"], body["refresh_token"], body)


def refresh(http: httpx.Client, fleet: Fleet, refresh_token: str) -> httpx.Response:
    return http.post(f"{fleet.auth}/auth/refresh", json={"refresh_token": refresh_token})


def test_sign_up_log_in_and_read_own_profile(http: httpx.Client, fleet: Fleet) -> None:
    account = sign_up(http, fleet, "Alice")

    # Emails compare case-insensitively: any spelling of the address logs in.
    tokens = log_in(http, fleet, account.email.upper(), account.password)
    assert tokens.body["user_id"] == account.id
    assert tokens.body["role"] == "user"

    me = expect(http.get(f"{fleet.user}/users/me", headers=bearer(tokens.access)), 200).json()
    assert set(me) == PRIVATE_FIELDS
    assert (me["id"], me["email"], me["username"]) == (account.id, account.email, account.username)


def test_refresh_rotates_and_a_reused_token_revokes_the_chain(
    http: httpx.Client, fleet: Fleet
) -> None:
    account = sign_up(http, fleet, "Rita")
    first = log_in(http, fleet, account.email, account.password)

    rotated = expect(refresh(http, fleet, first.refresh), 200).json()
    assert set(rotated) >= LOGIN_FIELDS
    assert rotated["user_id"] == account.id
    assert rotated["refresh_token"] != first.refresh
    expect(http.get(f"{fleet.user}/users/me", headers=bearer(rotated["auth_token"])), 200)

    # Once the reuse grace window is over (API.md, Sessions), the old refresh token
    # no longer works, and presenting it again kills the chain.
    time.sleep(fleet.refresh_reuse_grace_seconds + 0.5)
    expect(refresh(http, fleet, first.refresh), 401)
    expect(refresh(http, fleet, rotated["refresh_token"]), 401)


def test_logout_kills_that_refresh_token(http: httpx.Client, fleet: Fleet) -> None:
    account = sign_up(http, fleet, "Lou")
    tokens = log_in(http, fleet, account.email, account.password)

    assert_bearer_challenge(
        http.post(f"{fleet.auth}/auth/logout", json={"refresh_token": tokens.refresh})
    )
    expect(
        http.post(
            f"{fleet.auth}/auth/logout",
            json={"refresh_token": tokens.refresh},
            headers=bearer(tokens.access),
        ),
        204,
    )
    expect(refresh(http, fleet, tokens.refresh), 401)
    # Access tokens are verified locally, so one already issued lives out its
    # 15 minutes (README, "choices"); only the refresh token is dead.
    expect(http.get(f"{fleet.user}/users/me", headers=bearer(tokens.access)), 200)


def test_missing_or_invalid_tokens_get_401_with_a_bearer_challenge(
    http: httpx.Client, fleet: Fleet
) -> None:
    me = f"{fleet.user}/users/me"
    assert_bearer_challenge(http.get(me))
    assert_bearer_challenge(http.get(me, headers=bearer("not-a-jwt")))
    # A well-formed token signed with a key the fleet does not hold.
    forged = jwt.encode(
        {"sub": "1", "role": "admin", "type": "access"}, "x" * 32, algorithm="HS256"
    )
    assert_bearer_challenge(http.get(me, headers=bearer(forged)))
    assert_bearer_challenge(http.get(f"{fleet.auth}/auth/verify"))
    expect(
        http.post(
            f"{fleet.auth}/auth/login", json={"email": "nobody@example.com", "password": "x" * 8}
        ),
        401,
    )


def test_users_see_only_public_profiles_of_others_and_cannot_change_them(
    http: httpx.Client, fleet: Fleet
) -> None:
    alice = sign_up(http, fleet, "Ann")
    bob = sign_up(http, fleet, "Bob")
    as_alice = bearer(log_in(http, fleet, alice.email, alice.password).access)

    own = expect(http.get(f"{fleet.user}/users/{alice.id}", headers=as_alice), 200).json()
    assert set(own) == PRIVATE_FIELDS
    other = expect(http.get(f"{fleet.user}/users/{bob.id}", headers=as_alice), 200).json()
    assert set(other) == PUBLIC_FIELDS

    expect(
        http.patch(
            f"{fleet.user}/users/{bob.id}", json={"first_name": "Mallory"}, headers=as_alice
        ),
        403,
    )
    unchanged = expect(http.get(f"{fleet.user}/users/{bob.id}", headers=as_alice), 200).json()
    assert unchanged["first_name"] == "Bob"
    expect(http.get(f"{fleet.user}/users/email/{bob.email}", headers=as_alice), 403)


def test_admin_from_the_environment_reads_users_by_email(http: httpx.Client, fleet: Fleet) -> None:
    account = sign_up(http, fleet, "Carl")
    admin = log_in(http, fleet, fleet.admin_email, fleet.admin_password)
    assert admin.body["role"] == "admin"
    as_admin = bearer(admin.access)

    found = expect(
        http.get(f"{fleet.user}/users/email/{account.email}", headers=as_admin), 200
    ).json()
    assert set(found) == PRIVATE_FIELDS
    assert found["id"] == account.id
    upper = f"{fleet.user}/users/email/{account.email.upper()}"
    assert expect(http.get(upper, headers=as_admin), 200).json()["id"] == account.id
    expect(http.get(f"{fleet.user}/users/email/nobody@example.com", headers=as_admin), 404)

    # Paging by cursor: a full page points at the next one with a Link header.
    first = expect(http.get(f"{fleet.user}/users", params={"limit": 1}, headers=as_admin), 200)
    assert len(first.json()) == 1
    assert set(first.json()[0]) == PRIVATE_FIELDS
    assert 'rel="next"' in first.headers.get("link", "")
    second = expect(http.get(first.links["next"]["url"], headers=as_admin), 200).json()
    assert len(second) == 1
    assert second[0]["id"] != first.json()[0]["id"]


def test_tokens_from_auth_are_accepted_across_the_fleet(http: httpx.Client, fleet: Fleet) -> None:
    account = sign_up(http, fleet, "Tess")
    tokens = log_in(http, fleet, account.email, account.password)
    as_user = bearer(tokens.access)

    # RS256 by default, signed with the key auth_service publishes.
    header = jwt.get_unverified_header(tokens.access)
    assert header["alg"] == "RS256"
    jwks = expect(http.get(f"{fleet.auth}/.well-known/jwks.json"), 200).json()
    assert header.get("kid") in {key.get("kid") for key in jwks["keys"]}

    verified = expect(http.get(f"{fleet.auth}/auth/verify", headers=as_user), 200).json()
    assert verified["valid"] is True
    assert verified["user_id"] == account.id
    assert verified["role"] == "user"

    expect(http.get(f"{fleet.user}/users/me", headers=as_user), 200)
    # album_service and song_service gain protected endpoints over time; check
    # each one that exists already: a valid token gets past the auth check (404
    # for an id that does not exist), no token gets 401.
    for base, item_path in (
        (fleet.album, r"/albums/\{[^/}]+\}"),
        (fleet.song, r"/songs/\{[^/}]+\}"),
    ):
        template = openapi_path(http, base, item_path)
        if template is not None:
            missing = f"{base}{template.split('{')[0]}999999999"
            expect(http.get(missing, headers=as_user), 404)
            assert_bearer_challenge(http.get(missing))
    if openapi_path(http, fleet.song, r"/songs/liked") is not None:
        assert expect(http.get(f"{fleet.song}/songs/liked", headers=as_user), 200).json() == []
        assert_bearer_challenge(http.get(f"{fleet.song}/songs/liked"))


def test_every_service_is_healthy_and_tags_responses_with_request_ids(
    http: httpx.Client, fleet: Fleet
) -> None:
    for name, base in fleet.urls.items():
        health = expect(http.get(f"{base}/health"), 200).json()
        assert health["status"] == "ok"
        assert health["service"] == f"{name}_service"
        expect(http.get(f"{base}/health/ready"), 200)
        # A sane id from the client is echoed, so one trace spans services.
        traced = http.get(f"{base}/health", headers={"X-Request-ID": "e2e-trace-42"})
        assert expect(traced, 200).headers["x-request-id"] == "e2e-trace-42"


def openapi_path(http: httpx.Client, base: str, pattern: str) -> str | None:
    """The first GET path in a service's OpenAPI document matching `pattern`."""
    paths = expect(http.get(f"{base}/openapi.json"), 200).json()["paths"]
    for path, operations in paths.items():
        if re.fullmatch(pattern, path) and "get" in operations:
            return str(path)
    return None
