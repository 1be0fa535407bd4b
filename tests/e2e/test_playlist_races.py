"""Concurrent edits of one playlist over real HTTP, on each database the fleet runs
on (API.md, Playlists: "Concurrent edits of one playlist never lose an entry,
duplicate a position or leave a gap. Deleting a song removes its entries;
positions close up")."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.clients import admin_headers, all_at_once, client, expect, new_user
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e

CLIENTS = 8
STEPS = 6


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


@pytest.fixture(scope="module")
def admin(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    return admin_headers(http, fleet)


def new_songs(http: httpx.Client, fleet: Fleet, admin: dict[str, str], count: int) -> list[int]:
    stem = uuid.uuid4().hex[:8]
    return [
        expect(
            http.post(
                f"{fleet.song}/songs",
                json={"title": f"P{stem} {i}", "artist": "Racer", "genre": "race",
                      "file_url": "https://e.com/p.mp3", "duration": 60},
                headers=admin,
            ),
            201,
        )["id"]
        for i in range(count)
    ]  # fmt: skip


def entries(http: httpx.Client, fleet: Fleet, playlist_id: int, user: dict[str, str]) -> list[int]:
    """The song ids in order, read over every page, after checking that the
    positions are exactly 0..n-1."""
    rows: list[dict[str, Any]] = []
    url: str | None = f"{fleet.song}/playlists/{playlist_id}/songs?limit=200"
    while url:
        response = http.get(url, headers=user)
        rows += expect(response, 200)
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
    positions = [row["position"] for row in rows]
    assert positions == list(range(len(rows))), positions
    return [row["id"] for row in rows]


def server_errors(outcomes: list[list[tuple[str, int, str]]]) -> list[tuple[str, int, str]]:
    return [outcome for done in outcomes for outcome in done if outcome[1] >= 500]


def test_eight_clients_appending_moving_and_removing_lose_nothing(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    """Eight clients of the owner edit one playlist at once, six edits each:
    appends and inserts of songs no one else adds, moves and removals at
    positions that may or may not exist by then. Afterwards the positions are
    0..n-1, every entry is an initial one or an acknowledged insert, and exactly
    as many entries are gone as removals were acknowledged."""
    user = new_user(http, fleet)
    initial = new_songs(http, fleet, admin, 10)
    # One song per insert, so each acknowledged insert is recognisable afterwards.
    fresh = new_songs(http, fleet, admin, CLIENTS * STEPS)
    playlist = expect(
        http.post(
            f"{fleet.song}/playlists", json={"name": "Race", "song_ids": initial}, headers=user
        ),
        201,
    )
    url = f"{fleet.song}/playlists/{playlist['id']}/songs"

    def worker(index: int) -> Callable[[httpx.Client], list[tuple[str, int, str]]]:
        choice = random.Random(index)  # a fixed spread of edits per client

        def run(own: httpx.Client) -> list[tuple[str, int, str]]:
            done: list[tuple[str, int, str]] = []
            for step in range(STEPS):
                song = fresh[index * STEPS + step]
                kind = (index + step) % 4
                if kind == 0:
                    response = own.post(url, json={"song_ids": [song]}, headers=user)
                    done.append((f"add {song}", response.status_code, response.text))
                elif kind == 1:
                    body = {"song_ids": [song], "position": choice.randrange(8)}
                    response = own.post(url, json=body, headers=user)
                    done.append((f"add {song}", response.status_code, response.text))
                elif kind == 2:
                    response = own.delete(f"{url}/{choice.randrange(14)}", headers=user)
                    done.append(("remove", response.status_code, response.text))
                else:
                    body = {"from": choice.randrange(14), "to": choice.randrange(14)}
                    response = own.post(f"{url}/move", json=body, headers=user)
                    done.append(("move", response.status_code, response.text))
            return done

        return run

    outcomes = all_at_once([worker(i) for i in range(CLIENTS)])
    assert server_errors(outcomes) == []
    flat = [outcome for done in outcomes for outcome in done]
    # Everything else is a documented refusal that changes nothing: a position
    # that did not exist (yet, or any more) is 422 for an insert or move, 404 for
    # a removal.
    wanted = {"add": {200, 422}, "remove": {204, 404}, "move": {200, 422}}
    wrong = [o for o in flat if o[1] not in wanted[o[0].split()[0]]]
    assert wrong == []
    added = [int(op.split()[1]) for op, status, _ in flat if op.startswith("add") and status == 200]
    removals = sum(1 for op, status, _ in flat if op == "remove" and status == 204)
    assert added and removals, flat  # the race really mixed inserts and removals

    final = entries(http, fleet, playlist["id"], user)
    possible = Counter(initial) + Counter(added)
    assert not Counter(final) - possible, "an entry no acknowledged edit made"
    assert len(final) == len(initial) + len(added) - removals
    unacknowledged = set(fresh) - set(added)
    assert not unacknowledged & set(final), "a refused insert left an entry"
    read = expect(http.get(f"{fleet.song}/playlists/{playlist['id']}", headers=user), 200)
    assert read["song_count"] == len(final) and read["duration"] == 60 * len(final)


def test_deleting_a_song_while_clients_add_it_leaves_no_gap(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    """Owners of three playlists add a song at the front while an admin deletes
    it: every playlist ends contiguous, without the song, with its other entries."""
    owners = [new_user(http, fleet) for _ in range(3)]
    doomed, *kept = new_songs(http, fleet, admin, 4)
    playlists = [
        expect(
            http.post(
                f"{fleet.song}/playlists",
                json={"name": "Doomed", "song_ids": [doomed, *kept, doomed]},
                headers=owner,
            ),
            201,
        )["id"]
        for owner in owners
    ]

    def add(playlist_id: int, owner: dict[str, str]) -> Callable[[httpx.Client], httpx.Response]:
        body = {"song_ids": [doomed, kept[0]], "position": 0}
        return lambda own: own.post(
            f"{fleet.song}/playlists/{playlist_id}/songs", json=body, headers=owner
        )

    jobs = [add(p, o) for p, o in zip(playlists, owners, strict=True)] * 2
    jobs.append(lambda own: own.delete(f"{fleet.song}/songs/{doomed}", headers=admin))
    responses = all_at_once(jobs)
    statuses = [r.status_code for r in responses]
    assert statuses[-1] == 200, responses[-1].text
    assert set(statuses[:-1]) <= {200, 404}, [r.text for r in responses]
    for (playlist_id, owner), answers in zip(
        zip(playlists, owners, strict=True),
        zip(statuses[:3], statuses[3:6], strict=True),
        strict=True,
    ):
        final = entries(http, fleet, playlist_id, owner)
        assert doomed not in final
        # The kept songs once each, plus kept[0] once per insert that won the race.
        assert Counter(final) == Counter(kept) + Counter({kept[0]: answers.count(200)})
