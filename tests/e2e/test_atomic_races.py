"""Read-then-write races over real HTTP, on each database the fleet runs on: the same
request sent by several clients at once must behave as if they came one by one
(API.md: refresh is one atomic step; like, unlike, link and unlink are idempotent;
a new link without a track number goes last)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.clients import (
    admin_headers,
    all_at_once,
    bearer,
    client,
    expect,
    log_in,
    refresh,
    sign_up,
)
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e

Job = Callable[[httpx.Client], httpx.Response]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


@pytest.fixture(scope="module")
def admin(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    return admin_headers(http, fleet)


def new_song(http: httpx.Client, fleet: Fleet, admin: dict[str, str], title: str) -> int:
    body = {"title": title, "artist": "Racer", "genre": "race", "file_url": "https://e.com/r.mp3"}
    return expect(http.post(f"{fleet.song}/songs", json=body, headers=admin), 201)["id"]


def new_album(http: httpx.Client, fleet: Fleet, admin: dict[str, str]) -> int:
    body = {"title": f"Race {uuid.uuid4().hex[:8]}", "artist": "Racer", "genre": "race"}
    return expect(http.post(f"{fleet.album}/albums", json=body, headers=admin), 201)["id"]


def server_errors(responses: list[httpx.Response]) -> list[tuple[str, int, str]]:
    return [
        (f"{r.request.method} {r.request.url.path}", r.status_code, r.text)
        for r in responses
        if r.status_code >= 500
    ]


def test_two_refreshes_with_one_token_at_once_both_get_working_pairs(
    http: httpx.Client, fleet: Fleet
) -> None:
    """Two tabs refreshing with the same token at the same moment: the second is a
    retry within the grace window, so both get a valid new pair and nothing is revoked."""
    account = sign_up(http, fleet)
    token = log_in(http, fleet, account.email, account.password)["refresh_token"]
    for attempt in range(12):
        first, second = all_at_once([lambda c, t=token: refresh(c, fleet, t)] * 2)
        statuses = [first.status_code, second.status_code]
        assert statuses == [200, 200], (attempt, first.text, second.text)
        pair = [first.json()["refresh_token"], second.json()["refresh_token"]]
        # Each returned refresh token works in turn (sequentially, so no grace is needed).
        following = [refresh(http, fleet, successor) for successor in pair]
        assert [r.status_code for r in following] == [200, 200], (
            attempt,
            [r.text for r in following],
        )
        token = following[0].json()["refresh_token"]


def test_one_user_liking_and_unliking_one_song_at_once_stays_consistent(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    account = sign_up(http, fleet)
    user = bearer(log_in(http, fleet, account.email, account.password)["auth_token"])
    song_id = new_song(http, fleet, admin, f"Liked {uuid.uuid4().hex[:8]}")
    like = f"{fleet.song}/songs/{song_id}/like"
    for round_ in range(8):
        # Mixed, and in a different order each round: 8 requests released together.
        jobs: list[Job] = [
            (lambda c: c.post(like, headers=user))
            if (i + round_) % 2 == 0
            else (lambda c: c.delete(like, headers=user))
            for i in range(8)
        ]
        responses = all_at_once(jobs)
        assert server_errors(responses) == []
        assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
        assert [r.json()["liked"] for r in responses] == [
            r.request.method == "POST" for r in responses
        ], round_

        song = expect(http.get(f"{fleet.song}/songs/{song_id}", headers=user), 200)
        liked = expect(http.get(f"{fleet.song}/songs/liked?limit=200", headers=user), 200)
        in_liked = song_id in [s["id"] for s in liked]
        assert song["like_count"] in (0, 1), (round_, song)
        assert song["liked_by_me"] is (song["like_count"] == 1), (round_, song)
        assert in_liked is song["liked_by_me"], (round_, song, liked)
        # Each answer is the state right after its own request, as if they had run one
        # after another: only this user likes the song, so a like says 1, an unlike 0.
        answers = [(r.request.method, r.json()["like_count"]) for r in responses]
        assert answers == [(m, int(m == "POST")) for m, _ in answers], (round_, answers)


def tracks(http: httpx.Client, fleet: Fleet, album_id: int, admin: dict[str, str]) -> list[Any]:
    return expect(http.get(f"{fleet.album}/albums/{album_id}/songs?limit=200", headers=admin), 200)


def test_linking_and_unlinking_one_pair_at_once_stays_consistent(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    album_id = new_album(http, fleet, admin)
    song_id = new_song(http, fleet, admin, "Linked")
    link = f"{fleet.album}/albums/{album_id}/songs/{song_id}"
    for round_ in range(12):
        jobs: list[Job] = [
            (lambda c: c.put(link, headers=admin))
            if (i + round_) % 2 == 0
            else (lambda c: c.delete(link, headers=admin))
            for i in range(9)
        ]
        responses = all_at_once(jobs)
        assert server_errors(responses) == []
        wanted = {"PUT": 200, "DELETE": 204}
        wrong = [
            (r.request.method, r.status_code, r.text)
            for r in responses
            if r.status_code != wanted[r.request.method]
        ]
        assert wrong == []

        # As if one after another: linked once as track 1 (the only song), or not at all.
        listed = [(t["id"], t["track_number"]) for t in tracks(http, fleet, album_id, admin)]
        assert listed in ([], [(song_id, 1)]), (round_, listed)
        by_filter = expect(http.get(f"{fleet.song}/songs?album_id={album_id}&limit=200"), 200)
        assert [(s["id"], 1) for s in by_filter] == listed, (round_, by_filter)
        # And so was every answer: the song is the album's only one, so track 1.
        numbers = [r.json()["track_number"] for r in responses if r.request.method == "PUT"]
        assert numbers == [1] * len(numbers), (round_, numbers)
        # Linking again is idempotent: exactly one link, track 1.
        expect(http.put(link, headers=admin), 200)
        again = [(t["id"], t["track_number"]) for t in tracks(http, fleet, album_id, admin)]
        assert again == [(song_id, 1)], round_


def test_linking_six_songs_at_once_numbers_them_one_to_six(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    for round_ in range(3):
        album_id = new_album(http, fleet, admin)
        song_ids = [new_song(http, fleet, admin, f"Track {i}") for i in range(6)]
        links = [f"{fleet.album}/albums/{album_id}/songs/{s}" for s in song_ids]
        jobs: list[Job] = [lambda c, link=link: c.put(link, headers=admin) for link in links]
        responses = all_at_once(jobs)
        assert server_errors(responses) == []
        assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
        answered = sorted(r.json()["track_number"] for r in responses)
        listed = tracks(http, fleet, album_id, admin)
        assert sorted(t["id"] for t in listed) == sorted(song_ids), (round_, listed)
        numbers = [t["track_number"] for t in listed]
        assert numbers == [1, 2, 3, 4, 5, 6], (round_, numbers)
        assert answered == [1, 2, 3, 4, 5, 6], (round_, answered)
