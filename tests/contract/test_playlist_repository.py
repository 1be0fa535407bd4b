"""What every PlaylistRepository must do, asserted identically on each backend:
entries at positions 0..n-1 through inserts, replaces, moves and removals, the
figures computed from the entries, the name filter, song deletes closing the
gaps, and concurrent edits of one playlist losing nothing."""

from __future__ import annotations

import contextlib
import functools
import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from common.errors import AccountGoneError
from database.unit_of_work import run_unit
from song_service.repos.base import SongNotFoundError, SongUnitOfWork
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.repos.playlists_base import PlaylistQuery, PlaylistRecord
from song_service.repos.sql import SqlSongUnitOfWork
from song_service.services.songs import SongService
from tests.contract.conftest import Backend

_numbers = itertools.count(1)


def song_units(backend: Backend) -> Callable[..., SongUnitOfWork]:
    return backend.units(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork)


def add_user(backend: Backend) -> int:
    number = next(_numbers)
    return backend.insert(
        "users", username=f"pl{number}", email=f"pl{number}@x.io", password_hash="x",
        first_name="U", role="user",
    )  # fmt: skip


def add_song(backend: Backend, title: str = "song", **fields: Any) -> int:
    return backend.insert(
        "songs", title=title, artist="artist", genre="rock", file_url="/f.mp3", **fields
    )


def new_playlist(
    backend: Backend,
    owner_id: int,
    name: str = "mix",
    *,
    public: bool = False,
    songs: list[int] = (),
) -> int:
    with song_units(backend)(write=True) as uow:
        playlist_id = uow.playlists.add(owner_id, {"name": name, "public": public})
        if songs:
            uow.playlists.lock(playlist_id)
            uow.playlists.insert(playlist_id, list(songs), 0)
        uow.commit()
    return playlist_id


def edit(backend: Backend, playlist_id: int, change: Callable[[Any], Any]) -> Any:
    """One locked edit in a committed unit, as the service runs it."""
    with song_units(backend)(write=True) as uow:
        assert uow.playlists.lock(playlist_id) is not None
        result = change(uow.playlists)
        uow.commit()
    return result


def entries(backend: Backend, playlist_id: int, viewer_id: int = 0) -> list[tuple[int, int]]:
    """(position, song id) of every entry, in order."""
    with song_units(backend)() as uow:
        rows = uow.playlists.entries(
            playlist_id, after=None, offset=0, limit=10_000, viewer_id=viewer_id
        )
    return [(row.position, row.view.song.id) for row in rows]


def songs_of(backend: Backend, playlist_id: int) -> list[int]:
    listed = entries(backend, playlist_id)
    assert [position for position, _ in listed] == list(range(len(listed))), listed
    return [song_id for _, song_id in listed]


def record(backend: Backend, playlist_id: int) -> PlaylistRecord:
    with song_units(backend)() as uow:
        found = uow.playlists.get(playlist_id)
    assert found is not None
    return found


def listed(backend: Backend, query: PlaylistQuery) -> list[int]:
    with song_units(backend)() as uow:
        return [row.id for row in uow.playlists.list(query)]


@pytest.fixture
def owner(backend: Backend) -> int:
    return add_user(backend)


@pytest.fixture
def songs(backend: Backend) -> list[int]:
    return [add_song(backend, f"s{i}") for i in range(6)]


# Entries ----------------------------------------------------------------------


def test_inserts_at_the_start_middle_and_end(
    backend: Backend, owner: int, songs: list[int]
) -> None:
    a, b, c, d, e, f = songs
    playlist_id = new_playlist(backend, owner)
    assert songs_of(backend, playlist_id) == []
    edit(backend, playlist_id, lambda repo: repo.insert(playlist_id, [a, b], 0))
    edit(backend, playlist_id, lambda repo: repo.insert(playlist_id, [c, d], 1))
    assert songs_of(backend, playlist_id) == [a, c, d, b]
    edit(backend, playlist_id, lambda repo: repo.insert(playlist_id, [e], 0))
    edit(backend, playlist_id, lambda repo: repo.insert(playlist_id, [f], 5))
    assert songs_of(backend, playlist_id) == [e, a, c, d, b, f]
    with song_units(backend)() as uow:
        assert uow.playlists.length(playlist_id) == 6


