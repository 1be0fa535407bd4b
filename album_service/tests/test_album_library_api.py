"""Albums' library additions over HTTP: release dates, song counts and durations,
likes and the liked list, and disc numbers on tracks."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from album_service.tests.conftest import SongFactory
from album_service.tests.test_albums_api import follow
from database import Database
from database.models import User
from database.types import utcnow

AuthHeader = Callable[..., dict[str, str]]


@pytest.fixture
def admin(auth_header: AuthHeader) -> dict[str, str]:
    return auth_header(1, "admin")


def new_album(client: TestClient, admin: dict[str, str], title: str = "a", **extra: Any) -> dict:
    body = {"title": title, "artist": "someone", "genre": "rock", **extra}
    response = client.post("/albums", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def test_release_date_is_set_changed_and_bounded(client: TestClient, admin: dict[str, str]) -> None:
    album = new_album(client, admin, release_date="1969-09-26")
    assert album["release_date"] == "1969-09-26"
    url = f"/albums/{album['id']}"
    assert (
        client.patch(url, json={"release_date": "1970-01-01"}, headers=admin).json()["release_date"]
        == "1970-01-01"
    )
    assert (
        client.patch(url, json={"release_date": None}, headers=admin).json()["release_date"] is None
    )
    for bad in ("0000-01-01", "10000-01-01", "yesterday", 1969):
        body = {"title": "t", "artist": "a", "genre": "g", "release_date": bad}
        assert client.post("/albums", json=body, headers=admin).status_code == 422, bad


def test_counts_and_duration_follow_the_links(
    client: TestClient, admin: dict[str, str], add_song: SongFactory, auth_header: AuthHeader
) -> None:
    album = new_album(client, admin)
    assert (album["song_count"], album["duration"], album["like_count"]) == (0, 0, 0)
    assert album["liked_by_me"] is False  # the creating admin's own view
    for title, duration in (("one", 200), ("two", None), ("three", 40)):
        client.put(f"/albums/{album['id']}/songs/{add_song(title, duration=duration)}",
                   headers=admin)  # fmt: skip
    shown = client.get(f"/albums/{album['id']}", headers=auth_header(3)).json()
    assert (shown["song_count"], shown["duration"], shown["liked_by_me"]) == (3, 240, False)
    [listed] = client.get("/albums").json()
    assert (listed["song_count"], listed["duration"], listed["liked_by_me"]) == (3, 240, None)
    updated = client.patch(f"/albums/{album['id']}", json={"genre": "pop"}, headers=admin)
    assert (updated.json()["song_count"], updated.json()["duration"]) == (3, 240)


def test_like_flow_and_liked_list(
    client: TestClient, admin: dict[str, str], auth_header: AuthHeader, add_user
) -> None:
    ids = [new_album(client, admin, title)["id"] for title in ("a", "b", "c")]
    user = auth_header(add_user())
    for album_id in ids:
        liked = client.post(f"/albums/{album_id}/like", headers=user)
        assert liked.json() == {"album_id": album_id, "liked": True, "like_count": 1}
    assert client.post(f"/albums/{ids[0]}/like", headers=user).json()["like_count"] == 1
    assert client.get(f"/albums/{ids[0]}", headers=user).json()["liked_by_me"] is True
    listed = client.get("/albums", headers=user).json()
    assert [(a["like_count"], a["liked_by_me"]) for a in listed] == [(1, True)] * 3
    mine = follow(client, "/albums/liked?limit=2", headers=user)
    assert [a["id"] for a in mine] == ids[::-1]
    assert all("liked_at" in a for a in mine)
    unliked = client.delete(f"/albums/{ids[1]}/like", headers=user)
    assert unliked.json() == {"album_id": ids[1], "liked": False, "like_count": 0}
    assert client.delete(f"/albums/{ids[1]}/like", headers=user).json()["liked"] is False
    assert [a["id"] for a in client.get("/albums/liked", headers=user).json()] == [
        ids[2], ids[0],
    ]  # fmt: skip
    assert client.post("/albums/999/like", headers=user).status_code == 404
    assert client.delete("/albums/999/like", headers=user).status_code == 404
    assert client.post(f"/albums/{ids[0]}/like").status_code == 401
    assert client.get("/albums/liked").status_code == 401
    assert client.get("/albums", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/albums/liked", params={"cursor": "%%"}, headers=user).status_code == 422
    # Deleting the album takes its likes.
    client.delete(f"/albums/{ids[2]}", headers=admin)
    assert [a["id"] for a in client.get("/albums/liked", headers=user).json()] == [ids[0]]


def test_disc_numbers_order_tracks_and_appends_stay_on_their_disc(
    client: TestClient, admin: dict[str, str], add_song: SongFactory
) -> None:
    album_id = new_album(client, admin)["id"]
    songs = [add_song(f"s{i}") for i in range(5)]

    def put(song_id: int, **body: int) -> dict:
        response = client.put(f"/albums/{album_id}/songs/{song_id}", json=body, headers=admin)
        assert response.status_code == 200, response.text
        return response.json()

    assert put(songs[0], disc_number=2, track_number=1) == {
        "album_id": album_id, "song_id": songs[0], "disc_number": 2, "track_number": 1,
    }  # fmt: skip
    assert (put(songs[1])["disc_number"], put(songs[1])["track_number"]) == (1, 1)
    assert put(songs[2], disc_number=2)["track_number"] == 2
    assert put(songs[3])["track_number"] == 2  # disc 1's own last + 1
    assert put(songs[4], disc_number=1, track_number=9)["disc_number"] == 1
    tracks = follow(client, f"/albums/{album_id}/songs?limit=2", headers=admin)
    assert [(t["disc_number"], t["track_number"], t["id"]) for t in tracks] == [
        (1, 1, songs[1]), (1, 2, songs[3]), (1, 9, songs[4]), (2, 1, songs[0]), (2, 2, songs[2]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "body", [{"disc_number": 0}, {"disc_number": 1000}, {"disc_number": True},
             {"disc_number": "1"}, {"disc_number": 1.5}],
)  # fmt: skip
def test_bad_disc_number_is_422(
    client: TestClient, admin: dict[str, str], add_song: SongFactory, body: dict
) -> None:
    album_id = new_album(client, admin)["id"]
    response = client.put(f"/albums/{album_id}/songs/{add_song()}", json=body, headers=admin)
    assert response.status_code == 422


def test_concurrent_album_likes_on_sqlite_are_counted_exactly(
    sql_client: TestClient, database: Database, auth_header: AuthHeader, admin: dict[str, str]
) -> None:
    album_id = new_album(sql_client, admin)["id"]
    now = utcnow()
    with database.transaction() as session:
        session.execute(insert(User), [
            {"username": f"fan{i}", "email": f"fan{i}@example.com", "password_hash": "x",
             "first_name": "F", "role": "user", "created_at": now, "updated_at": now}
            for i in range(16)
        ])  # fmt: skip
        user_ids = list(session.scalars(select(User.id).where(User.username.startswith("fan"))))

    def like(user_id: int) -> int:
        response = sql_client.post(f"/albums/{album_id}/like", headers=auth_header(user_id))
        assert response.status_code == 200, response.text
        return response.json()["like_count"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(like, [*user_ids, *user_ids]))
    assert set(counts) == set(range(1, 17))
    shown = sql_client.get(f"/albums/{album_id}", headers=auth_header(user_ids[0])).json()
    assert (shown["like_count"], shown["liked_by_me"]) == (16, True)
