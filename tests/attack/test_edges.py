"""Hardened edges, checked on the four real services in-process: HEAD on every GET
route, bodies that must not be echoed, bodies that are not UTF-8, URL and text
fields, booleans posing as integers, and a Host header that must not come back."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.attack.conftest import PASSWORD, World

BODY_METHODS = {"post", "put", "patch"}


def bearer(make_token: Any, user_id: int, role: str = "user") -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user_id, role)}"}


def concrete(path: str, world: World) -> str:
    return (
        path.replace("{album_id}", str(world.album_id))
        .replace("{song_id}", str(world.song_id))
        .replace("{user_id}", str(world.user_id))
        .replace("{playlist_id}", str(world.playlist_id))
        .replace("{artist_id}", str(world.artist_id))
        .replace("{position}", "0")
        .replace("{email}", "user@example.com")
    )


# 6. HEAD -------------------------------------------------------------------------


def test_every_get_route_answers_head_and_documents_it(
    clients: dict[str, TestClient], world: World, make_token: Any
) -> None:
    admin = bearer(make_token, world.admin_id, "admin")
    checked = 0
    for name, client in clients.items():
        paths = client.get("/openapi.json").json()["paths"]
        for path, item in paths.items():
            if "get" not in item:
                continue
            assert "head" in item, f"{name}: HEAD {path} is not documented"
            url = concrete(path, world)
            got, head = client.get(url, headers=admin), client.head(url, headers=admin)
            assert head.status_code == got.status_code, f"{name} HEAD {url}"
            assert str(head.status_code) in item["head"]["responses"], f"{name} HEAD {url}"
            assert head.content == b"", f"{name} HEAD {url}"
            assert head.headers.get("content-type") == got.headers.get("content-type")
            checked += 1
    assert checked >= 15


@pytest.mark.parametrize(("service", "path"), [("song", "/health"), ("song", "/songs?limit=1")])
def test_head_health_and_songs(clients: dict[str, TestClient], service: str, path: str) -> None:
    got = clients[service].get(path)
    head = clients[service].head(path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == got.headers["content-type"] == "application/json"


# 7. A login sent as a form (curl -d) echoes nothing ------------------------------


def test_a_form_encoded_json_login_does_not_echo_the_password(
    clients: dict[str, TestClient],
) -> None:
    body = f'{{"email": "user@example.com", "password": "{PASSWORD}"}}'
    response = clients["auth"].post(
        "/auth/login",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert PASSWORD not in response.text
    assert PASSWORD.encode().hex() not in response.text
    assert body.encode().hex()[:40] not in response.text


@pytest.mark.parametrize("body", [f'"{PASSWORD}"', f'["{PASSWORD}"]'])
def test_a_json_string_login_is_not_echoed(clients: dict[str, TestClient], body: str) -> None:
    response = clients["auth"].post(
        "/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert PASSWORD not in response.text


# 8. Undecodable bodies: a documented 422 on every body-taking operation ----------

UNDECODABLE = b'{"title": "\xff\xfe\xfd", "password": "\xc3\x28"}'


def test_an_undecodable_body_is_a_documented_422_everywhere(
    clients: dict[str, TestClient], world: World, make_token: Any
) -> None:
    admin = bearer(make_token, world.admin_id, "admin")
    checked = []
    for name, client in clients.items():
        for path, item in client.get("/openapi.json").json()["paths"].items():
            for method, operation in item.items():
                if method not in BODY_METHODS or "requestBody" not in operation:
                    continue
                content_type = next(iter(operation["requestBody"]["content"]))
                response = client.request(
                    method.upper(),
                    concrete(path, world),
                    content=UNDECODABLE,
                    headers={**admin, "Content-Type": content_type},
                )
                where = f"{name} {method.upper()} {path} ({content_type})"
                assert str(response.status_code) in operation["responses"], (
                    where,
                    response.status_code,
                )
                assert response.status_code == 422, (where, response.text)
                assert isinstance(response.json()["detail"], list), where
                checked.append(where)
    assert len(checked) >= 12


# 10. URLs, blank text and integers -----------------------------------------------

SONG = {"title": "t", "artist": "a", "genre": "g", "file_url": "https://cdn.example.com/t.mp3"}
ALBUM = {"title": "t", "artist": "a", "genre": "g"}
HOSTILE_URLS = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/x.mp3",
    "file:///etc/passwd",
    " ",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_url_fields_take_http_and_https_only(
    clients: dict[str, TestClient], world: World, make_token: Any, url: str
) -> None:
    admin = bearer(make_token, world.admin_id, "admin")
    songs, albums = clients["song"], clients["album"]
    for field in ("file_url", "cover_image_url"):
        assert songs.post("/songs", json={**SONG, field: url}, headers=admin).status_code == 422
        patched = songs.patch(f"/songs/{world.song_id}", json={field: url}, headers=admin)
        assert patched.status_code == 422, field
    album = {**ALBUM, "cover_image_url": url}
    assert albums.post("/albums", json=album, headers=admin).status_code == 422
    patched = albums.patch(
        f"/albums/{world.album_id}", json={"cover_image_url": url}, headers=admin
    )
    assert patched.status_code == 422


@pytest.mark.parametrize("url", ["https://cdn.example.com/a.mp3", "/music/a.mp3"])
def test_http_urls_and_local_paths_are_stored_as_sent(
    clients: dict[str, TestClient], world: World, make_token: Any, url: str
) -> None:
    admin = bearer(make_token, world.admin_id, "admin")
    song = clients["song"].post(
        "/songs", json={**SONG, "file_url": url, "cover_image_url": url}, headers=admin
    )
    assert song.status_code == 201, song.text
    assert (song.json()["file_url"], song.json()["cover_image_url"]) == (url, url)
    album = clients["album"].post("/albums", json={**ALBUM, "cover_image_url": url}, headers=admin)
    assert album.status_code == 201 and album.json()["cover_image_url"] == url


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u3000"])
def test_text_fields_refuse_blank_values(
    clients: dict[str, TestClient], world: World, make_token: Any, blank: str
) -> None:
    admin = bearer(make_token, world.admin_id, "admin")
    for field in ("title", "artist", "genre"):
        song = clients["song"].post("/songs", json={**SONG, field: blank}, headers=admin)
        assert song.status_code == 422, (field, song.text)
        album = clients["album"].post("/albums", json={**ALBUM, field: blank}, headers=admin)
        assert album.status_code == 422, (field, album.text)
        patch = clients["song"].patch(f"/songs/{world.song_id}", json={field: blank}, headers=admin)
        assert patch.status_code == 422, field
    me = bearer(make_token, world.user_id)
    for field in ("first_name", "last_name"):
        patch = clients["user"].patch(f"/users/{world.user_id}", json={field: blank}, headers=me)
        assert patch.status_code == 422, (field, patch.text)
    sign_up = {"username": "blanky", "email": "blanky@example.com", "password": "long-enough-1",
               "first_name": blank}  # fmt: skip
    assert clients["user"].post("/users", json=sign_up).status_code == 422


@pytest.mark.parametrize("value", [True, False, "120", 120.0])
def test_integer_fields_refuse_booleans_strings_and_floats(
    clients: dict[str, TestClient], world: World, make_token: Any, value: Any
) -> None:
    admin = bearer(make_token, world.admin_id, "admin")
    song = clients["song"].post("/songs", json={**SONG, "duration": value}, headers=admin)
    assert song.status_code == 422, song.text
    patch = clients["song"].patch(
        f"/songs/{world.song_id}", json={"duration": value}, headers=admin
    )
    assert patch.status_code == 422
    link = clients["album"].put(
        f"/albums/{world.album_id}/songs/{world.song_id}",
        json={"track_number": value},
        headers=admin,
    )
    assert link.status_code == 422, link.text


@pytest.mark.parametrize(
    "value", [0, 1577836800, "1577836800", 1577836800.0, "2020-01-01T00:00:00"]
)
def test_dates_refuse_timestamps_and_datetimes(
    clients: dict[str, TestClient], world: World, make_token: Any, value: Any
) -> None:
    """A release date is YYYY-MM-DD; pydantic alone would read a Unix timestamp."""
    admin = bearer(make_token, world.admin_id, "admin")
    song = clients["song"].post("/songs", json={**SONG, "release_date": value}, headers=admin)
    assert song.status_code == 422, song.text
    album = {"title": "A", "artist": "B", "genre": "C", "release_date": value}
    created = clients["album"].post("/albums", json=album, headers=admin)
    assert created.status_code == 422, created.text
    assert (
        clients["album"]
        .post("/albums", json={**album, "release_date": "2020-01-01"}, headers=admin)
        .json()["release_date"]
        == "2020-01-01"
    )


@pytest.mark.parametrize("number", ["1_0", "+1", "1.0", "0.0", " 1", "\uff11"])
def test_path_numbers_are_digits_only(
    clients: dict[str, TestClient], world: World, make_token: Any, number: str
) -> None:
    """`int()` reads `1_0` as 10: a delete at `/songs/1_0` must not remove position 10."""
    user = bearer(make_token, world.user_id)
    assert clients["song"].get(f"/songs/{number}", headers=user).status_code == 422
    assert clients["album"].get(f"/artists/{number}").status_code == 422
    removed = clients["song"].delete(f"/playlists/{world.playlist_id}/songs/{number}", headers=user)
    assert removed.status_code == 422, removed.text
    entries = clients["song"].get(f"/playlists/{world.playlist_id}/songs", headers=user)
    assert [entry["position"] for entry in entries.json()] == [0]


@pytest.mark.parametrize(
    ("service", "path"),
    [("album", "/artists/{artist_id}/songs"), ("song", "/genres"), ("song", "/search")],
)
def test_public_lists_refuse_a_bad_token(
    clients: dict[str, TestClient], world: World, service: str, path: str
) -> None:
    """A token is optional on public lists, but one that is sent must be valid."""
    url = path.replace("{artist_id}", str(world.artist_id))
    assert clients[service].get(url).status_code == 200
    response = clients[service].get(url, headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# 11. The Host header is never reflected ------------------------------------------


@pytest.mark.parametrize(("service", "path"), [("song", "/songs"), ("album", "/albums")])
def test_links_never_carry_the_host_header(
    clients: dict[str, TestClient], world: World, make_token: Any, service: str, path: str
) -> None:
    admin = bearer(make_token, world.admin_id, "admin")
    extra = {"song": SONG, "album": ALBUM}[service]
    assert clients[service].post(path, json=extra, headers=admin).status_code == 201
    response = clients[service].get(f"{path}?limit=1", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert 'rel="next"' in response.headers["link"]
    assert "evil.example" not in response.headers["link"]
    redirect = clients[service].get(
        f"{path}/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert "evil.example" not in redirect.headers.get("location", "")
