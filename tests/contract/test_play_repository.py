"""What every PlayRepository must do, asserted identically on each backend:
idempotent plays (also when threads race the same play), the history's order and
keyset pages, top songs across a period boundary, and the play state of views."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from common.errors import AccountGoneError
from database.keyset import After
from song_service.repos.base import SongNotFoundError
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.repos.plays_base import PlayRepository, PlayResult, PlayState
from song_service.repos.sql import SqlSongUnitOfWork
from tests.contract.conftest import Backend
from tests.contract.test_song_repository import add_user, delete_user, new_song, songs_repo

T0 = datetime(2026, 1, 17, 10, 0, 0, 123456, tzinfo=UTC)  # microseconds survive everywhere


def plays_repo(backend: Backend) -> PlayRepository:
    """The plays repository, each call one committed unit of work."""
    return backend.repository(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork, name="plays")


def add_song(backend: Backend, title: str = "song") -> int:
    return songs_repo(backend).add(new_song(title)).id


def test_a_play_counts_once_per_user_song_and_time(backend: Backend) -> None:
    repo = plays_repo(backend)
    song, other_song = add_song(backend), add_song(backend)
    alice, bob = add_user(backend), add_user(backend)
    assert repo.record(alice, song, T0) == PlayResult(True, 1)
    assert repo.record(alice, song, T0) == PlayResult(False, 1)
    assert repo.record(alice, song, T0 + timedelta(microseconds=1)) == PlayResult(True, 2)
    assert repo.record(bob, song, T0) == PlayResult(True, 3)
    assert repo.record(alice, other_song, T0) == PlayResult(True, 1)
    # The stored time is the sent one, to the microsecond, and in UTC.
    history = repo.history(alice, after=None, offset=0, limit=10)
    assert [(row.view.song.id, row.played_at) for row in history] == [
        (song, T0 + timedelta(microseconds=1)),
        (other_song, T0),
        (song, T0),
    ]
    assert history[0].played_at.tzinfo is not None


def test_a_play_of_a_missing_song_or_by_a_deleted_account(backend: Backend) -> None:
    repo = plays_repo(backend)
    song, user = add_song(backend), add_user(backend)
    with pytest.raises(SongNotFoundError):
        repo.record(user, 999, T0)
    delete_user(backend, user)
    with pytest.raises(AccountGoneError):
        repo.record(user, song, T0)
    assert repo.states([song], None) == {song: PlayState(0, None, None)}


def test_threads_racing_the_same_play_record_it_once(backend: Backend) -> None:
    repo = plays_repo(backend)
    song, user = add_song(backend), add_user(backend)
    start = threading.Barrier(8)

    def record(_: int) -> PlayResult:
        start.wait()
        return repo.record(user, song, T0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(record, range(8)))
    assert sorted(result.created for result in results) == [False] * 7 + [True]
    assert {result.play_count for result in results} == {1}
    assert repo.states([song], user) == {song: PlayState(1, 1, T0)}


def test_history_is_newest_first_with_keyset_pages(backend: Backend) -> None:
    repo = plays_repo(backend)
    first, second, third = (add_song(backend, title) for title in ("a", "b", "c"))
    user, other = add_user(backend), add_user(backend)
    for song, at in [
        (first, T0), (second, T0), (third, T0 - timedelta(hours=1)),
        (first, T0 + timedelta(minutes=1)), (second, T0 - timedelta(days=400)),
    ]:  # fmt: skip
        repo.record(user, song, at)
    repo.record(other, third, T0 + timedelta(days=1))
    expected = [
        (first, T0 + timedelta(minutes=1)),
        (second, T0),  # ties on the time: by song id, descending
        (first, T0),
        (third, T0 - timedelta(hours=1)),
        (second, T0 - timedelta(days=400)),
    ]

    def ids(rows: list) -> list[tuple[int, datetime]]:
        return [(row.view.song.id, row.played_at) for row in rows]

    assert ids(repo.history(user, after=None, offset=0, limit=10)) == expected
    pages, after = [], None
    while True:
        page = repo.history(user, after=after, offset=0, limit=2)
        if not page:
            break
        pages += ids(page)
        after = After(page[-1].played_at, page[-1].view.song.id)
    assert pages == expected
    assert ids(repo.history(user, after=After(T0, second), offset=1, limit=2)) == expected[3:5]
    assert repo.history(add_user(backend), after=None, offset=0, limit=10) == []
    # Each row is the song's view for the user: their own play count and last play.
    view = repo.history(user, after=None, offset=0, limit=1)[0].view
    assert (view.play_count, view.my_play_count, view.last_played_at) == (
        2, 2, T0 + timedelta(minutes=1),
    )  # fmt: skip


def test_top_counts_plays_since_the_period_start(backend: Backend) -> None:
    repo = plays_repo(backend)
    now = datetime.now(UTC)
    week_start = now - timedelta(days=7)
    inside, outside, both = (add_song(backend, title) for title in ("in", "out", "both"))
    user, other = add_user(backend), add_user(backend)
    repo.record(user, inside, now - timedelta(days=6))  # in the week
    repo.record(user, outside, now - timedelta(days=8))  # not in it
    repo.record(user, outside, now - timedelta(days=9))
    repo.record(user, outside, now - timedelta(days=10))
    for days in (1, 2, 30):
        repo.record(user, both, now - timedelta(days=days))
    repo.record(other, inside, now - timedelta(days=1))  # someone else's

    def top(since: datetime | None, offset: int = 0, limit: int = 10) -> list[tuple[int, int]]:
        rows = repo.top(user, since=since, offset=offset, limit=limit)
        return [(row.view.song.id, row.plays) for row in rows]

    assert top(week_start) == [(both, 2), (inside, 1)]
    assert top(now - timedelta(days=20)) == [(outside, 3), (both, 2), (inside, 1)]
    assert top(None) == [(outside, 3), (both, 3), (inside, 1)]  # ties by song id
    assert top(None, offset=1, limit=1) == [(both, 3)]
    assert top(now + timedelta(seconds=1)) == []
    # The view counts every play; `plays` only the period's.
    row = repo.top(user, since=week_start, offset=0, limit=1)[0]
    assert (row.view.play_count, row.view.my_play_count) == (3, 3)
    assert repo.top(user, since=week_start, offset=0, limit=2)[1].view.play_count == 2


def test_views_carry_the_play_state(backend: Backend) -> None:
    repo, songs = plays_repo(backend), songs_repo(backend)
    song, quiet = add_song(backend, "loud"), add_song(backend, "quiet")
    alice, bob = add_user(backend), add_user(backend)
    repo.record(alice, song, T0)
    repo.record(alice, song, T0 - timedelta(days=1))
    repo.record(bob, song, T0 + timedelta(days=1))
    view = songs.get_view(song, alice)
    assert (view.play_count, view.my_play_count, view.last_played_at) == (3, 2, T0)
    anonymous = songs.get_view(song, None)
    assert (anonymous.play_count, anonymous.my_play_count, anonymous.last_played_at) == (
        3, None, None,
    )  # fmt: skip
    assert repo.states([song, quiet], bob) == {
        song: PlayState(3, 1, T0 + timedelta(days=1)),
        quiet: PlayState(0, 0, None),
    }
    assert repo.states([], alice) == {}
    # Deleting a song or an account takes its plays along.
    backend.delete("songs", song)
    assert repo.history(alice, after=None, offset=0, limit=10) == []
    repo.record(bob, quiet, T0)
    delete_user(backend, bob)
    assert repo.states([quiet], None) == {quiet: PlayState(0, None, None)}
