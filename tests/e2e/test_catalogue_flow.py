"""The catalogue over real HTTP on the four running services: an admin builds
albums and songs, users browse, like concurrently, and deletions cascade."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e
FANS = 8


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, trust_env=False) as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}: "
        f"{response.text}"
    )
    return response.json() if response.content else None


def login(http: httpx.Client, fleet: Fleet, email: str, password: str) -> dict[str, str]:
    body = ok(http.post(f"{fleet.auth}/auth/login", json={"email": email, "password": password}))
    return {"Authorization": f"Bearer {body['auth_token']}"}


def new_user(http: httpx.Client, fleet: Fleet) -> tuple[int, dict[str, str]]:
    stem = uuid.uuid4().hex[:10]
    email, password = f"{stem}@example.com", f"pw-{stem}-long"
    user = ok(
        http.post(
            f"{fleet.user}/users",
            json={"username": stem, "email": email, "password": password, "first_name": "Fan"},
        ),
        201,
    )
    return user["id"], login(http, fleet, email, password)


def follow(http: httpx.Client, url: str, headers: dict[str, str] | None = None) -> list[dict]:
    """Every item of a listing, walking its Link: rel="next" headers to the end."""
    items: list[dict] = []
    next_url: str | None = url
    while next_url:
        response = http.get(next_url, headers=headers)
        items += ok(response)
        next_url = response.links.get("next", {}).get("url")
    return items


@pytest.fixture(scope="module")
def admin(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    return login(http, fleet, fleet.admin_email, fleet.admin_password)


@pytest.fixture(scope="module")
def catalogue(http: httpx.Client, fleet: Fleet, admin: dict[str, str]) -> dict[str, Any]:
    """Two albums of a run-unique genre, with their songs linked out of order."""
    genre = f"e2e-{uuid.uuid4().hex[:8]}"
    albums, songs = [], []
    for a in range(2):
        album = ok(
            http.post(
                f"{fleet.album}/albums",
                json={"title": f"Album {a}", "artist": "E2E Band", "genre": genre},
                headers=admin,
            ),
            201,
        )
        albums.append(album)
        for track in (3, 1, 2):
            song = ok(
                http.post(
                    f"{fleet.song}/songs",
                    json={"title": f"A{a} T{track}", "artist": "E2E Band", "genre": genre,
                          "file_url": f"/audio/{a}/{track}.mp3", "duration": 200 + track},
                    headers=admin,
                ),
                201,
            )  # fmt: skip
            songs.append(song)
            link = f"{fleet.album}/albums/{album['id']}/songs/{song['id']}"
            ok(http.put(link, json={"track_number": track}, headers=admin))
            ok(http.put(link, json={"track_number": track}, headers=admin))  # idempotent
    return {"genre": genre, "albums": albums, "songs": songs}


def test_album_tracks_come_in_track_order(
    http: httpx.Client, fleet: Fleet, catalogue: dict[str, Any]
) -> None:
    _, user = new_user(http, fleet)
    album = catalogue["albums"][0]
    tracks = ok(http.get(f"{fleet.album}/albums/{album['id']}/songs", headers=user))
    assert [t["title"] for t in tracks] == ["A0 T1", "A0 T2", "A0 T3"]
    assert [t["track_number"] for t in tracks] == [1, 2, 3]


def test_browsing_by_links_loses_and_repeats_nothing(
    http: httpx.Client, fleet: Fleet, catalogue: dict[str, Any]
) -> None:
    genre = catalogue["genre"]
    created = sorted(song["id"] for song in catalogue["songs"])
    for sort in ("id", "-title", "artist"):
        seen = follow(http, f"{fleet.song}/songs?genre={genre}&limit=2&sort={sort}")
        assert sorted(song["id"] for song in seen) == created
    albums = follow(http, f"{fleet.album}/albums?genre={genre}&limit=1")
    assert [a["id"] for a in albums] == [a["id"] for a in catalogue["albums"]]
    in_album = follow(http, f"{fleet.song}/songs?album_id={catalogue['albums'][1]['id']}&limit=2")
    assert len(in_album) == 3


def test_many_users_liking_at_once_are_counted_exactly(
    http: httpx.Client, fleet: Fleet, catalogue: dict[str, Any]
) -> None:
    song_id = catalogue["songs"][0]["id"]
    fans = [new_user(http, fleet) for _ in range(FANS)]

    def like(fan: tuple[int, dict[str, str]]) -> int:
        with httpx.Client(timeout=30, trust_env=False) as own:  # one connection each
            return own.post(f"{fleet.song}/songs/{song_id}/like", headers=fan[1]).status_code

    with ThreadPoolExecutor(max_workers=FANS) as pool:
        statuses = list(pool.map(like, fans + fans))  # every fan twice, all at once
    assert statuses == [200] * (2 * FANS)
    song = ok(http.get(f"{fleet.song}/songs/{song_id}", headers=fans[0][1]))
    assert (song["like_count"], song["liked_by_me"]) == (FANS, True)
    liked = ok(http.get(f"{fleet.song}/songs/liked", headers=fans[0][1]))
    assert [s["id"] for s in liked] == [song_id]


def test_deletions_cascade(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str], catalogue: dict[str, Any]
) -> None:
    user_id, user = new_user(http, fleet)
    album, song = catalogue["albums"][1], catalogue["songs"][3]
    ok(http.post(f"{fleet.song}/songs/{song['id']}/like", headers=user))

    # Deleting an album removes its links, never its songs.
    ok(http.delete(f"{fleet.album}/albums/{album['id']}", headers=admin))
    assert http.get(f"{fleet.album}/albums/{album['id']}", headers=user).status_code == 404
    assert ok(http.get(f"{fleet.song}/songs/{song['id']}", headers=user))["like_count"] >= 1
    assert ok(http.get(f"{fleet.song}/songs?album_id={album['id']}")) == []

    # Deleting a user removes their likes.
    before = ok(http.get(f"{fleet.song}/songs/{song['id']}", headers=admin))["like_count"]
    ok(http.delete(f"{fleet.user}/users/{user_id}", headers=user))
    after = ok(http.get(f"{fleet.song}/songs/{song['id']}", headers=admin))["like_count"]
    assert after == before - 1

    # Deleting a song removes its likes and its album links.
    first_album = catalogue["albums"][0]
    first_song = catalogue["songs"][0]
    ok(http.delete(f"{fleet.song}/songs/{first_song['id']}", headers=admin))
    tracks = ok(http.get(f"{fleet.album}/albums/{first_album['id']}/songs", headers=admin))
    assert first_song["id"] not in [t["id"] for t in tracks]
    assert len(tracks) == 2


def test_catalogue_writes_are_admin_only(
    http: httpx.Client, fleet: Fleet, catalogue: dict[str, Any]
) -> None:
    _, user = new_user(http, fleet)
    song_id = catalogue["songs"][1]["id"]
    album_id = catalogue["albums"][0]["id"]
    body = {"title": "x", "artist": "x", "genre": "x", "file_url": "x"}
    assert http.post(f"{fleet.song}/songs", json=body, headers=user).status_code == 403
    assert http.delete(f"{fleet.song}/songs/{song_id}", headers=user).status_code == 403
    assert http.post(f"{fleet.album}/albums", json=body, headers=user).status_code == 403
    link = f"{fleet.album}/albums/{album_id}/songs/{song_id}"
    assert http.put(link, headers=user).status_code == 403
    assert http.get(f"{fleet.song}/songs?genre={catalogue['genre']}").status_code == 200
