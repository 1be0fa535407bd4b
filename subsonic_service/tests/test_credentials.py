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
    # Any case, and trailing spaces (which MariaDB and SQL Server ignore in `=`),
    # count as one username.
    spellings = [username, username.upper(), f"{username}  "]
    answers = [
        _ping(library, u=spellings[attempt % 3], p="wrong")["error"] for attempt in range(free + 1)
    ]
    assert [error["code"] for error in answers[:free]] == [40] * free
    throttled = library.client.get("/rest/ping", params={"f": "json", "u": username, "p": "x"})
    error = throttled.json()["subsonic-response"]["error"]
    assert error["code"] == 0 and int(throttled.headers["retry-after"]) >= 1
    # Another username from the same address is not slowed down.
    assert _ping(library, u=other, p="wrong")["error"]["code"] == 40


def test_the_token_an_app_credential_buys_only_serves_the_subsonic_api(library: Library) -> None:
    """An API key or app password exchanged for a token (as the facade does) must not
    become a login: it cannot mint more credentials, read REST lists, or act as an
    admin beyond what the Subsonic API does."""
    auth, song = library.apps["auth"], library.apps["song"]
    key = auth.post(
        "/auth/api-keys", json={"name": "admin phone"}, headers=_bearer(library, "admin")
    ).json()["key"]
    exchanged = auth.post("/auth/subsonic/token", json={"api_key": key})
    assert exchanged.status_code == 200
    scoped = {"Authorization": f"Bearer {exchanged.json()['access_token']}"}
    # What the facade calls for an app works.
    like = song.post(f"/songs/{library.song_ids['Waterloo']}/like", headers=scoped)
    assert like.status_code == 200
    song.delete(f"/songs/{library.song_ids['Waterloo']}/like", headers=scoped)
    # Nothing else does: credentials, account and catalogue management, REST reads.
    refused = [
        auth.post("/auth/api-keys", json={"name": "more"}, headers=scoped),
        auth.get("/auth/api-keys", headers=scoped),
        auth.post("/auth/app-password", headers=scoped),
        song.get("/songs/liked", headers=scoped),
        song.post(
            "/songs", headers=scoped,
            json={"title": "x", "artist": "y", "genre": "z", "file_url": "https://e.test/x.mp3"},
        ),
    ]  # fmt: skip
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert "Subsonic" in refused[0].json()["detail"]


def test_malformed_credentials_are_wrong_ones_and_an_empty_u_still_conflicts(
    library: Library,
) -> None:
    assert _ping(library, apiKey="k" * 3000)["error"]["code"] == 44
    assert _ping(library, apiKey="mpk_\x00")["error"]["code"] == 44
    assert _ping(library, u="x" * 400, p="secret")["error"]["code"] == 40
    assert _ping(library, u="alice", p="p" * 500)["error"]["code"] == 40
    assert _ping(library, apiKey="mpk_anything", u="")["error"]["code"] == 43
