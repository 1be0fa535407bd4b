from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from database import Database
from database.models import User
from database.types import utcnow
from song_service.tests.conftest import song

AuthHeader = Callable[..., dict[str, str]]
SONG_FIELDS = {
    "id", "title", "artist", "artist_id", "genre", "file_url", "duration", "description",
    "cover_image_url", "release_date", "created_at", "updated_at", "like_count", "liked_by_me",
    "play_count", "my_play_count", "last_played_at", "media",
}  # fmt: skip


def create(client: TestClient, auth_header: AuthHeader, **fields: Any) -> dict[str, Any]:
    response = client.post("/songs", json=song(**fields), headers=auth_header(1, "admin"))
    assert response.status_code == 201, response.text
    return response.json()


def follow(client: TestClient, url: str, headers: dict[str, str] | None = None) -> list[dict]:
    items: list[dict] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url, headers=headers or {})
        assert response.status_code == 200, response.text
        items += response.json()
        link = response.headers.get("Link")
        next_url = link[1 : link.index(">")] if link else None
    return items


def test_admin_creates_and_anyone_browses(client: TestClient, auth_header: AuthHeader) -> None:
    created = create(client, auth_header, release_date="1999-12-31", duration=180)
    assert set(created) == SONG_FIELDS
    assert created["release_date"] == "1999-12-31"
    listed = client.get("/songs")
    assert listed.status_code == 200
    assert listed.json() == [created]


def test_access_levels(client: TestClient, auth_header: AuthHeader) -> None:
    song_id = create(client, auth_header)["id"]
    user = auth_header(2)
    assert client.get(f"/songs/{song_id}").status_code == 401
    assert client.get(f"/songs/{song_id}", headers=user).status_code == 200
    assert client.post("/songs", json=song(), headers=user).status_code == 403
    assert client.patch(f"/songs/{song_id}", json={"title": "x"}, headers=user).status_code == 403
    assert client.delete(f"/songs/{song_id}", headers=user).status_code == 403
    assert client.get("/songs", headers={"Authorization": "Bearer garbage"}).status_code == 401


@pytest.mark.parametrize(
    "fields",
    [
        {"title": ""}, {"title": "x" * 101}, {"artist": "x" * 101}, {"genre": "x" * 51},
        {"file_url": "x" * 256}, {"duration": -1}, {"description": "x" * 501},
        {"cover_image_url": "x" * 256}, {"release_date": "not-a-date"}, {"title": None},
    ],
)  # fmt: skip
def test_invalid_songs_are_422(client: TestClient, auth_header: AuthHeader, fields: dict) -> None:
    response = client.post("/songs", json=song(**fields), headers=auth_header(1, "admin"))
    assert response.status_code == 422


def test_server_sets_ids_and_timestamps(client: TestClient, auth_header: AuthHeader) -> None:
    created = create(client, auth_header, id=777, created_at="2000-01-01T00:00:00Z")
    assert created["id"] != 777 and not created["created_at"].startswith("2000")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_partial_update(client: TestClient, auth_header: AuthHeader, method: str) -> None:
    created = create(client, auth_header, description="keep me")
    response = client.request(
        method, f"/songs/{created['id']}", json={"title": "New"}, headers=auth_header(1, "admin")
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["description"]) == ("New", "keep me")
    null = client.patch(
        f"/songs/{created['id']}", json={"genre": None}, headers=auth_header(1, "admin")
    )
    assert null.status_code == 422


@pytest.mark.parametrize(
    "query",
    ["sort=bogus", "sort=password", "limit=201", "limit=0", "offset=-5", "cursor=!!!",
     "cursor=eyJzb3J0IjoiaWQifQ", "album_id=0", "album_id=99999999999999999999", "q=" + "x" * 101],
)  # fmt: skip
def test_bad_browse_parameters_are_422(client: TestClient, query: str) -> None:
    assert client.get(f"/songs?{query}").status_code == 422


@pytest.mark.parametrize("sort", ["id", "-id", "title", "-title", "artist", "-created_at"])
def test_following_links_visits_every_song_once(
    client: TestClient, auth_header: AuthHeader, sort: str
) -> None:
    for i in range(11):
        create(client, auth_header, title=f"t{i % 4}", artist=f"a{i % 3}")
    seen = follow(client, f"/songs?limit=3&sort={sort}")
    assert len(seen) == 11
    assert len({item["id"] for item in seen}) == 11
    everything = client.get(f"/songs?limit=200&sort={sort}").json()
    assert [item["id"] for item in seen] == [item["id"] for item in everything]


def test_search_matches_wildcards_literally(client: TestClient, auth_header: AuthHeader) -> None:
    create(client, auth_header, title="100% Pure")
    create(client, auth_header, title="1000 Pure")
    create(client, auth_header, title="snake_case")
    create(client, auth_header, title="snakeXcase")

    def found(q: str) -> list[str]:
        return [s["title"] for s in client.get("/songs", params={"q": q}).json()]

    # Ranked: the title prefix first, then the word match ("1000" starts with "100").
    assert found("100%") == ["100% Pure", "1000 Pure"]
    assert found("1%0") == []  # "%" is no wildcard
    assert found("snake_c") == ["snake_case"]  # nor "_": "snakeXcase" is one word
    assert found("_") == []


def test_like_flow_and_liked_list(client: TestClient, auth_header: AuthHeader, add_user) -> None:
    song_id = create(client, auth_header)["id"]
    user = auth_header(add_user())
    liked = client.post(f"/songs/{song_id}/like", headers=user)
    assert liked.json() == {"song_id": song_id, "liked": True, "like_count": 1}
    assert client.get(f"/songs/{song_id}", headers=user).json()["liked_by_me"] is True
    assert [s["id"] for s in client.get("/songs/liked", headers=user).json()] == [song_id]
    assert client.get("/songs", headers=user).json()[0]["liked_by_me"] is True
    unliked = client.delete(f"/songs/{song_id}/like", headers=user)
    assert unliked.json() == {"song_id": song_id, "liked": False, "like_count": 0}
    assert client.post("/songs/999/like", headers=user).status_code == 404


def test_delete_song(client: TestClient, auth_header: AuthHeader) -> None:
    song_id = create(client, auth_header)["id"]
    response = client.delete(f"/songs/{song_id}", headers=auth_header(1, "admin"))
    assert response.json() == {"detail": "Song deleted successfully"}
    assert client.get(f"/songs/{song_id}", headers=auth_header(1)).status_code == 404


def test_concurrent_likes_on_sqlite_are_counted_exactly(
    sql_client: TestClient, database: Database, auth_header: AuthHeader
) -> None:
    song_id = create(sql_client, auth_header)["id"]
    now = utcnow()
    with database.transaction() as session:
        session.execute(insert(User), [
            {"username": f"fan{i}", "email": f"fan{i}@example.com", "password_hash": "x",
             "first_name": "F", "role": "user", "created_at": now, "updated_at": now}
            for i in range(24)
        ])  # fmt: skip
        # Not 1..24: minting the admin token above made a users row of its own.
        user_ids = list(session.scalars(select(User.id).where(User.username.startswith("fan"))))
    assert len(user_ids) == 24

    def like(user_id: int) -> int:
        return sql_client.post(f"/songs/{song_id}/like", headers=auth_header(user_id)).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(like, [*user_ids, *user_ids]))  # every user twice
    assert set(statuses) == {200}
    assert sql_client.get(f"/songs/{song_id}", headers=auth_header(1)).json()["like_count"] == 24