def test_a_song_may_appear_more_than_once(backend: Backend, owner: int, songs: list[int]) -> None:
    a, b = songs[:2]
    playlist_id = new_playlist(backend, owner, songs=[a, a])
    edit(backend, playlist_id, lambda repo: repo.insert(playlist_id, [b, a, b], 1))
    assert songs_of(backend, playlist_id) == [a, b, a, b, a]
    assert record(backend, playlist_id).song_count == 5


def test_replace_sets_all_entries(backend: Backend, owner: int, songs: list[int]) -> None:
    a, b, c = songs[:3]
    playlist_id = new_playlist(backend, owner, songs=[a, b, c])
    edit(backend, playlist_id, lambda repo: repo.replace(playlist_id, [c, c, a]))
    assert songs_of(backend, playlist_id) == [c, c, a]
    edit(backend, playlist_id, lambda repo: repo.replace(playlist_id, []))
    assert songs_of(backend, playlist_id) == []


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        (0, 4, "bcdea"), (4, 0, "eabcd"), (1, 3, "acdbe"), (3, 1, "adbce"),
        (2, 2, "abcde"), (3, 4, "abced"), (4, 3, "abced"),
    ],
)  # fmt: skip
def test_move_both_ways(
    backend: Backend, owner: int, songs: list[int], source: int, target: int, expected: str
) -> None:
    names = dict(zip("abcde", songs, strict=False))
    playlist_id = new_playlist(backend, owner, songs=[names[n] for n in "abcde"])
    edit(backend, playlist_id, lambda repo: repo.move(playlist_id, source, target))
    assert songs_of(backend, playlist_id) == [names[n] for n in expected]


def test_remove_closes_the_gap(backend: Backend, owner: int, songs: list[int]) -> None:
    a, b, c, d = songs[:4]
    playlist_id = new_playlist(backend, owner, songs=[a, b, c, d])
    assert edit(backend, playlist_id, lambda repo: repo.remove(playlist_id, 1)) is True
    assert songs_of(backend, playlist_id) == [a, c, d]
    assert edit(backend, playlist_id, lambda repo: repo.remove(playlist_id, 2)) is True
    assert edit(backend, playlist_id, lambda repo: repo.remove(playlist_id, 2)) is False
    assert edit(backend, playlist_id, lambda repo: repo.remove(playlist_id, 0)) is True
    assert songs_of(backend, playlist_id) == [c]


@pytest.mark.parametrize(
    ("gone", "kept"),
    [
        ([1], "acdefgh"), ([0, 7], "bcdefg"), ([6, 1, 3], "acefh"), ([2, 3, 4], "abfgh"),
        ([0, 2, 4, 6], "bdfh"), ([7, 6, 5, 4, 3, 2, 1, 0], ""), ([5], "abcdegh"),
    ],
)  # fmt: skip
def test_remove_positions_closes_every_gap_in_order(
    backend: Backend, owner: int, songs: list[int], gone: list[int], kept: str
) -> None:
    """Several positions (those before the edit, in any order) go in one edit; the
    rest keep their order at 0..n-1, a song there twice losing only the entry named."""
    names = dict(zip("abcdef", songs, strict=True)) | {"g": songs[0], "h": songs[1]}
    playlist_id = new_playlist(backend, owner, songs=[names[n] for n in "abcdefgh"])
    edit(backend, playlist_id, lambda repo: repo.remove_positions(playlist_id, gone))
    assert songs_of(backend, playlist_id) == [names[n] for n in kept]
    assert record(backend, playlist_id).song_count == len(kept)


def test_remove_positions_on_a_long_playlist(backend: Backend, owner: int) -> None:
    """Hundreds of positions in one edit: one statement's parameters stay bounded."""
    song_id = add_song(backend, "long")
    playlist_id = new_playlist(backend, owner, songs=[song_id] * 1200)
    gone = list(range(0, 1000, 2))  # 500 positions, the most one request may name
    edit(backend, playlist_id, lambda repo: repo.remove_positions(playlist_id, gone))
    assert songs_of(backend, playlist_id) == [song_id] * 700


def test_an_unknown_song_is_refused_and_nothing_changes(
    backend: Backend, owner: int, songs: list[int]
) -> None:
    a, b = songs[:2]
    playlist_id = new_playlist(backend, owner, songs=[a])
    with song_units(backend)() as uow:
        assert uow.playlists.missing_songs([b, 10**9, a, 10**9 + 1, 10**9]) == [10**9, 10**9 + 1]
        assert uow.playlists.missing_songs([]) == []
    with pytest.raises(SongNotFoundError):
        edit(backend, playlist_id, lambda repo: repo.insert(playlist_id, [b, 10**9], 0))
    with pytest.raises(SongNotFoundError):
        edit(backend, playlist_id, lambda repo: repo.replace(playlist_id, [10**9]))
    assert songs_of(backend, playlist_id) == [a]


