"""Concurrent writers over real HTTP, on each database the fleet runs on:
uniqueness races, exact counters, and all four services writing at once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.clients import admin_headers, all_at_once, new_user, sign_up_body
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def admin(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    return admin_headers(http, fleet)


def test_thirty_simultaneous_sign_ups_with_one_email_make_one_account(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    jobs = [
        lambda c, i=i: c.post(
            f"{fleet.user}/users", json=sign_up_body(f"racer{i}x{email[5:13]}", email)
        )
        for i in range(30)
    ]
    responses = all_at_once(jobs)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 29, [r.text for r in responses if r.status_code >= 500]
    found = http.get(f"{fleet.user}/users/email/{email}", headers=admin)
    assert found.status_code == 200


def test_many_users_liking_one_song_at_once_are_counted_exactly(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    song = http.post(
        f"{fleet.song}/songs",
        json={"title": "Popular", "artist": "Crowd", "genre": "pop", "file_url": "/p.mp3"},
        headers=admin,
    )
    assert song.status_code == 201, song.text
    song_id = song.json()["id"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        fans = list(pool.map(lambda _: new_user(http, fleet), range(20)))
    like = f"{fleet.song}/songs/{song_id}/like"
    # Every fan likes twice and a quarter of them unlike again, all at once.
    jobs: list[Callable[[httpx.Client], httpx.Response]] = [
        *(lambda c, h=h: c.post(like, headers=h) for h in fans),
        *(lambda c, h=h: c.post(like, headers=h) for h in fans),
    ]
    assert {r.status_code for r in all_at_once(jobs)} == {200}
    assert {r.status_code for r in all_at_once([lambda c, h=h: c.delete(like, headers=h)
                                                 for h in fans[:5]])} == {200}  # fmt: skip
    final = http.get(f"{fleet.song}/songs/{song_id}", headers=admin).json()
    assert final["like_count"] == 15


def test_all_four_services_writing_at_once_lose_nothing(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    user = new_user(http, fleet)
    tag = uuid.uuid4().hex[:8]

    def sign_up(c: httpx.Client, i: int) -> httpx.Response:
        return c.post(f"{fleet.user}/users", json=sign_up_body(f"mix{tag}{i}"))

    def log_in(c: httpx.Client) -> httpx.Response:
        return c.post(
            f"{fleet.auth}/auth/login",
            json={"email": fleet.admin_email, "password": fleet.admin_password},
        )

    def add_album(c: httpx.Client, i: int) -> httpx.Response:
        body = {"title": f"Mixed {i}", "artist": "Mix", "genre": f"mix-{tag}"}
        return c.post(f"{fleet.album}/albums", json=body, headers=admin)

    def add_song(c: httpx.Client, i: int) -> httpx.Response:
        body = {"title": f"Mixed {i}", "artist": "Mix", "genre": f"mix-{tag}", "file_url": "/m"}
        return c.post(f"{fleet.song}/songs", json=body, headers=admin)

    jobs: list[Callable[[httpx.Client], httpx.Response]] = []
    for i in range(6):
        jobs += [
            lambda c, i=i: sign_up(c, i),
            log_in,
            lambda c, i=i: add_album(c, i),
            lambda c, i=i: add_song(c, i),
        ]
    responses = all_at_once(jobs)
    failures = [(r.request.url, r.status_code, r.text) for r in responses if r.status_code >= 300]
    assert failures == []

    # Then link and like across services, again all at once.
    albums = http.get(f"{fleet.album}/albums?genre=mix-{tag}&limit=200").json()
    songs = http.get(f"{fleet.song}/songs?genre=mix-{tag}&limit=200").json()
    assert (len(albums), len(songs)) == (6, 6)
    second: list[Callable[[httpx.Client], httpx.Response]] = []
    for album, song in zip(albums, songs, strict=True):
        link = f"{fleet.album}/albums/{album['id']}/songs/{song['id']}"
        second += [
            lambda c, link=link: c.put(link, json={"track_number": 1}, headers=admin),
            lambda c, s=song: c.post(f"{fleet.song}/songs/{s['id']}/like", headers=user),
        ]
    assert [r.status_code for r in all_at_once(second)] == [200] * len(second)
    for album, song in zip(albums, songs, strict=True):
        tracks = http.get(f"{fleet.album}/albums/{album['id']}/songs", headers=user).json()
        assert [t["id"] for t in tracks] == [song["id"]]
    liked = http.get(f"{fleet.song}/songs/liked?limit=200", headers=user).json()
    assert sorted(s["id"] for s in liked) == sorted(s["id"] for s in songs)
    users = [r for r in responses if r.request.url.path == "/users"]
    for response in users:
        found = http.get(f"{fleet.user}/users/{response.json()['id']}", headers=admin)
        assert found.status_code == 200
