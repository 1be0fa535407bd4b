from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from album_service.repos.base import TRACK_ORDER
from album_service.tests.conftest import SongFactory
from common.paging import encode_cursor, keyset_cursor
from database.keyset import Sort
from database.memory import MemoryDatabase

AuthHeader = Callable[..., dict[str, str]]
TRACK_FIELDS = {
    "id",
    "title",
    "artist",
    "artist_id",
    "media",
    "genre",
    "file_url",
    "duration",
    "description",
    "cover_image_url",
    "release_date",
    "created_at",
    "updated_at",
    "disc_number",
    "track_number",
}


@pytest.fixture
def admin(auth_header: AuthHeader) -> dict[str, str]:
    return auth_header(1, "admin")


def new_album(client: TestClient, admin: dict[str, str]) -> int:
    body = {"title": "abbey road", "artist": "the beatles", "genre": "rock"}
    response = client.post("/albums", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def put_link(
    client: TestClient, admin: dict[str, str], album_id: int, song_id: int, **body: int
) -> dict:
    url = f"/albums/{album_id}/songs/{song_id}"
    response = client.put(url, json=body or None, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def track_list(client: TestClient, album_id: int, headers: dict[str, str], limit: int = 50):
    """(song id, track number) of every track, walking the Link headers to the end."""
    tracks: list[tuple[int, int]] = []
    url: str | None = f"/albums/{album_id}/songs?limit={limit}"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        tracks += [(t["id"], t["track_number"]) for t in response.json()]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
    return tracks


def test_link_without_a_body_appends_and_repeats_idempotently(
    client: TestClient, admin: dict[str, str], add_song: SongFactory
) -> None:
    album_id, first, second = new_album(client, admin), add_song("one"), add_song("two")
    response = client.put(f"/albums/{album_id}/songs/{first}", headers=admin)
    assert response.status_code == 200
    assert response.json() == {
        "album_id": album_id,
        "song_id": first,
        "disc_number": 1,
        "track_number": 1,
    }
    assert put_link(client, admin, album_id, second)["track_number"] == 2
    assert put_link(client, admin, album_id, first)["track_number"] == 1
    assert track_list(client, album_id, admin) == [(first, 1), (second, 2)]


def test_explicit_track_numbers_set_the_order(
    client: TestClient, admin: dict[str, str], add_song: SongFactory
) -> None:
    album_id = new_album(client, admin)
    a, b, c = add_song("a"), add_song("b"), add_song("c")
    put_link(client, admin, album_id, a, track_number=3)
    put_link(client, admin, album_id, b, track_number=1)
    assert put_link(client, admin, album_id, c)["track_number"] == 4  # after the highest
    put_link(client, admin, album_id, c, track_number=2)
    put_link(client, admin, album_id, c, track_number=2)
    assert track_list(client, album_id, admin) == [(b, 1), (c, 2), (a, 3)]


def test_tracks_carry_the_song_fields(
    client: TestClient, admin: dict[str, str], add_song: SongFactory, auth_header: AuthHeader
) -> None:
    album_id, song_id = new_album(client, admin), add_song("one", duration=61)
    put_link(client, admin, album_id, song_id)
    [track] = client.get(f"/albums/{album_id}/songs", headers=auth_header(7)).json()
    assert set(track) == TRACK_FIELDS
    assert (track["id"], track["title"], track["duration"]) == (song_id, "one", 61)
    assert client.get(f"/albums/{album_id}/songs").status_code == 401


def test_equal_track_numbers_page_by_song_id(
    client: TestClient, admin: dict[str, str], add_song: SongFactory
) -> None:
    album_id = new_album(client, admin)
    songs = [add_song(f"s{i}") for i in range(7)]
    for i, song_id in enumerate(reversed(songs)):
        put_link(client, admin, album_id, song_id, track_number=1 + i // 3)
    numbers = {song_id: 1 + i // 3 for i, song_id in enumerate(reversed(songs))}
    expected = sorted(numbers.items(), key=lambda item: (item[1], item[0]))
    for limit in (1, 2, 3, 50):
        assert track_list(client, album_id, admin, limit) == expected


def test_link_refuses_missing_album_or_song(
    client: TestClient, admin: dict[str, str], add_song: SongFactory
) -> None:
    album_id, song_id = new_album(client, admin), add_song()
    missing_album = client.put(f"/albums/999/songs/{song_id}", headers=admin)
    assert (missing_album.status_code, missing_album.json()) == (404, {"detail": "Album not found"})
    missing_song = client.put(f"/albums/{album_id}/songs/999", headers=admin)
    assert (missing_song.status_code, missing_song.json()) == (404, {"detail": "Song not found"})
    assert client.get("/albums/999/songs", headers=admin).status_code == 404


@pytest.mark.parametrize(
    "body", [{"track_number": 0}, {"track_number": 10_001}, {"track_number": "first"}, [1]]
)
def test_bad_track_number_is_422(
    client: TestClient, admin: dict[str, str], add_song: SongFactory, body: object
) -> None:
    album_id, song_id = new_album(client, admin), add_song()
    response = client.put(f"/albums/{album_id}/songs/{song_id}", json=body, headers=admin)
    assert response.status_code == 422


@pytest.mark.parametrize("song_id", ["0", "-1", str(2**63)])
def test_out_of_range_song_ids_are_422(
    client: TestClient, admin: dict[str, str], song_id: str
) -> None:
    album_id = new_album(client, admin)
    assert client.put(f"/albums/{album_id}/songs/{song_id}", headers=admin).status_code == 422
    assert client.delete(f"/albums/{album_id}/songs/{song_id}", headers=admin).status_code == 422


def test_unlink_is_idempotent_and_needs_the_album(
    client: TestClient, admin: dict[str, str], add_song: SongFactory
) -> None:
    album_id, song_id = new_album(client, admin), add_song()
    put_link(client, admin, album_id, song_id)
    for _ in range(2):
        response = client.delete(f"/albums/{album_id}/songs/{song_id}", headers=admin)
        assert (response.status_code, response.content) == (204, b"")
    assert track_list(client, album_id, admin) == []
    assert client.delete(f"/albums/999/songs/{song_id}", headers=admin).status_code == 404


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_link_writes_are_for_admins_only(
    client: TestClient,
    admin: dict[str, str],
    add_song: SongFactory,
    auth_header: AuthHeader,
    method: str,
) -> None:
    album_id, song_id = new_album(client, admin), add_song()
    url = f"/albums/{album_id}/songs/{song_id}"
    assert client.request(method, url).status_code == 401
    assert client.request(method, url, headers=auth_header(7)).status_code == 403


def test_deleting_an_album_takes_its_links_but_not_its_songs(
    client: TestClient, admin: dict[str, str], add_song: SongFactory, memory_db: MemoryDatabase
) -> None:
    album_id, other_id, song_id = new_album(client, admin), new_album(client, admin), add_song()
    put_link(client, admin, album_id, song_id)
    put_link(client, admin, other_id, song_id)
    assert client.delete(f"/albums/{album_id}", headers=admin).status_code == 200
    assert song_id in memory_db.songs
    assert list(memory_db.album_songs) == [(other_id, song_id)]


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        keyset_cursor(Sort("id"), 1, 1),  # a GET /albums cursor
        keyset_cursor(TRACK_ORDER, "one", 1),
        encode_cursor({"sort": "track_number", "value": 1}),
    ],
)
def test_bad_track_cursor_is_422(client: TestClient, admin: dict[str, str], cursor: str) -> None:
    album_id = new_album(client, admin)
    response = client.get(f"/albums/{album_id}/songs", params={"cursor": cursor}, headers=admin)
    assert response.status_code == 422


def test_sql_backed_links_order_and_cascade(
    sql_client: TestClient, admin: dict[str, str], add_sql_song: SongFactory
) -> None:
    album_id = new_album(sql_client, admin)
    songs = [add_sql_song(f"s{i}") for i in range(5)]
    for song_id in reversed(songs):
        put_link(sql_client, admin, album_id, song_id)
    put_link(sql_client, admin, album_id, songs[0], track_number=10)
    expected = [(songs[4], 1), (songs[3], 2), (songs[2], 3), (songs[1], 4), (songs[0], 10)]
    assert track_list(sql_client, album_id, admin, limit=2) == expected
    missing = sql_client.put(f"/albums/{album_id}/songs/999", headers=admin)
    assert missing.json() == {"detail": "Song not found"}
    assert (
        sql_client.delete(f"/albums/{album_id}/songs/{songs[0]}", headers=admin).status_code == 204
    )
    assert sql_client.delete(f"/albums/{album_id}", headers=admin).status_code == 200
    assert sql_client.get(f"/albums/{album_id}/songs", headers=admin).status_code == 404
    # The songs outlive the album: they can go on a new one.
    assert put_link(sql_client, admin, new_album(sql_client, admin), songs[0])["track_number"] == 1


def test_sql_backed_concurrent_identical_links_all_succeed(
    sql_client: TestClient, admin: dict[str, str], add_sql_song: SongFactory
) -> None:
    album_id, song_id = new_album(sql_client, admin), add_sql_song()
    url = f"/albums/{album_id}/songs/{song_id}"
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda _: sql_client.put(url, headers=admin).status_code, range(16))
        )
    assert statuses == [200] * 16
    assert track_list(sql_client, album_id, admin) == [(song_id, 1)]
