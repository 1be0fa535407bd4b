"""Listening history over HTTP (API.md, Listening history): recording plays with
every accepted time form, idempotence, the 422s, history and top songs across a
period boundary, and the play state every song response carries."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from database import Database
from database.models import User
from database.types import utcnow
from song_service.tests.conftest import song
from song_service.tests.test_songs_api import SONG_FIELDS, follow

AuthHeader = Callable[..., dict[str, str]]
# 2026-01-17T10:00:00Z
EPOCH_MS = 1_768_644_000_000


def create(client: TestClient, auth_header: AuthHeader, **fields: Any) -> int:
    response = client.post("/songs", json=song(**fields), headers=auth_header(1, "admin"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def play(client: TestClient, song_id: int, headers: dict[str, str], played_at: Any = None) -> Any:
    body = None if played_at is None else {"played_at": played_at}
    return client.post(f"/songs/{song_id}/plays", json=body, headers=headers)


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_play_is_recorded_once_per_time_in_any_form(
    client: TestClient, auth_header: AuthHeader, add_user: Callable[[], int]
) -> None:
    song_id = create(client, auth_header)
    user = auth_header(add_user())
    first = play(client, song_id, user, EPOCH_MS)
    assert first.status_code == 201
    assert first.json() == {
        "song_id": song_id, "played_at": "2026-01-17T10:00:00Z", "play_count": 1,
    }  # fmt: skip
    # The same instant again, as epoch ms, as ISO with Z, naive (UTC), another offset.
    same = (EPOCH_MS, "2026-01-17T10:00:00Z", "2026-01-17T10:00:00", "2026-01-17T12:00:00+02:00")
    for again in same:
        response = play(client, song_id, user, again)
        assert (response.status_code, response.json()) == (200, first.json())
    # A millisecond later is another play.
    later = play(client, song_id, user, EPOCH_MS + 1)
    assert later.status_code == 201
    assert when(later.json()["played_at"]) == when("2026-01-17T10:00:00.001+00:00")
    assert later.json()["play_count"] == 2
    # Without a body: now.
    before = datetime.now(UTC)
    now = play(client, song_id, user)
    assert now.status_code == 201
    assert before <= when(now.json()["played_at"]) <= datetime.now(UTC)
    assert client.post(f"/songs/{song_id}/plays", headers=user).status_code == 201
    # Another user's play of the same instant is theirs: the count is everyone's.
    other = play(client, song_id, auth_header(add_user()), EPOCH_MS)
    assert (other.status_code, other.json()["play_count"]) == (201, 5)


@pytest.mark.parametrize(
    "played_at",
    [
        -1,
        "1969-12-31T23:59:59Z",
        "1969-12-31T23:59:59.999999Z",
        10**30,
        True,
        1.5,
        "yesterday",
        "",
        [],
        {"ms": 1},
    ],
)
def test_a_play_time_out_of_range_or_not_a_time_is_a_422(
    client: TestClient, auth_header: AuthHeader, add_user: Callable[[], int], played_at: Any
) -> None:
    song_id = create(client, auth_header)
    response = play(client, song_id, auth_header(add_user()), played_at)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == "played_at"


def test_a_play_more_than_a_day_ahead_is_a_422_and_within_a_day_is_fine(
    client: TestClient, auth_header: AuthHeader, add_user: Callable[[], int]
) -> None:
    song_id = create(client, auth_header)
    user = auth_header(add_user())
    assert play(client, song_id, user, ago(hours=-25)).status_code == 422
    future_ms = int((datetime.now(UTC) + timedelta(hours=25)).timestamp() * 1000)
    assert play(client, song_id, user, future_ms).status_code == 422
    assert play(client, song_id, user, ago(hours=-23)).status_code == 201
    assert play(client, song_id, user, 0).status_code == 201  # 1970 itself is fine


def test_play_errors(
    client: TestClient, auth_header: AuthHeader, add_user: Callable[[], int]
) -> None:
    song_id = create(client, auth_header)
    user = auth_header(add_user())
    assert play(client, 999, user).status_code == 404
    assert client.post(f"/songs/{song_id}/plays").status_code == 401
    gone = play(client, song_id, auth_header(12345))  # a token whose account is gone
    assert gone.status_code == 401
    assert gone.json() == {"detail": "Account no longer exists"}
    assert client.post("/songs/0/plays", headers=user).status_code in (404, 422)
    assert client.get("/songs/played").status_code == 401
    assert client.get("/songs/top").status_code == 401


def test_every_song_response_carries_the_play_state(
    client: TestClient, auth_header: AuthHeader, add_user: Callable[[], int]
) -> None:
    song_id = create(client, auth_header)
    alice, bob = auth_header(add_user()), auth_header(add_user())
    play(client, song_id, alice, EPOCH_MS)
    play(client, song_id, alice, EPOCH_MS - 60_000)
    play(client, song_id, bob, EPOCH_MS + 5)
    mine = client.get(f"/songs/{song_id}", headers=alice).json()
    assert set(mine) == SONG_FIELDS
    assert (mine["play_count"], mine["my_play_count"]) == (3, 2)
    assert mine["last_played_at"] == "2026-01-17T10:00:00Z"
    listed = client.get("/songs").json()[0]  # anonymous
    assert (listed["play_count"], listed["my_play_count"], listed["last_played_at"]) == (
        3, None, None,
    )  # fmt: skip
    carol = auth_header(add_user())
    theirs = client.get("/songs", headers=carol).json()[0]
    assert (theirs["play_count"], theirs["my_play_count"], theirs["last_played_at"]) == (
        3, 0, None,
    )  # fmt: skip
    assert client.get("/songs", params={"q": "song"}, headers=alice).json()[0]["my_play_count"] == 2
    client.post(f"/songs/{song_id}/like", headers=alice)
    liked = client.get("/songs/liked", headers=alice).json()[0]
    assert (liked["play_count"], liked["my_play_count"]) == (3, 2)
    assert liked["last_played_at"] == "2026-01-17T10:00:00Z"
    updated = client.patch(
        f"/songs/{song_id}", json={"title": "New"}, headers=auth_header(1, "admin")
    ).json()
    assert updated["play_count"] == 3
    created = client.post("/songs", json=song(), headers=auth_header(1, "admin")).json()
    assert (created["play_count"], created["last_played_at"]) == (0, None)


def test_history_is_newest_first_and_paged(
    client: TestClient, auth_header: AuthHeader, add_user: Callable[[], int]
) -> None:
    first, second = create(client, auth_header, title="A"), create(client, auth_header, title="B")
    alice = auth_header(add_user())
    play(client, first, alice, EPOCH_MS)
    play(client, second, alice, EPOCH_MS)  # the same time: ties by song id, descending
    play(client, first, alice, EPOCH_MS + 1000)
    play(client, second, alice, EPOCH_MS - 1000)
    play(client, first, auth_header(add_user()), EPOCH_MS + 5000)  # someone else's
    page = client.get("/songs/played", params={"limit": 3}, headers=alice)
    assert page.status_code == 200
    assert 'rel="next"' in page.headers["Link"]
    history = follow(client, "/songs/played?limit=1", alice)
    assert [(item["id"], item["played_at"]) for item in history] == [
        (first, "2026-01-17T10:00:01Z"),
        (second, "2026-01-17T10:00:00Z"),
        (first, "2026-01-17T10:00:00Z"),
        (second, "2026-01-17T09:59:59Z"),
    ]
    assert set(history[0]) == SONG_FIELDS | {"played_at"}
    assert history[0]["my_play_count"] == 2 and history[0]["play_count"] == 3
    assert client.get("/songs/played", headers=auth_header(add_user())).json() == []
    assert client.get("/songs/played", params={"cursor": "bad!"}, headers=alice).status_code == 422


def test_top_songs_count_plays_in_a_rolling_period(
    client: TestClient, auth_header: AuthHeader, add_user: Callable[[], int]
) -> None:
    week_song, month_song, old_song = (
        create(client, auth_header, title=title) for title in ("W", "M", "O")
    )
    alice = auth_header(add_user())
    for days in (1, 2, 6):
        play(client, week_song, alice, ago(days=days))
    for days in (8, 9, 10, 20):  # 8 days ago is outside the week
        play(client, month_song, alice, ago(days=days))
    for days in (40, 400, 401, 402, 403, 404):
        play(client, old_song, alice, ago(days=days))
    play(client, old_song, auth_header(add_user()), ago(days=1))  # someone else's

    def top(period: str | None) -> list[tuple[int, int]]:
        params = {} if period is None else {"period": period}
        response = client.get("/songs/top", params=params, headers=alice)
        assert response.status_code == 200, response.text
        return [(item["id"], item["plays"]) for item in response.json()]

    assert top("week") == [(week_song, 3)]
    assert top("month") == [(month_song, 4), (week_song, 3)]
    assert top(None) == top("month")
    assert top("year") == [(month_song, 4), (week_song, 3), (old_song, 1)]
    assert top("all") == [(old_song, 6), (month_song, 4), (week_song, 3)]
    paged = follow(client, "/songs/top?period=all&limit=1", alice)
    assert [(item["id"], item["plays"]) for item in paged] == top("all")
    assert paged[0]["my_play_count"] == 6 and paged[0]["play_count"] == 7
    offset = client.get("/songs/top", params={"period": "all", "offset": 1}, headers=alice)
    assert [item["id"] for item in offset.json()] == [month_song, week_song]
    assert client.get("/songs/top", params={"period": "day"}, headers=alice).status_code == 422
    assert client.get("/songs/top", params={"limit": 201}, headers=alice).status_code == 422


def test_racing_requests_for_one_play_record_it_once_on_sqlite(
    sql_client: TestClient, database: Database, auth_header: AuthHeader
) -> None:
    song_id = create(sql_client, auth_header)
    now = utcnow()
    with database.transaction() as session:
        session.execute(insert(User), [
            {"username": "listener", "email": "listener@example.com", "password_hash": "x",
             "first_name": "L", "role": "user", "created_at": now, "updated_at": now},
        ])  # fmt: skip
        user_id = session.scalar(select(User.id).where(User.username == "listener"))
    user = auth_header(user_id)

    def record(_: int) -> tuple[int, int]:
        response = play(sql_client, song_id, user, EPOCH_MS)
        return response.status_code, response.json()["play_count"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(record, range(16)))
    assert sorted(status for status, _ in results) == [200] * 15 + [201]
    assert {count for _, count in results} == {1}
    seen = sql_client.get(f"/songs/{song_id}", headers=user).json()
    assert (seen["play_count"], seen["my_play_count"]) == (1, 1)
    assert seen["last_played_at"] == "2026-01-17T10:00:00Z"
    history = sql_client.get("/songs/played", headers=user).json()
    assert [(item["id"], item["played_at"]) for item in history] == [
        (song_id, "2026-01-17T10:00:00Z")
    ]