def test_entries_page_by_position_with_song_views(
    backend: Backend, owner: int, songs: list[int]
) -> None:
    playlist_id = new_playlist(backend, owner, songs=songs[:5])
    with song_units(backend)(write=True) as uow:
        uow.likes.like(owner, songs[2])
        uow.commit()
    with song_units(backend)() as uow:
        page = uow.playlists.entries(playlist_id, after=1, offset=0, limit=2, viewer_id=owner)
        skipped = uow.playlists.entries(playlist_id, after=None, offset=3, limit=5, viewer_id=owner)
    assert [(row.position, row.view.song.id) for row in page] == [(2, songs[2]), (3, songs[3])]
    assert (page[0].view.like_count, page[0].view.liked_by_me) == (1, True)
    assert (page[1].view.like_count, page[1].view.liked_by_me) == (0, False)
    assert [row.position for row in skipped] == [3, 4]


# Figures and fields -------------------------------------------------------------


def test_counts_duration_and_cover_follow_the_songs(backend: Backend, owner: int) -> None:
    plain = add_song(backend, "plain", duration=100)
    unknown = add_song(backend, "unknown")  # no duration: counts as 0
    covered = add_song(backend, "covered", duration=20, cover_image_url="/c1.jpg")
    other = add_song(backend, "other", duration=3, cover_image_url="/c2.jpg")
    playlist_id = new_playlist(backend, owner, "Figures", songs=[plain, unknown, covered, other])
    found = record(backend, playlist_id)
    assert (found.song_count, found.duration, found.cover) == (4, 123, "/c1.jpg")
    assert (found.name, found.description, found.public) == ("Figures", None, False)
    assert found.owner_id == owner and found.owner_username.startswith("pl")
    edit(backend, playlist_id, lambda repo: repo.move(playlist_id, 3, 0))
    assert record(backend, playlist_id).cover == "/c2.jpg"
    with song_units(backend)(write=True) as uow:
        uow.songs.update(other, {"duration": 7, "cover_image_url": None})
        uow.commit()
    assert (record(backend, playlist_id).duration, record(backend, playlist_id).cover) == (
        127,
        "/c1.jpg",
    )
    empty = record(backend, new_playlist(backend, owner))
    assert (empty.song_count, empty.duration, empty.cover) == (0, 0, None)


def test_update_touch_and_delete(backend: Backend, owner: int, songs: list[int]) -> None:
    playlist_id = new_playlist(backend, owner, "Old", songs=songs[:2])
    before = record(backend, playlist_id)
    with song_units(backend)(write=True) as uow:
        uow.playlists.update(playlist_id, {"name": "Brand New", "public": True, "description": "d"})
        uow.commit()
    after = record(backend, playlist_id)
    assert (after.name, after.public, after.description) == ("Brand New", True, "d")
    assert after.updated_at >= before.updated_at and after.created_at == before.created_at
    assert listed(backend, PlaylistQuery(viewer_id=owner, q="brand")) == [playlist_id]
    assert listed(backend, PlaylistQuery(viewer_id=owner, q="old")) == []
    with song_units(backend)(write=True) as uow:
        assert uow.playlists.delete(playlist_id) is True
        assert uow.playlists.delete(playlist_id) is False
        uow.commit()
    with song_units(backend)() as uow:
        assert uow.playlists.get(playlist_id) is None
        assert uow.playlists.access(playlist_id) is None
    assert entries(backend, playlist_id) == []


def test_a_deleted_owner_takes_their_playlists(
    backend: Backend, owner: int, songs: list[int]
) -> None:
    playlist_id = new_playlist(backend, owner, songs=songs[:2])
    backend.delete("users", owner)
    with song_units(backend)() as uow:
        assert uow.playlists.get(playlist_id) is None
    assert entries(backend, playlist_id) == []
    with pytest.raises(AccountGoneError), song_units(backend)(write=True) as uow:
        uow.playlists.add(owner, {"name": "x"})


# Listing ------------------------------------------------------------------------


