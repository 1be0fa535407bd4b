"""OWASP API Security Top 10 (2023) checks that apply to MusicPlayer, in-process
against the four real apps."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database
from tests.attack.conftest import FACTORIES, PASSWORD, WalkingClient, World
from tests.attack.walk import assert_no_secrets


def bearer(make_token: Any, user_id: int, role: str = "user") -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user_id, role)}"}


# API1: broken object level authorization ----------------------------------


def test_a_user_cannot_touch_another_users_account(
    clients: dict[str, TestClient], world: World, make_token: Any
) -> None:
    users, me = clients["user"], bearer(make_token, world.user_id)
    other = f"/users/{world.other_id}"
    profile = users.get(other, headers=me).json()
    assert "email" not in profile and "role" not in profile  # public view only
    for method, body in (("PATCH", {"first_name": "Hacked"}), ("PUT", {"email": "x@evil.io"}),
                         ("PATCH", {"password": "new-password-1"}), ("DELETE", None)):  # fmt: skip
        response = users.request(method, other, json=body, headers=me)
        assert response.status_code == 403, (method, body, response.text)
    assert (
        users.get(other, headers=bearer(make_token, world.admin_id, "admin")).json()["first_name"]
        == "Other"
    )
    assert users.get("/users", headers=me).status_code == 200
    assert all("email" not in u for u in users.get("/users", headers=me).json())
    assert users.get("/users/email/other@example.com", headers=me).status_code == 403


def test_a_user_cannot_make_themselves_admin(
    clients: dict[str, TestClient], world: World, make_token: Any
) -> None:
    users, me = clients["user"], bearer(make_token, world.user_id)
    response = users.patch(f"/users/{world.user_id}", json={"role": "admin"}, headers=me)
    assert response.status_code == 403
    assert users.get("/users/me", headers=me).json()["role"] == "user"


def test_another_users_refresh_token_cannot_be_revoked(
    clients: dict[str, TestClient], world: World, make_token: Any
) -> None:
    auth = clients["auth"]
    login = auth.post("/auth/login", json={"email": "other@example.com", "password": PASSWORD})
    token = login.json()["refresh_token"]
    response = auth.post(
        "/auth/logout", json={"refresh_token": token}, headers=bearer(make_token, world.user_id)
    )
    assert response.status_code == 204
    assert auth.post("/auth/refresh", json={"refresh_token": token}).status_code == 200


def test_a_user_cannot_read_or_alter_another_users_private_playlist(
    clients: dict[str, TestClient], world: World, make_token: Any
) -> None:
    """`other` probes `user`'s private playlist every way there is: each answer is
    the 404 of a playlist that does not exist (its existence is not revealed), and
    nothing changes. Made public, it can be read but still not changed (403)."""
    songs, owner = clients["song"], bearer(make_token, world.user_id)
    intruder = bearer(make_token, world.other_id)
    url = f"/playlists/{world.playlist_id}"
    before = songs.get(url, headers=owner).json()
    probes = [
        ("GET", url, None), ("GET", f"{url}/songs", None), ("PATCH", url, {"name": "Pwned"}),
        ("PATCH", url, {"public": True}), ("DELETE", url, None),
        ("POST", f"{url}/songs", {"song_ids": [world.song_id]}),
        ("PUT", f"{url}/songs", {"song_ids": []}),
        ("POST", f"{url}/songs/move", {"from": 0, "to": 0}), ("DELETE", f"{url}/songs/0", None),
    ]  # fmt: skip
    missing = songs.get("/playlists/9999999", headers=intruder)
    for method, path, body in probes:
        response = songs.request(method, path, json=body, headers=intruder)
        assert (response.status_code, response.json()) == (404, missing.json()), (method, path)
    listed = songs.get("/playlists", headers=intruder).json()
    assert world.playlist_id not in [p["id"] for p in listed]
    assert songs.get(url, headers=owner).json() == before
    assert [s["id"] for s in songs.get(f"{url}/songs", headers=owner).json()] == [world.song_id]

    assert songs.patch(url, json={"public": True}, headers=owner).status_code == 200
    assert songs.get(url, headers=intruder).status_code == 200
    for method, path, body in probes[2:]:
        response = songs.request(method, path, json=body, headers=intruder)
        assert response.status_code == 403, (method, path, response.text)
    assert [s["id"] for s in songs.get(f"{url}/songs", headers=owner).json()] == [world.song_id]


# API3: broken object property level authorization (mass assignment) --------


def test_sign_up_ignores_privileged_fields(clients: dict[str, TestClient]) -> None:
    body = {"username": "mallory", "email": "mallory@example.com", "password": "mallory-pass",
            "first_name": "M", "role": "admin", "id": 1, "created_at": "2000-01-01T00:00:00Z",
            "updated_at": "2000-01-01T00:00:00Z", "password_hash": "$2b$04$forged"}  # fmt: skip
    response = clients["user"].post("/users", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["role"] == "user" and created["id"] != 1
    assert not created["created_at"].startswith("2000")
    login = clients["auth"].post(
        "/auth/login", json={"email": "mallory@example.com", "password": "mallory-pass"}
    )
    assert login.status_code == 200 and login.json()["role"] == "user"


def test_updates_ignore_server_owned_fields(
    clients: dict[str, TestClient], world: World, make_token: Any
) -> None:
    admin = bearer(make_token, world.admin_id, "admin")
    song = (
        clients["song"]
        .patch(
            f"/songs/{world.song_id}",
            json={
                "id": 999,
                "created_at": "2000-01-01T00:00:00Z",
                "like_count": 10**6,
                "title": "T",
            },
            headers=admin,
        )
        .json()
    )
    assert (song["id"], song["like_count"], song["title"]) == (world.song_id, 0, "T")
    assert not song["created_at"].startswith("2000")
    me = bearer(make_token, world.user_id)
    user = clients["user"].patch(
        f"/users/{world.user_id}", json={"password_hash": "$2b$04$x", "id": 5}, headers=me
    )
    assert user.status_code == 200 and user.json()["id"] == world.user_id
    login = clients["auth"].post(
        "/auth/login", json={"email": "user@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200  # the password did not change


# API4: unrestricted resource consumption -----------------------------------


@pytest.mark.parametrize("path", ["/songs?limit=201", "/songs?limit=1000000", "/songs?offset=-1",
                                  "/songs?limit=abc", "/songs?q=" + "x" * 101])  # fmt: skip
def test_page_and_filter_caps(clients: dict[str, TestClient], path: str) -> None:
    assert clients["song"].get(path).status_code == 422


def test_bodies_over_one_mebibyte_are_413_everywhere(clients: dict[str, TestClient]) -> None:
    body = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    for name, client in clients.items():
        response = client.post("/users" if name == "user" else "/auth/login", content=body,
                               headers={"Content-Type": "application/json"})  # fmt: skip
        assert response.status_code == 413, name


@pytest.mark.parametrize(
    "body",
    [b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
     b'{"username": "' + b"\\u00e9" * 100_000 + b'"}', b"\xff\xfe\x00garbage", b"{" * 10],
)  # fmt: skip
def test_deep_huge_or_broken_json_is_refused_cleanly(
    clients: dict[str, TestClient], body: bytes
) -> None:
    response = clients["user"].post(
        "/users", content=body, headers={"Content-Type": "application/json"}
    )
    # 422 like any other invalid body (400 is documented nowhere), or 413.
    assert response.status_code in (413, 422), response.status_code
    assert "detail" in response.json()


def test_a_very_long_query_string_is_not_a_500(clients: dict[str, TestClient]) -> None:
    response = clients["song"].get("/songs?" + "&".join(f"x{i}=y" for i in range(5000)))
    assert response.status_code < 500


# API2: broken authentication - enumeration and throttling -----------------


@pytest.fixture
def real_cost_auth(settings: Settings, database: Database, world: World) -> Any:
    """auth_service with production bcrypt cost: timings must be realistic."""
    with WalkingClient(FACTORIES["auth"](settings, database)) as client:
        # The seeded hash is cost 4; give "user" a cost-12 one like production.
        from sqlalchemy import update

        from database.models import User

        with database.transaction() as session:
            session.execute(update(User).where(User.id == world.user_id).values(
                password_hash=PasswordHasher(settings.bcrypt_rounds).hash(PASSWORD)))  # fmt: skip
        yield client


def test_unknown_email_and_wrong_password_look_and_take_the_same(
    real_cost_auth: TestClient,
) -> None:
    def attempt(email: str) -> tuple[int, Any, float]:
        started = time.perf_counter()
        response = real_cost_auth.post(
            "/auth/login", json={"email": email, "password": "wrong-pass"}
        )
        return response.status_code, response.json(), time.perf_counter() - started

    unknown = [attempt(f"nobody{i}@example.com") for i in range(4)]
    wrong = [attempt("user@example.com") for _ in range(4)]
    assert (
        {(s, str(b)) for s, b, _ in unknown}
        == {(s, str(b)) for s, b, _ in wrong}
        == {(401, str({"detail": "Invalid credentials"}))}
    )
    ratio = statistics.median(t for *_, t in unknown) / statistics.median(t for *_, t in wrong)
    assert 0.5 <= ratio <= 2.0, ratio


def test_failed_logins_are_throttled_per_account(
    settings: Settings, database: Database, world: World
) -> None:
    # Three free failures, then a minute's wait (long, so the test needs no clock).
    strict = settings.model_copy(update={"login_free_failures": 3, "login_base_delay_seconds": 60})
    with WalkingClient(FACTORIES["auth"](strict, database)) as auth:
        auth.app.state.hasher = PasswordHasher(4)
        auth.app.state.service = auth.app.state.build_service(auth.app)
        codes = [auth.post("/auth/login", json={"email": "user@example.com", "password": "bad"})
                 for _ in range(4)]  # fmt: skip
        assert [r.status_code for r in codes] == [401, 401, 401, 429]
        assert int(codes[-1].headers["Retry-After"]) > 0
        right = auth.post("/auth/login", json={"email": "user@example.com", "password": PASSWORD})
        assert right.status_code == 429  # no verdict before the wait, even for the right one


# API8: security misconfiguration --------------------------------------------


def test_cors_only_for_configured_origins(clients: dict[str, TestClient]) -> None:
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
    for name, client in clients.items():
        allowed = client.options("/health", headers={"Origin": "http://frontend.test", **preflight})
        assert allowed.headers.get("access-control-allow-origin") == "http://frontend.test", name
        for origin in ("http://evil.test", "null", "http://frontend.test.evil.io"):
            refused = client.options("/health", headers={"Origin": origin, **preflight})
            assert "access-control-allow-origin" not in refused.headers, (name, origin)


def test_security_headers_and_no_version_leaks(clients: dict[str, TestClient]) -> None:
    for name, client in clients.items():
        for path in ("/health", "/no-such-path"):
            headers = client.get(path).headers
            assert headers["x-content-type-options"] == "nosniff", name
            assert headers["x-frame-options"] == "DENY", name
            assert "server" not in headers and "x-powered-by" not in headers, name


def test_errors_never_carry_stack_traces(
    clients: dict[str, TestClient], make_token: Any, world: World
) -> None:
    for client in clients.values():
        for path in ("/nope", "/users/abc", "/songs/-1", "/albums/1/songs?cursor=@@"):
            response = client.get(path, headers=bearer(make_token, world.user_id))
            assert "Traceback" not in response.text and 'File "' not in response.text
            assert_no_secrets(response.json())
