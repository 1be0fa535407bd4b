"""GET /search and GET /genres over HTTP (API.md, Search and genres): ranking
with folding, types, per-type limit and offsets, the 422s, and the genre list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from database.memory import MemoryDatabase
from song_service.tests.conftest import song
from song_service.tests.test_songs_api import SONG_FIELDS, follow

AuthHeader = Callable[..., dict[str, str]]
ARTIST_FIELDS = {"id", "name", "sort_name", "album_count", "song_count"}
ALBUM_FIELDS = {
    "id", "title", "artist", "artist_id", "genre", "release_date", "cover_image_url",
    "song_count", "duration", "created_at", "updated_at",
}  # fmt: skip


def create(client: TestClient, auth_header: AuthHeader, title: str, **fields: Any) -> int:
    response = client.post(
        "/songs", json=song(title=title, **fields), headers=auth_header(1, "admin")
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def add_album(db: MemoryDatabase, title: str, artist: str, genre: str, songs: list[int]) -> int:
    """An album as album_service would leave it in the shared store."""
    artist_id = next((row["id"] for row in db.artists.values() if row["name"] == artist), None)
    album = db.insert(
        "albums",
        {"title": title, "artist": artist, "artist_id": artist_id, "genre": genre,
         "description": None, "cover_image_url": None, "release_date": None},
    )  # fmt: skip
    for track, song_id in enumerate(songs, 1):
        db.album_songs[(album["id"], song_id)] = {
            "album_id": album["id"], "song_id": song_id, "disc_number": 1, "track_number": track,
        }  # fmt: skip
    return album["id"]


@pytest.fixture
def catalogue(
    client: TestClient, auth_header: AuthHeader, memory_db: MemoryDatabase
) -> Iterator[dict[str, int]]:
    ids = {
        "halo": create(client, auth_header, "Halo", artist="Beyoncé", duration=200, genre="Pop"),
        "crazy": create(client, auth_header, "Crazy in Love", artist="Beyoncé", duration=230),
        "beyond": create(client, auth_header, "Beyond", artist="Other"),
        "arzte": create(client, auth_header, "Schrei nach Liebe", artist="Die Ärzte"),
    }
    ids["lemonade"] = add_album(
        memory_db, "Lemonade", "Beyoncé", "R&B", [ids["halo"], ids["crazy"]]
    )
    ids["beyonce"] = next(a["id"] for a in memory_db.artists.values() if a["name"] == "Beyoncé")
    yield ids


def search(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    response = client.get("/search", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_search_finds_every_type_with_folding(
    client: TestClient, catalogue: dict[str, int]
) -> None:
    found = search(client, q="beyonce")
    assert [artist["name"] for artist in found["artists"]] == ["Beyoncé"]
    artist = found["artists"][0]
    assert set(artist) == ARTIST_FIELDS
    assert (artist["album_count"], artist["song_count"]) == (1, 2)
    assert [album["title"] for album in found["albums"]] == ["Lemonade"]
    album = found["albums"][0]
    assert set(album) == ALBUM_FIELDS
    assert (album["song_count"], album["duration"], album["artist_id"]) == (
        2, 430, catalogue["beyonce"],
    )  # fmt: skip
    # Word matches, by matched term then id; "Beyond" does not start with "beyonce".
    assert [s["title"] for s in found["songs"]] == ["Halo", "Crazy in Love"]
    assert set(found["songs"][0]) == SONG_FIELDS
    assert found["songs"][0]["liked_by_me"] is None
    # A title prefix ranks before word matches: "beyon" starts the title "Beyond".
    assert [s["title"] for s in search(client, q="BEYON")["songs"]] == [
        "Beyond", "Halo", "Crazy in Love",
    ]  # fmt: skip
    assert [a["name"] for a in search(client, q="ärzte")["artists"]] == ["Die Ärzte"]
    assert search(client, q="ARZTE")["songs"][0]["title"] == "Schrei nach Liebe"
    assert search(client, q="nothing matches") == {"artists": [], "albums": [], "songs": []}


def test_types_limit_and_offsets(client: TestClient, catalogue: dict[str, int]) -> None:
    only_songs = search(client, q="beyonce", types="song")
    assert only_songs["artists"] == [] and only_songs["albums"] == []
    assert len(only_songs["songs"]) == 2
    both = search(client, q="beyonce", types=" artist ,album")
    assert (len(both["artists"]), len(both["albums"]), both["songs"]) == (1, 1, [])
    # An empty or absent q lists everything by title (name) key.
    everything = search(client)
    assert [s["title"] for s in everything["songs"]] == [
        "Beyond", "Crazy in Love", "Halo", "Schrei nach Liebe",
    ]  # fmt: skip
    assert [a["name"] for a in everything["artists"]] == ["Beyoncé", "Die Ärzte", "Other"]
    assert [a["title"] for a in everything["albums"]] == ["Lemonade"]
    assert search(client, q="") == everything
    page = search(client, limit=2, song_offset=1, artist_offset=2, album_offset=1)
    assert [s["title"] for s in page["songs"]] == ["Crazy in Love", "Halo"]
    assert [a["name"] for a in page["artists"]] == ["Other"]
    assert page["albums"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"types": "artist,track"},
        {"types": "songs"},
        {"types": ","},
        {"limit": 201},
        {"limit": 0},
        {"song_offset": -1},
        {"artist_offset": "x"},
        {"q": "a" * 101},
        {"q": "a\x00b"},
    ],
)
def test_search_refuses_bad_parameters_with_422(
    client: TestClient, catalogue: dict[str, int], params: dict[str, Any]
) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


def test_search_shows_the_callers_like_and_play_state(
    client: TestClient, auth_header: AuthHeader, add_user: Callable[[], int], catalogue: dict
) -> None:
    user = auth_header(add_user())
    client.post(f"/songs/{catalogue['halo']}/like", headers=user)
    client.post(f"/songs/{catalogue['halo']}/plays", json={"played_at": 0}, headers=user)
    halo = search(client, user, q="halo", types="song")["songs"][0]
    assert (halo["liked_by_me"], halo["my_play_count"], halo["play_count"]) == (True, 1, 1)
    assert halo["last_played_at"] == "1970-01-01T00:00:00Z"
    anonymous = search(client, q="halo", types="song")["songs"][0]
    assert (anonymous["liked_by_me"], anonymous["my_play_count"]) == (None, None)
    assert client.get("/search", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_genres_fold_count_and_page(
    client: TestClient, auth_header: AuthHeader, memory_db: MemoryDatabase
) -> None:
    create(client, auth_header, "a", genre="Rock")
    create(client, auth_header, "b", genre="ROCK")
    create(client, auth_header, "c", genre="Électro")
    create(client, auth_header, "d", genre="pop")
    add_album(memory_db, "x", "Band", "electro", [])
    add_album(memory_db, "y", "Band", "Jazz", [])
    expected = [
        {"name": "Électro", "song_count": 1, "album_count": 1},
        {"name": "Jazz", "song_count": 0, "album_count": 1},
        {"name": "pop", "song_count": 1, "album_count": 0},
        {"name": "Rock", "song_count": 2, "album_count": 0},
    ]
    response = client.get("/genres")
    assert response.status_code == 200
    assert response.json() == expected
    assert "Link" not in response.headers
    assert follow(client, "/genres?limit=1") == expected
    assert client.get("/genres", params={"offset": 2}).json() == expected[2:]
    assert client.get("/genres", params={"limit": 201}).status_code == 422
    assert client.get("/genres", params={"cursor": "eyJ4IjoxfQ"}).status_code == 422


def test_search_and_genres_on_sqlite(sql_client: TestClient, auth_header: AuthHeader) -> None:
    create(sql_client, auth_header, "Halo", artist="Beyoncé", genre="Pop")
    create(sql_client, auth_header, "Beyond", artist="Other", genre="pop")
    found = search(sql_client, q="beyonce")
    assert [a["name"] for a in found["artists"]] == ["Beyoncé"]
    assert found["artists"][0]["song_count"] == 1
    assert [s["title"] for s in found["songs"]] == ["Halo"]
    assert [s["title"] for s in search(sql_client, q="beyon")["songs"]] == ["Beyond", "Halo"]
    assert sql_client.get("/genres").json() == [{"name": "Pop", "song_count": 2, "album_count": 0}]


def test_app_serves_search_without_a_token(app: FastAPI) -> None:
    paths = {route.path for route in app.routes}  # type: ignore[attr-defined]
    assert {"/search", "/genres", "/songs/played", "/songs/top"} <= paths