def test_list_shows_own_and_public_playlists_by_id(backend: Backend, owner: int) -> None:
    stranger = add_user(backend)
    mine_private = new_playlist(backend, owner, "a")
    theirs_private = new_playlist(backend, stranger, "b")
    theirs_public = new_playlist(backend, stranger, "c", public=True)
    mine_public = new_playlist(backend, owner, "d", public=True)
    assert theirs_private
    assert listed(backend, PlaylistQuery(viewer_id=owner)) == [
        mine_private,
        theirs_public,
        mine_public,
    ]
    assert listed(backend, PlaylistQuery(viewer_id=owner, own_only=True)) == [
        mine_private,
        mine_public,
    ]
    assert listed(backend, PlaylistQuery(viewer_id=owner, after_id=mine_private, limit=1)) == [
        theirs_public
    ]
    assert listed(backend, PlaylistQuery(viewer_id=owner, offset=2, limit=5)) == [mine_public]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("rock", {"Rock Mix", "Soft Rock", "Rock-n-Roll"}), ("ROCK mi", {"Rock Mix"}),
        ("ix", set()), ("roll", {"Rock-n-Roll"}), ("live", {"Best (Live)"}),
        ("cafe del", {"Café del Mar"}), ("DEL CAFÉ", {"Café del Mar"}), ("ärz", {"Die Ärzte"}),
        ("100%", {"100% Hits"}), ("%", set()), ("_", set()), ("h_ts", set()),
        ("[a", {"[abc] Tracks", "Die Ärzte"}), ("/", set()), ("  ", None), ("", None),
    ],
)  # fmt: skip
def test_name_filter_matches_word_prefixes_literally(
    backend: Backend, owner: int, q: str, found: set[str] | None
) -> None:
    names = ["Rock Mix", "Soft Rock", "Café del Mar", "Die Ärzte", "100% Hits", "[abc] Tracks",
             "Rock-n-Roll", "Best (Live)"]  # fmt: skip
    ids = {new_playlist(backend, owner, name): name for name in names}
    result = {ids[i] for i in listed(backend, PlaylistQuery(viewer_id=owner, q=q))}
    assert result == (set(names) if found is None else found)


# Song deletes -------------------------------------------------------------------


def test_deleting_a_song_closes_the_gaps_in_every_playlist(
    backend: Backend, owner: int, songs: list[int]
) -> None:
    a, b, c, d = songs[:4]
    first = new_playlist(backend, owner, songs=[a, b, a, c, b, a])
    second = new_playlist(backend, add_user(backend), songs=[b, b, d])
    untouched = new_playlist(backend, owner, songs=[c, d])
    before = record(backend, untouched).updated_at
    SongService(song_units(backend)).delete(b)
    assert songs_of(backend, first) == [a, a, c, a]
    assert songs_of(backend, second) == [d]
    assert songs_of(backend, untouched) == [c, d]
    assert record(backend, untouched).updated_at == before
    assert record(backend, first).song_count == 4
    with song_units(backend)(write=True) as uow:
        assert uow.playlists.remove_song(10**9) == []
        assert uow.playlists.remove_song(a) == [first]
        uow.commit()
    assert songs_of(backend, first) == [c]


# Concurrency: each thread runs its own unit, as concurrent requests do ----------


