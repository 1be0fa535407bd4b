"""The artists endpoints over HTTP: on the in-memory units (`client`) and on a
migrated SQLite file (`sql_client`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from album_service.tests.conftest import SongFactory
from album_service.tests.test_albums_api import follow
from common.paging import encode_cursor, keyset_cursor
from database import Database
from database.keyset import Sort
from database.memory import MemoryDatabase
from database.models import User
from database.types import utcnow

AuthHeader = Callable[..., dict[str, str]]
ARTIST_FIELDS = {
    "id", "name", "sort_name", "album_count", "song_count", "like_count", "liked_by_me",
    "cover", "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
def admin(auth_header: AuthHeader) -> dict[str, str]:
    return auth_header(1, "admin")


def new_artist(client: TestClient, admin: dict[str, str], name: str, **extra: Any) -> dict:
    response = client.post("/artists", json={"name": name, **extra}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def new_album(client: TestClient, admin: dict[str, str], artist: str, **extra: Any) -> dict:
    body = {"title": "album", "artist": artist, "genre": "rock", **extra}
    response = client.post("/albums", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


# Create, read, edit, delete ------------------------------------------------------


def test_create_and_read_an_artist(client: TestClient, admin: dict[str, str]) -> None:
    artist = new_artist(client, admin, "The Beatles", sort_name="Beatles, The", id=77)
    assert set(artist) == ARTIST_FIELDS
    assert artist["id"] != 77
    assert (artist["name"], artist["sort_name"]) == ("The Beatles", "Beatles, The")
    assert (artist["album_count"], artist["song_count"], artist["like_count"]) == (0, 0, 0)
    assert (artist["liked_by_me"], artist["cover"]) == (False, None)
    public = client.get(f"/artists/{artist['id']}")
    assert public.status_code == 200
    assert public.json() == artist | {"liked_by_me": None}
    assert new_artist(client, admin, "Solo")["sort_name"] == "Solo"
    assert client.get("/artists/999").json() == {"detail": "Artist not found"}
    assert client.get("/artists/999").status_code == 404
    assert client.get("/artists/0").status_code in (404, 422)


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": 5},
     {"name": "ok", "sort_name": ""}],
)  # fmt: skip
def test_bad_artist_bodies_are_422(client: TestClient, admin: dict[str, str], body: dict) -> None:
    assert client.post("/artists", json=body, headers=admin).status_code == 422


def test_writes_need_an_admin(client: TestClient, auth_header: AuthHeader) -> None:
    user = auth_header(5)
    assert client.post("/artists", json={"name": "x"}).status_code == 401
    assert client.post("/artists", json={"name": "x"}, headers=user).status_code == 403
    assert client.patch("/artists/1", json={"name": "x"}, headers=user).status_code == 403
    assert client.delete("/artists/1", headers=user).status_code == 403


def test_a_folded_duplicate_name_is_409(client: TestClient, admin: dict[str, str]) -> None:
    new_artist(client, admin, "Beyoncé")
    response = client.post("/artists", json={"name": "BEYONCE"}, headers=admin)
    assert response.status_code == 409
    assert response.json() == {"detail": "An artist with this name already exists"}


def test_patch_renames_and_refuses_a_taken_name(client: TestClient, admin: dict[str, str]) -> None:
    artist = new_artist(client, admin, "Prince")
    new_artist(client, admin, "Madonna")
    url = f"/artists/{artist['id']}"
    renamed = client.patch(url, json={"name": "The Artist"}, headers=admin)
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["sort_name"]) == ("The Artist", "The Artist")
    assert client.patch(url, json={"sort_name": "Artist"}, headers=admin).json()["sort_name"] == (
        "Artist"
    )
    assert client.patch(url, json={"sort_name": None}, headers=admin).json()["sort_name"] == (
        "The Artist"
    )
    assert client.patch(url, json={"name": None}, headers=admin).status_code == 422
    taken = client.patch(url, json={"name": "MADONNA"}, headers=admin)
    assert taken.status_code == 409
    assert client.get(url).json()["name"] == "The Artist"
    assert client.patch("/artists/999", json={"name": "x"}, headers=admin).status_code == 404
    assert [a["name"] for a in client.get("/artists", params={"q": "artist"}).json()] == [
        "The Artist"
    ]


def test_renaming_keeps_the_display_names_of_albums(
    client: TestClient, admin: dict[str, str]
) -> None:
    album = new_album(client, admin, "Prince")
    client.patch(f"/artists/{album['artist_id']}", json={"name": "Symbol"}, headers=admin)
    again = client.get(f"/albums/{album['id']}", headers=admin).json()
    assert (again["artist"], again["artist_id"]) == ("Prince", album["artist_id"])


def test_delete_is_409_while_albums_or_songs_name_the_artist(
    client: TestClient, admin: dict[str, str], add_song: SongFactory, memory_db: MemoryDatabase
) -> None:
    album = new_album(client, admin, "Named")
    url = f"/artists/{album['artist_id']}"
    refused = client.delete(url, headers=admin)
    assert refused.status_code == 409
    assert "albums or songs" in refused.json()["detail"]
    client.delete(f"/albums/{album['id']}", headers=admin)
    song_id = add_song("s", artist_id=album["artist_id"])
    assert client.delete(url, headers=admin).status_code == 409
    # Songs are song_service's; the fake's row goes as that service would delete it.
    memory_db.delete_song(song_id)
    deleted = client.delete(url, headers=admin)
    assert deleted.status_code == 200
    assert deleted.json() == {"detail": "Artist deleted"}
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=admin).status_code == 404


# Lists ------------------------------------------------------------------------------


def test_list_sorts_searches_and_pages(client: TestClient, admin: dict[str, str]) -> None:
    for name, sort_name in (("Zebra", None), ("The Beatles", "Beatles, The"), ("Ärger", None),
                            ("alpha", None)):  # fmt: skip
        new_artist(client, admin, name, sort_name=sort_name)
    by_name = follow(client, "/artists?sort=name&limit=1")
    assert [a["name"] for a in by_name] == ["alpha", "Ärger", "The Beatles", "Zebra"]
    assert {a["liked_by_me"] for a in by_name} == {None}
    newest = follow(client, "/artists?sort=-created_at&limit=3")
    assert [a["name"] for a in newest] == ["alpha", "Ärger", "The Beatles", "Zebra"]
    by_id = follow(client, "/artists?limit=3")
    assert [a["id"] for a in by_id] == sorted(a["id"] for a in by_name)
    first = client.get("/artists", params={"limit": 2})
    assert first.headers["Link"].endswith('>; rel="next"')
    assert "Link" not in client.get("/artists", params={"limit": 4}).headers
    assert [a["name"] for a in client.get("/artists", params={"q": "ARGER"}).json()] == ["Ärger"]
    assert [a["name"] for a in follow(client, "/artists?q=a&sort=-name&limit=1")] == [
        "Ärger",
        "alpha",
    ]
    assert client.get("/artists", params={"sort": "title"}).status_code == 422
    assert client.get("/artists", params={"limit": 201}).status_code == 422


def test_ranked_search_pages_with_its_own_cursor(client: TestClient, admin: dict[str, str]) -> None:
    for name in ("Love", "Courtney Love", "Love Songs", "Lovely", "Other"):
        new_artist(client, admin, name)
    ranked = follow(client, "/artists?q=love&limit=1")
    assert [a["name"] for a in ranked] == ["Love", "Love Songs", "Lovely", "Courtney Love"]
    cursor = keyset_cursor(Sort("name"), "love", 1)
    assert client.get("/artists", params={"q": "love", "cursor": cursor}).status_code == 422


def test_albums_and_songs_of_an_artist(
    client: TestClient, admin: dict[str, str], add_song: SongFactory
) -> None:
    old = new_album(client, admin, "Busy", title="old", release_date="1990-01-01",
                    cover_image_url="https://c.example/old.jpg")  # fmt: skip
    undated = new_album(client, admin, "Busy", title="undated")
    new = new_album(client, admin, "Busy", title="new", release_date="2001-05-01")
    artist_id = old["artist_id"]
    listed = follow(client, f"/artists/{artist_id}/albums?limit=1")
    assert [a["id"] for a in listed] == [new["id"], old["id"], undated["id"]]
    assert {a["liked_by_me"] for a in listed} == {None}
    for title in ("beta", "Alpha", "gamma"):
        add_song(title, artist_id=artist_id)
    add_song("aaa", artist_id=None)
    songs = follow(client, f"/artists/{artist_id}/songs?limit=2")
    assert [s["title"] for s in songs] == ["Alpha", "beta", "gamma"]
    artist = client.get(f"/artists/{artist_id}").json()
    assert (artist["album_count"], artist["song_count"]) == (3, 3)
    assert artist["cover"] == "https://c.example/old.jpg"
    assert client.get("/artists/999/albums").status_code == 404
    assert client.get("/artists/999/songs").status_code == 404
    for cursor in ("%%", keyset_cursor(Sort("id"), 1, 1), encode_cursor({"sort": "-release_date",
                   "value": "not a date", "id": 1})):  # fmt: skip
        response = client.get(f"/artists/{artist_id}/albums", params={"cursor": cursor})
        assert response.status_code == 422
    bad_song_cursor = keyset_cursor(Sort("id"), 1, 1)
    response = client.get(f"/artists/{artist_id}/songs", params={"cursor": bad_song_cursor})
    assert response.status_code == 422


# Likes ------------------------------------------------------------------------------


def test_like_flow_and_liked_list(
    client: TestClient, admin: dict[str, str], auth_header: AuthHeader, add_user
) -> None:
    ids = [new_artist(client, admin, name)["id"] for name in ("a", "b", "c")]
    user = auth_header(add_user())
    for artist_id in ids:
        liked = client.post(f"/artists/{artist_id}/like", headers=user)
        assert liked.json() == {"artist_id": artist_id, "liked": True, "like_count": 1}
    assert client.post(f"/artists/{ids[0]}/like", headers=user).json()["like_count"] == 1
    assert client.get(f"/artists/{ids[0]}", headers=user).json()["liked_by_me"] is True
    assert client.get(f"/artists/{ids[0]}").json()["liked_by_me"] is None
    mine = follow(client, "/artists/liked?limit=2", headers=user)
    assert [a["id"] for a in mine] == ids[::-1]
    assert all(a["liked_by_me"] is True and "liked_at" in a for a in mine)
    unliked = client.delete(f"/artists/{ids[1]}/like", headers=user)
    assert unliked.json() == {"artist_id": ids[1], "liked": False, "like_count": 0}
    assert client.delete(f"/artists/{ids[1]}/like", headers=user).json()["like_count"] == 0
    assert [a["id"] for a in client.get("/artists/liked", headers=user).json()] == [
        ids[2], ids[0],
    ]  # fmt: skip
    assert client.post("/artists/999/like", headers=user).status_code == 404
    assert client.delete("/artists/999/like", headers=user).status_code == 404
    assert client.post(f"/artists/{ids[0]}/like").status_code == 401
    assert client.get("/artists/liked").status_code == 401
    assert client.get("/artists/liked", params={"cursor": "%%"}, headers=user).status_code == 422
    # An account deleted after its token was issued cannot like.
    assert client.post(f"/artists/{ids[0]}/like", headers=auth_header(999)).status_code == 401


# On SQLite ----------------------------------------------------------------------------


def test_sql_backed_artists_flow(sql_client: TestClient, admin: dict[str, str]) -> None:
    artist = new_artist(sql_client, admin, "Die Ärzte")
    album = new_album(sql_client, admin, "DIE ÄRZTE", cover_image_url="https://c.example/a.jpg",
                      release_date="1998-01-01")  # fmt: skip
    assert album["artist_id"] == artist["id"]
    again = sql_client.get(f"/artists/{artist['id']}").json()
    assert (again["album_count"], again["cover"], again["liked_by_me"]) == (
        1, "https://c.example/a.jpg", None,
    )  # fmt: skip
    assert sql_client.post("/artists", json={"name": "die arzte"}, headers=admin).status_code == 409
    assert [a["name"] for a in sql_client.get("/artists", params={"q": "arzte"}).json()] == [
        "Die Ärzte"
    ]
    assert [a["name"] for a in follow(sql_client, "/artists?sort=name&limit=1")] == ["Die Ärzte"]
    url = f"/artists/{artist['id']}"
    assert sql_client.delete(url, headers=admin).status_code == 409
    assert sql_client.get(f"{url}/albums").json()[0]["id"] == album["id"]
    assert sql_client.get(f"{url}/songs").json() == []
    assert sql_client.delete(f"/albums/{album['id']}", headers=admin).status_code == 200
    assert sql_client.post(f"{url}/like", headers=admin).json()["like_count"] == 1
    assert sql_client.get("/artists/liked", headers=admin).json()[0]["id"] == artist["id"]
    assert sql_client.delete(url, headers=admin).json() == {"detail": "Artist deleted"}
    assert sql_client.get("/artists/liked", headers=admin).json() == []
    assert sql_client.get(url).status_code == 404


def test_concurrent_artist_likes_on_sqlite_are_counted_exactly(
    sql_client: TestClient, database: Database, auth_header: AuthHeader, admin: dict[str, str]
) -> None:
    artist_id = new_artist(sql_client, admin, "Popular")["id"]
    now = utcnow()
    with database.transaction() as session:
        session.execute(insert(User), [
            {"username": f"fan{i}", "email": f"fan{i}@example.com", "password_hash": "x",
             "first_name": "F", "role": "user", "created_at": now, "updated_at": now}
            for i in range(16)
        ])  # fmt: skip
        user_ids = list(session.scalars(select(User.id).where(User.username.startswith("fan"))))

    def like(user_id: int) -> int:
        response = sql_client.post(f"/artists/{artist_id}/like", headers=auth_header(user_id))
        assert response.status_code == 200, response.text
        return response.json()["like_count"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(like, [*user_ids, *user_ids]))
    assert set(counts) == set(range(1, 17))
    assert sql_client.get(f"/artists/{artist_id}").json()["like_count"] == 16
