"""Listening history over real HTTP, on each database the fleet runs on (API.md,
Listening history): plays recorded with epoch milliseconds and ISO times, a
repeated play (also sent by several clients at once) counting once, history and
top songs across a period boundary; and the search finding what was played."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.clients import admin_headers, all_at_once, client, expect, new_user
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


@pytest.fixture(scope="module")
def admin(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    return admin_headers(http, fleet)


def new_song(http: httpx.Client, fleet: Fleet, admin: dict[str, str], title: str) -> int:
    body = {"title": title, "artist": "Listener", "genre": "Hörspiel",
            "file_url": "https://e.com/l.mp3"}  # fmt: skip
    return expect(http.post(f"{fleet.song}/songs", json=body, headers=admin), 201)["id"]


def every_page(http: httpx.Client, url: str, headers: dict[str, str]) -> list[Any]:
    """Follow `Link: rel="next"` to the end."""
    items: list[Any] = []
    next_url: str | None = url
    while next_url is not None:
        response = http.get(next_url, headers=headers)
        items += expect(response, 200)
        next_url = response.links.get("next", {}).get("url")
    return items


def as_ms(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def test_plays_history_and_top_songs_across_a_period_boundary(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    user = new_user(http, fleet)
    tag = uuid.uuid4().hex[:8]
    recent, older = (new_song(http, fleet, admin, f"{name} {tag}") for name in ("Recent", "Older"))
    now = datetime.now(UTC).replace(microsecond=0)
    six_days, eight_days = now - timedelta(days=6), now - timedelta(days=8)

    def play(song_id: int, body: dict[str, Any] | None) -> httpx.Response:
        return http.post(f"{fleet.song}/songs/{song_id}/plays", json=body, headers=user)

    # Epoch milliseconds, ISO with an offset, naive ISO (UTC), and no body (now).
    first = play(recent, {"played_at": as_ms(six_days)})
    assert first.status_code == 201, first.text
    assert first.json() == {
        "song_id": recent, "played_at": six_days.isoformat().replace("+00:00", "Z"),
        "play_count": 1,
    }  # fmt: skip
    # The same play again, in another form: 200, the same body, counted once.
    again = play(recent, {"played_at": six_days.isoformat()})
    assert (again.status_code, again.json()) == (200, first.json())
    in_berlin = (eight_days + timedelta(hours=2)).replace(tzinfo=None).isoformat() + "+02:00"
    expect(play(older, {"played_at": in_berlin}), 201)
    naive = (eight_days - timedelta(days=1)).replace(tzinfo=None).isoformat()
    expect(play(older, {"played_at": naive}), 201)
    expect(play(recent, None), 201)
    # Out of range: more than a day ahead, before 1970.
    assert play(recent, {"played_at": as_ms(now + timedelta(days=2))}).status_code == 422
    assert play(recent, {"played_at": "1969-07-20T20:17:00Z"}).status_code == 422

    week = expect(http.get(f"{fleet.song}/songs/top?period=week", headers=user), 200)
    assert [(song["id"], song["plays"]) for song in week] == [(recent, 2)]
    month = expect(http.get(f"{fleet.song}/songs/top?period=month", headers=user), 200)
    # Ties on the count by song id.
    assert [(song["id"], song["plays"]) for song in month] == [(recent, 2), (older, 2)]
    default = expect(http.get(f"{fleet.song}/songs/top", headers=user), 200)
    assert default == month
    assert every_page(http, f"{fleet.song}/songs/top?period=all&limit=1", user) == month

    history = every_page(http, f"{fleet.song}/songs/played?limit=1", user)
    assert [(song["id"], datetime.fromisoformat(song["played_at"])) for song in history][1:] == [
        (recent, six_days),
        (older, eight_days),
        (older, eight_days - timedelta(days=1)),
    ]
    assert history[0]["id"] == recent
    assert datetime.fromisoformat(history[0]["played_at"]) >= now

    song = expect(http.get(f"{fleet.song}/songs/{recent}", headers=user), 200)
    assert (song["play_count"], song["my_play_count"]) == (2, 2)
    assert song["last_played_at"] == history[0]["played_at"]
    stranger = expect(http.get(f"{fleet.song}/songs/{recent}", headers=new_user(http, fleet)), 200)
    assert (stranger["play_count"], stranger["my_play_count"], stranger["last_played_at"]) == (
        2, 0, None,
    )  # fmt: skip


def test_one_play_sent_by_several_clients_at_once_counts_once(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    user = new_user(http, fleet)
    song_id = new_song(http, fleet, admin, f"Raced {uuid.uuid4().hex[:8]}")
    url = f"{fleet.song}/songs/{song_id}/plays"
    for round_ in range(4):
        at = {"played_at": as_ms(datetime.now(UTC)) - round_ * 1000}
        responses = all_at_once([lambda c, at=at: c.post(url, json=at, headers=user)] * 6)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * 5 + [201], (round_, [r.text for r in responses])
        assert {r.json()["play_count"] for r in responses} == {round_ + 1}, round_
    song = expect(http.get(f"{fleet.song}/songs/{song_id}", headers=user), 200)
    assert (song["play_count"], song["my_play_count"]) == (4, 4)


def test_search_and_genres_see_the_catalogue(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:8]
    song_id = new_song(http, fleet, admin, f"Ärger {tag}")
    found = expect(http.get(f"{fleet.song}/search", params={"q": f"ARGER {tag}"}), 200)
    assert [song["id"] for song in found["songs"]] == [song_id]
    assert found["songs"][0]["my_play_count"] is None
    only = expect(
        http.get(f"{fleet.song}/search", params={"q": "listener", "types": "artist"}), 200
    )
    assert [artist["name"] for artist in only["artists"]] == ["Listener"]
    assert only["songs"] == [] and only["albums"] == []
    assert http.get(f"{fleet.song}/search", params={"types": "playlist"}).status_code == 422
    genres = every_page(http, f"{fleet.song}/genres?limit=200", {})
    assert "hörspiel" in [genre["name"].lower() for genre in genres]