def test_concurrent_edits_of_one_playlist_keep_it_contiguous_and_lose_nothing(
    backend: Backend, owner: int
) -> None:
    """Eight threads append, insert, move and remove on one playlist at once, each
    edit a locked unit of its own (re-run when it lost a race the database could
    not queue, as the service's are). Afterwards the positions are 0..n-1 and the
    songs are the initial ones plus every append minus every removal."""
    pool_songs = [add_song(backend, f"c{i}") for i in range(8)]
    initial = pool_songs[:4] * 2
    playlist_id = new_playlist(backend, owner, songs=initial)
    units = song_units(backend)
    barrier = threading.Barrier(8)
    rounds = 6
    lock = threading.Lock()
    added: Counter[int] = Counter()
    removed: Counter[int] = Counter()

    def one_edit(worker: int, step: int) -> None:
        choice = random.Random(worker * 100 + step)  # a fixed spread of edits
        kind = (worker + step) % 4
        song = pool_songs[choice.randrange(len(pool_songs))]

        def unit() -> tuple[str, int | None]:
            with units(write=True) as uow:
                repo = uow.playlists
                repo.lock(playlist_id)
                length = repo.length(playlist_id)
                if kind == 0:
                    repo.insert(playlist_id, [song], length)
                    outcome: tuple[str, int | None] = ("add", song)
                elif kind == 1:
                    repo.insert(playlist_id, [song], choice.randrange(length + 1))
                    outcome = ("add", song)
                elif kind == 2 and length > 0:
                    position = choice.randrange(length)
                    gone = repo.entries(
                        playlist_id, after=position - 1, offset=0, limit=1, viewer_id=0
                    )[0].view.song.id
                    assert repo.remove(playlist_id, position)
                    outcome = ("remove", gone)
                elif length > 1:
                    repo.move(playlist_id, choice.randrange(length), choice.randrange(length))
                    outcome = ("move", None)
                else:
                    outcome = ("none", None)
                uow.commit()
            return outcome

        # Counted only once committed, as a client counts only acknowledged edits.
        kind_done, song_done = run_unit(unit)
        with lock:
            if kind_done == "add" and song_done is not None:
                added[song_done] += 1
            elif kind_done == "remove" and song_done is not None:
                removed[song_done] += 1

    def work(worker: int) -> None:
        barrier.wait(timeout=10)
        for step in range(rounds):
            one_edit(worker, step)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))

    final = songs_of(backend, playlist_id)  # asserts positions 0..n-1
    expected = Counter(initial) + added
    expected.subtract(removed)
    assert Counter(final) == +expected
    assert record(backend, playlist_id).song_count == len(final)


def test_song_deletes_racing_playlist_edits_leave_no_gap(backend: Backend, owner: int) -> None:
    """A song deleted while other units insert it into playlists and move entries:
    each playlist ends contiguous and without the song."""
    doomed = add_song(backend, "doomed")
    kept = [add_song(backend, f"k{i}") for i in range(3)]
    playlists = [new_playlist(backend, owner, songs=[doomed, *kept, doomed]) for _ in range(3)]
    units = song_units(backend)
    service = SongService(units)
    barrier = threading.Barrier(7)

    def insert(playlist_id: int) -> None:
        barrier.wait(timeout=10)

        def unit() -> None:
            with units(write=True) as uow:
                uow.playlists.lock(playlist_id)
                uow.playlists.insert(playlist_id, [kept[0], doomed], 1)
                uow.commit()

        with contextlib.suppress(SongNotFoundError):  # the delete came first
            run_unit(unit)

    def move(playlist_id: int) -> None:
        barrier.wait(timeout=10)
        run_unit(functools.partial(edit, backend, playlist_id, lambda r: r.move(playlist_id, 0, 2)))

    def delete() -> None:
        barrier.wait(timeout=10)
        run_unit(lambda: service.delete(doomed))

    with ThreadPoolExecutor(max_workers=7) as pool:
        jobs = [pool.submit(delete)]
        jobs += [pool.submit(insert, p) for p in playlists]
        jobs += [pool.submit(move, p) for p in playlists]
        for job in jobs:
            job.result()
    for playlist_id in playlists:
        final = songs_of(backend, playlist_id)  # asserts positions 0..n-1
        assert doomed not in final
        assert Counter(final)[kept[1]] == 1 and Counter(final)[kept[2]] == 1


def test_a_song_delete_queues_behind_an_edit_adding_the_song(backend: Backend, owner: int) -> None:
    """An edit holds its playlist, then adds the song (its foreign key check reads
    the song) while the song's delete starts. The delete takes the playlist before
    the song, as the edit does, so it waits for the edit instead of deadlocking
    with it; a deadlock would surface here as a database error (a 503 once
    run_unit's re-runs met it again), so neither side is re-run."""
    doomed, kept = add_song(backend, "doomed"), add_song(backend, "kept")
    playlist_id = new_playlist(backend, owner, songs=[doomed, kept])
    units = song_units(backend)
    holding = threading.Event()

    def edit_with_a_pause() -> None:
        with units(write=True) as uow:
            assert uow.playlists.lock(playlist_id) is not None
            holding.set()
            time.sleep(0.5)  # the delete starts meanwhile
            uow.playlists.insert(playlist_id, [doomed], 0)
            uow.commit()

    def delete() -> None:
        assert holding.wait(timeout=10)
        SongService(units).delete(doomed)

    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(edit_with_a_pause), pool.submit(delete)]
        for job in jobs:
            job.result(timeout=60)
    assert songs_of(backend, playlist_id) == [kept]
