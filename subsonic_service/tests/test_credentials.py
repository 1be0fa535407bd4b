"""The facade's credentials end to end in-process: API keys and the app password
made at auth_service, used on /rest, revoked, and failures throttled."""

from __future__ import annotations

import hashlib

from subsonic_service.tests.conftest import Library


def _bearer(library: Library, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {library.token(username)}"}


def _ping(library: Library, **credentials: str) -> dict:
    response = library.client.get("/rest/ping", params={"f": "json", **credentials})
    assert response.status_code == 200
    return response.json()["subsonic-response"]


def test_an_api_key_works_until_it_is_revoked(library: Library) -> None:
    username = library.new_user()
    auth = library.apps["auth"]
    made = auth.post("/auth/api-keys", json={"name": "phone"}, headers=_bearer(library, username))
    assert made.status_code == 201
    key = made.json()["key"]
    assert _ping(library, apiKey=key)["status"] == "ok"
    # The same key with `u` beside it is error 43 (Extensions/apiKeyAuth.md).
    assert _ping(library, apiKey=key, u=username)["error"]["code"] == 43
    revoked = auth.delete(f"/auth/api-keys/{made.json()['id']}", headers=_bearer(library, username))
    assert revoked.status_code == 204
    assert _ping(library, apiKey=key)["error"]["code"] == 44


def test_the_app_password_as_token_and_as_password(library: Library) -> None:
    username = library.new_user()
    auth = library.apps["auth"]
    made = auth.post("/auth/app-password", headers=_bearer(library, username)).json()
    password = made["password"]
    salt = "c19b2d"
    token = hashlib.md5((password + salt).encode()).hexdigest()  # noqa: S324 - Subsonic's scheme
    assert _ping(library, u=username, t=token, s=salt)["status"] == "ok"
    assert _ping(library, u=username.upper(), p=password)["status"] == "ok"
    assert _ping(library, u=username, p="enc:" + password.encode().hex())["status"] == "ok"
    assert _ping(library, u=username, p="not-it")["error"]["code"] == 40
    # A new app password: the old one stops working at once.
    auth.post("/auth/app-password", headers=_bearer(library, username))
    assert _ping(library, u=username, t=token, s=salt)["error"]["code"] == 40


def test_failed_logins_are_throttled_per_username(library: Library) -> None:
    username, other = library.new_user(), library.new_user()
    free = library.settings.login_free_failures
    answers = [_ping(library, u=username, p="wrong")["error"] for _ in range(free + 1)]
    assert [error["code"] for error in answers[:free]] == [40] * free
    throttled = library.client.get("/rest/ping", params={"f": "json", "u": username, "p": "x"})
    error = throttled.json()["subsonic-response"]["error"]
    assert error["code"] == 0 and int(throttled.headers["retry-after"]) >= 1
    # Another username from the same address is not slowed down.
    assert _ping(library, u=other, p="wrong")["error"]["code"] == 40
