"""Likes of albums and artists over real HTTP, on each database the fleet runs on:
many clients liking (then unliking) one album and one artist at the same moment
leave exact counts, and each answer is the count right after its own request, as
if the requests had come one by one (API.md, Artists: "idempotent, like songs")."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.clients import admin_headers, all_at_once, client, expect, new_user
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e

FANS = 20
Job = Callable[[httpx.Client], httpx.Response]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


def test_many_fans_liking_one_album_and_one_artist_at_once_are_counted_exactly(
    http: httpx.Client, fleet: Fleet
) -> None:
    admin = admin_headers(http, fleet)
    artist_name = f"Crowd {uuid.uuid4().hex[:8]}"
    artist = expect(http.post(f"{fleet.album}/artists", json={"name": artist_name},
                              headers=admin), 201)  # fmt: skip
    body = {"title": f"Crowded {uuid.uuid4().hex[:8]}", "artist": artist_name, "genre": "race"}
    album = expect(http.post(f"{fleet.album}/albums", json=body, headers=admin), 201)
    assert album["artist_id"] == artist["id"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        fans = list(pool.map(lambda _: new_user(http, fleet), range(FANS)))
    album_like = f"{fleet.album}/albums/{album['id']}/like"
    artist_like = f"{fleet.album}/artists/{artist['id']}/like"

    def released(method: str) -> list[httpx.Response]:
        """Every fan sends `method` to the album and to the artist, all at once."""
        jobs: list[Job] = [
            (lambda c, url=url, fan=fan: c.request(method, url, headers=fan))
            for fan in fans
            for url in (album_like, artist_like)
        ]
        responses = all_at_once(jobs)
        wrong = [(r.request.url.path, r.status_code, r.text) for r in responses
                 if r.status_code != 200]  # fmt: skip
        assert wrong == []
        return responses

    def answers(responses: list[httpx.Response], path: str) -> list[int]:
        return [r.json()["like_count"] for r in responses if r.request.url.path == path]

    liked = released("POST")
    # One after another, the n-th new like answers n: every count from 1 to FANS once.
    for url in (album_like, artist_like):
        assert sorted(answers(liked, httpx.URL(url).path)) == list(range(1, FANS + 1)), url
    assert {r.json()["liked"] for r in liked} == {True}
    # Liking again changes nothing.
    again = expect(http.post(album_like, headers=fans[0]), 200)
    assert again == {"album_id": album["id"], "liked": True, "like_count": FANS}
    shown_album = expect(http.get(f"{fleet.album}/albums/{album['id']}", headers=fans[1]), 200)
    assert (shown_album["like_count"], shown_album["liked_by_me"]) == (FANS, True)
    shown_artist = expect(http.get(f"{fleet.album}/artists/{artist['id']}", headers=fans[2]), 200)
    assert (shown_artist["like_count"], shown_artist["liked_by_me"]) == (FANS, True)
    assert shown_artist["album_count"] == 1
    for kind, own_id in (("albums", album["id"]), ("artists", artist["id"])):
        mine = expect(http.get(f"{fleet.album}/{kind}/liked", headers=fans[3]), 200)
        assert [row["id"] for row in mine] == [own_id]

    unliked = released("DELETE")
    for url in (album_like, artist_like):
        assert sorted(answers(unliked, httpx.URL(url).path)) == list(range(FANS)), url
    assert {r.json()["liked"] for r in unliked} == {False}
    public_album = [
        a
        for a in expect(http.get(f"{fleet.album}/albums", params={"q": body["title"]}), 200)
        if a["id"] == album["id"]
    ]  # fmt: skip
    assert [(a["like_count"], a["liked_by_me"]) for a in public_album] == [(0, None)]
    shown_artist = expect(http.get(f"{fleet.album}/artists/{artist['id']}"), 200)
    assert (shown_artist["like_count"], shown_artist["liked_by_me"]) == (0, None)
    assert expect(http.get(f"{fleet.album}/artists/liked", headers=fans[3]), 200) == []

    # The artist cannot go while its album names it; once the album is gone it can.
    refused = http.delete(f"{fleet.album}/artists/{artist['id']}", headers=admin)
    assert refused.status_code == 409, refused.text
    expect(http.delete(f"{fleet.album}/albums/{album['id']}", headers=admin), 200)
    deleted = expect(http.delete(f"{fleet.album}/artists/{artist['id']}", headers=admin), 200)
    assert deleted == {"detail": "Artist deleted"}
