"""What every AlbumRepository must do, asserted identically on each backend."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import delete

from album_service.repos.base import (
    SORTABLE,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumRecord,
    AlbumRepository,
    SongNotFoundError,
)
from album_service.repos.memory import InMemoryAlbumUnitOfWork
from album_service.repos.sql import SqlAlbumUnitOfWork
from database import Base
from database.keyset import After, Sort
from tests.contract.conftest import Backend


def make_repo(backend: Backend) -> AlbumRepository:
    """The albums repository, each call one committed unit of work."""
    return backend.repository(memory=InMemoryAlbumUnitOfWork, sql=SqlAlbumUnitOfWork, name="albums")


def album(title: str, artist: str = "artist", genre: str = "rock", **extra: Any) -> dict:
    return {"title": title, "artist": artist, "genre": genre, **extra}


def add_song(backend: Backend, title: str = "song") -> int:
    """Songs belong to song_service; this puts a row straight into the songs table."""
    return backend.insert(
        "songs", title=title, artist="artist", genre="rock",
        file_url=f"https://cdn.example.com/{title}.mp3",
    )  # fmt: skip


def delete_song(backend: Backend, song_id: int) -> None:
    backend.delete("songs", song_id)


def ids(rows: list[Any]) -> list[int]:
    return [row.id for row in rows]


def track_list(repo: AlbumRepository, album_id: int) -> list[tuple[int, int]]:
    return [(t.id, t.track_number) for t in repo.tracks(album_id, after=None, offset=0, limit=100)]


# Albums ---------------------------------------------------------------------


def test_add_assigns_id_and_utc_timestamps(backend: Backend) -> None:
    repo = make_repo(backend)
    created = repo.add(album("abbey road", description="medley", cover_image_url="c.png"))
    assert created.id >= 1
    assert (created.title, created.description, created.cover_image_url) == (
        "abbey road",
        "medley",
        "c.png",
    )
    assert created.created_at.utcoffset() is not None
    assert created.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert created.updated_at == created.created_at
    assert repo.get(created.id) == created


def test_optional_columns_default_to_none(backend: Backend) -> None:
    created = make_repo(backend).add(album("blue"))
    assert (created.description, created.cover_image_url) == (None, None)


def test_ids_are_distinct_and_increasing(backend: Backend) -> None:
    repo = make_repo(backend)
    new_ids = [repo.add(album(f"album{i}")).id for i in range(3)]
    assert new_ids == sorted(new_ids) and len(set(new_ids)) == 3


def test_missing_album(backend: Backend) -> None:
    repo = make_repo(backend)
    assert repo.get(404) is None
    assert repo.update(404, {"title": "x"}) is None
    assert repo.delete(404) is False
    assert repo.tracks(404, after=None, offset=0, limit=10) == []


def test_update_changes_fields_and_bumps_updated_at(backend: Backend) -> None:
    repo = make_repo(backend)
    original = repo.add(album("help", description="old"))
    updated = repo.update(original.id, {"title": "let it be", "description": None})
    assert updated is not None
    assert (updated.title, updated.artist, updated.description) == ("let it be", "artist", None)
    assert updated.updated_at >= original.updated_at
    assert updated.created_at == original.created_at
    assert repo.get(original.id) == updated


def test_delete(backend: Backend) -> None:
    repo = make_repo(backend)
    doomed, kept = repo.add(album("a")), repo.add(album("b"))
    assert repo.delete(doomed.id) is True
    assert repo.get(doomed.id) is None
    assert repo.delete(doomed.id) is False
    assert ids(repo.list(AlbumQuery())) == [kept.id]
    assert repo.add(album("a")).id > kept.id  # ids are never reused


# Listing --------------------------------------------------------------------


def test_filters(backend: Backend) -> None:
    repo = make_repo(backend)
    blue = repo.add(album("blue", "joni mitchell", "folk"))
    train = repo.add(album("blue train", "john coltrane", "jazz"))
    kind = repo.add(album("kind of blue", "miles davis", "jazz"))
    hejira = repo.add(album("hejira", "joni mitchell", "folk"))

    def found(**filters: Any) -> list[int]:
        return ids(repo.list(AlbumQuery(**filters)))

    assert found(genre="jazz") == [train.id, kind.id]
    assert found(artist="joni mitchell") == [blue.id, hejira.id]
    assert found(artist="joni") == []  # artist is an exact match
    assert found(q="BLUE") == [blue.id, train.id, kind.id]  # a title word, any case
    assert found(q="JOHN") == [train.id]  # or an artist word
    assert found(q="jon mit") == [blue.id, hejira.id]  # every word starts a word
    assert found(q="i mi") == []  # the middle of a word is not a word's start
    assert found(q="blu tra") == [train.id]
    assert found(q="blue", genre="folk") == [blue.id]
    assert found(q="blue", artist="miles davis") == [kind.id]
    assert found(q="nothing") == []


# LIKE's wildcards and escape are plain characters: "1%0" is no pattern for "100",
# "a_b" none for "axb"; punctuation alone matches only titles starting with it.
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("100%", ["100% pure", "1000 pure"]),  # the title prefix, and the word "100"
        ("1%0", []),
        ("%", []),
        ("a_b", ["a_b"]),
        ("_", []),
        ("/", []),
        ("\\", []),
        ("x/", ["x/y", "x\\y"]),  # the word "x"
    ],
)
def test_search_matches_wildcards_and_escapes_literally(
    backend: Backend, q: str, expected: list[str]
) -> None:
    repo = make_repo(backend)
    for title in ("100% pure", "1000 pure", "a_b", "axb", "x/y", "x\\y"):
        repo.add(album(title))
    assert [a.title for a in repo.list(AlbumQuery(q=q))] == expected


# Lower-case ASCII only: other databases collate mixed case and accents differently.
CATALOGUE = [
    ("help", "beatles", "rock"),
    ("abbey road", "beatles", "rock"),
    ("blue", "joni", "folk"),
    ("help", "beatles", "pop"),
    ("court", "joni", "folk"),
    ("kind of blue", "miles", "jazz"),
    ("abbey road", "tribute", "rock"),
    ("giant steps", "coltrane", "jazz"),
]


def expected_order(rows: list[AlbumRecord], sort: Sort) -> list[int]:
    ordered = sorted(rows, key=lambda a: (getattr(a, sort.field), a.id), reverse=sort.descending)
    return ids(ordered)


SORTS = [Sort(field, descending) for field in SORTABLE for descending in (False, True)]


@pytest.mark.parametrize("sort", SORTS, ids=str)
def test_every_sort_orders_by_column_then_id(backend: Backend, sort: Sort) -> None:
    repo = make_repo(backend)
    rows = [repo.add(album(t, a, g)) for t, a, g in CATALOGUE]
    assert ids(repo.list(AlbumQuery(sort=sort, limit=100))) == expected_order(rows, sort)


@pytest.mark.parametrize("sort", SORTS, ids=str)
def test_keyset_pages_cover_every_row_once(backend: Backend, sort: Sort) -> None:
    repo = make_repo(backend)
    rows = [repo.add(album(t, a, g)) for t, a, g in CATALOGUE]
    seen: list[int] = []
    after: After | None = None
    while True:
        page = repo.list(AlbumQuery(sort=sort, after=after, limit=3))
        seen += ids(page)
        if len(page) < 3:
            break
        after = After(getattr(page[-1], sort.field), page[-1].id)
    assert seen == expected_order(rows, sort)


def test_ties_are_broken_by_id_after_a_keyset_boundary(backend: Backend) -> None:
    repo = make_repo(backend)
    same = [repo.add(album("same")).id for _ in range(4)]
    by_title = Sort("title")
    assert ids(repo.list(AlbumQuery(sort=by_title, after=After("same", same[1])))) == same[2:]
    descending = Sort("title", descending=True)
    assert ids(repo.list(AlbumQuery(sort=descending, after=After("same", same[2])))) == [
        same[1],
        same[0],
    ]


def test_offset_and_limit_apply_after_the_keyset(backend: Backend) -> None:
    repo = make_repo(backend)
    all_ids = [repo.add(album(f"album{i}")).id for i in range(6)]
    assert ids(repo.list(AlbumQuery(limit=2))) == all_ids[:2]
    assert ids(repo.list(AlbumQuery(offset=4))) == all_ids[4:]
    assert (
        ids(repo.list(AlbumQuery(after=After(all_ids[1], all_ids[1]), offset=1, limit=2)))
        == (all_ids[3:5])
    )
    assert repo.list(AlbumQuery(after=After(all_ids[-1], all_ids[-1]))) == []


def test_filters_and_keyset_combine(backend: Backend) -> None:
    repo = make_repo(backend)
    rows = [repo.add(album(t, a, g)) for t, a, g in CATALOGUE]
    rock = [a for a in rows if a.genre == "rock"]
    sort = Sort("title", descending=True)
    first = repo.list(AlbumQuery(genre="rock", sort=sort, limit=2))
    rest = repo.list(
        AlbumQuery(genre="rock", sort=sort, after=After(first[-1].title, first[-1].id))
    )
    assert ids(first + rest) == expected_order(rock, sort)


# Links ----------------------------------------------------------------------


def test_link_appends_keeps_or_renumbers_idempotently(backend: Backend) -> None:
    repo = make_repo(backend)
    album_id = repo.add(album("a")).id
    one, two, three = add_song(backend, "one"), add_song(backend, "two"), add_song(backend, "3")
    assert repo.link(album_id, one, None).track_number == 1
    assert repo.link(album_id, two, None).track_number == 2
    assert repo.link(album_id, one, None).track_number == 1  # an existing link keeps its place
    assert repo.link(album_id, two, 9).track_number == 9
    link = repo.link(album_id, three, None)
    assert (link.album_id, link.song_id, link.track_number) == (album_id, three, 10)
    assert repo.link(album_id, three, 5).track_number == 5
    assert repo.link(album_id, three, 5).track_number == 5
    assert track_list(repo, album_id) == [(one, 1), (three, 5), (two, 9)]


def test_track_numbers_are_per_album(backend: Backend) -> None:
    repo = make_repo(backend)
    first, second = repo.add(album("a")).id, repo.add(album("b")).id
    song = add_song(backend)
    repo.link(first, add_song(backend), 7)
    assert repo.link(second, song, None).track_number == 1
    assert repo.link(first, song, None).track_number == 8
    assert track_list(repo, second) == [(song, 1)]


def test_tracks_carry_the_song_columns(backend: Backend) -> None:
    repo = make_repo(backend)
    album_id, song_id = repo.add(album("a")).id, add_song(backend, "one")
    repo.link(album_id, song_id, 4)
    [track] = repo.tracks(album_id, after=None, offset=0, limit=10)
    assert (track.id, track.title, track.file_url, track.track_number) == (
        song_id,
        "one",
        "https://cdn.example.com/one.mp3",
        4,
    )
    assert track.created_at.utcoffset() is not None


def test_tracks_page_by_number_then_song_id(backend: Backend) -> None:
    repo = make_repo(backend)
    album_id = repo.add(album("a")).id
    songs = [add_song(backend, f"s{i}") for i in range(6)]
    for i, song_id in enumerate(reversed(songs)):
        repo.link(album_id, song_id, 1 + i // 2)  # pairs share a number
    expected = sorted(
        ((s, 1 + i // 2) for i, s in enumerate(reversed(songs))), key=lambda t: (t[1], t[0])
    )
    assert track_list(repo, album_id) == expected
    seen: list[tuple[int, int]] = []
    after: After | None = None
    while True:
        page = repo.tracks(album_id, after=after, offset=0, limit=4)
        seen += [(t.id, t.track_number) for t in page]
        if len(page) < 4:
            break
        after = After(page[-1].track_number, page[-1].id)
    assert seen == expected
    offset_page = repo.tracks(album_id, after=None, offset=2, limit=2)
    assert [(t.id, t.track_number) for t in offset_page] == expected[2:4]


def test_link_needs_both_sides(backend: Backend) -> None:
    repo = make_repo(backend)
    album_id, song_id = repo.add(album("a")).id, add_song(backend)
    with pytest.raises(AlbumNotFoundError):
        repo.link(404, song_id, None)
    with pytest.raises(SongNotFoundError):
        repo.link(album_id, 404, 1)
    # The refusals left the repository usable and unchanged.
    assert track_list(repo, album_id) == []
    assert repo.link(album_id, song_id, None).track_number == 1


def test_unlink(backend: Backend) -> None:
    repo = make_repo(backend)
    album_id = repo.add(album("a")).id
    kept, removed = add_song(backend), add_song(backend)
    repo.link(album_id, kept, None)
    repo.link(album_id, removed, None)
    assert repo.unlink(album_id, removed) is True
    assert repo.unlink(album_id, removed) is False
    assert repo.unlink(album_id, 404) is False
    assert track_list(repo, album_id) == [(kept, 1)]
    with pytest.raises(AlbumNotFoundError):
        repo.unlink(404, kept)


def test_deleting_an_album_cascades_to_its_links_only(backend: Backend) -> None:
    repo = make_repo(backend)
    doomed, other = repo.add(album("a")).id, repo.add(album("b")).id
    song_id = add_song(backend)
    repo.link(doomed, song_id, None)
    repo.link(other, song_id, 3)
    assert repo.delete(doomed) is True
    assert repo.tracks(doomed, after=None, offset=0, limit=10) == []
    assert track_list(repo, other) == [(song_id, 3)]
    # The song itself stays: it can be linked to a new album.
    assert repo.link(repo.add(album("c")).id, song_id, None).track_number == 1


def test_deleting_a_song_cascades_to_its_links(backend: Backend) -> None:
    repo = make_repo(backend)
    album_id = repo.add(album("a")).id
    kept, doomed = add_song(backend, "kept"), add_song(backend, "doomed")
    repo.link(album_id, doomed, None)
    repo.link(album_id, kept, None)
    delete_song(backend, doomed)
    assert track_list(repo, album_id) == [(kept, 2)]
    assert repo.get(album_id) is not None


def test_concurrent_identical_links_give_one_link(backend: Backend) -> None:
    """Each call is a unit of work on a connection of its own, as concurrent
    requests are."""
    repo = make_repo(backend)
    album_id = repo.add(album("a")).id
    song_id = add_song(backend)  # a commit last: no transaction left open here

    def attempt(_: int) -> int:
        return make_repo(backend).link(album_id, song_id, None).track_number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(attempt, range(16)))
    assert numbers == [1] * 16
    assert track_list(repo, album_id) == [(song_id, 1)]


def test_a_link_that_loses_a_race_with_the_songs_delete_is_song_not_found(
    backend: Backend,
) -> None:
    """The link sees the song (its delete is not committed yet), inserts, and its
    foreign key check waits for the delete: when the delete commits, the link is
    a SongNotFoundError (a 404), not a database error (a 500)."""
    if backend.database is None:
        pytest.skip("the in-memory store runs one unit at a time: there is no race")
    repo = make_repo(backend)
    album_id = repo.add(album("a")).id
    song_id = add_song(backend)
    songs = Base.metadata.tables["songs"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        with backend.database.connect(write=True) as deleting:
            deleting.execute(delete(songs).where(songs.c.id == song_id))
            link = pool.submit(make_repo(backend).link, album_id, song_id, None)
            time.sleep(0.5)  # the link now waits on the delete's lock
            deleting.commit()
        # Out of the block: on SQLite the writer's connection is released only here.
        with pytest.raises(SongNotFoundError):
            link.result(timeout=30)
    assert track_list(repo, album_id) == []
