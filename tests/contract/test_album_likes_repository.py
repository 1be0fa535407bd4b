"""What every AlbumLikeRepository must do, with the album views (counts, duration,
like state) and disc-numbered tracks of AlbumRepository, asserted identically on
each backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from album_service.repos.base import AlbumNotFoundError, AlbumQuery
from album_service.repos.memory import InMemoryAlbumUnitOfWork
from album_service.repos.sql import SqlAlbumUnitOfWork
from common.errors import AccountGoneError
from database.keyset import After, Sort
from tests.contract.conftest import Backend


def repo(backend: Backend, name: str = "albums") -> Any:
    """One of the album unit's repositories, each call one committed unit of work."""
    return backend.repository(memory=InMemoryAlbumUnitOfWork, sql=SqlAlbumUnitOfWork, name=name)


def add_album(backend: Backend, title: str = "a", **extra: Any) -> int:
    return repo(backend).add({"title": title, "artist": "artist", "genre": "rock", **extra}).id


def add_user(backend: Backend, name: str) -> int:
    return backend.insert(
        "users", username=name, email=f"{name}@example.com", password_hash="x", first_name="F"
    )


def add_song(backend: Backend, title: str = "song", duration: int | None = None) -> int:
    """Songs belong to song_service; this puts a row straight into the songs table."""
    return backend.insert(
        "songs", title=title, artist="artist", genre="rock", duration=duration,
        file_url=f"https://cdn.example.com/{title}.mp3",
    )  # fmt: skip


# Views --------------------------------------------------------------------------


def test_view_counts_songs_sums_durations_and_shows_the_like(backend: Backend) -> None:
    albums, likes = repo(backend), repo(backend, "album_likes")
    album_id = add_album(backend, release_date=date(1969, 9, 26))
    empty = albums.get_view(album_id, None)
    assert (empty.song_count, empty.duration, empty.like_count, empty.liked_by_me) == (
        0, 0, 0, None,
    )  # fmt: skip
    assert empty.album.release_date == date(1969, 9, 26)
    for title, duration in (("one", 100), ("two", None), ("three", 25)):
        albums.link(album_id, add_song(backend, title, duration), None)
    albums.link(add_album(backend, "other"), add_song(backend, "x", 1000), None)
    fan, other = add_user(backend, "fan"), add_user(backend, "other")
    likes.like(fan, album_id)
    view = albums.get_view(album_id, fan)
    # A song without a duration counts 0 seconds.
    assert (view.song_count, view.duration, view.like_count, view.liked_by_me) == (
        3, 125, 1, True,
    )  # fmt: skip
    assert albums.get_view(album_id, other).liked_by_me is False
    assert albums.get_view(404, fan) is None
    listed = albums.list_views(AlbumQuery(sort=Sort("id")), fan)
    assert [v.album.id for v in listed] == [album_id, album_id + 1]
    assert listed[0] == view
    ranked = albums.list_views(AlbumQuery(q="a", sort=None), other)
    assert ranked[0].album.id == album_id and ranked[0].liked_by_me is False
    assert albums.list(AlbumQuery(sort=Sort("id"))) == [v.album for v in listed]


# Likes --------------------------------------------------------------------------


def test_like_and_unlike_are_idempotent(backend: Backend) -> None:
    likes = repo(backend, "album_likes")
    album_id = add_album(backend)
    fan, other = add_user(backend, "fan"), add_user(backend, "other")
    assert likes.like(fan, album_id) == 1
    assert likes.like(fan, album_id) == 1
    assert likes.like(other, album_id) == 2
    assert likes.unlike(fan, album_id) == 1
    assert likes.unlike(fan, album_id) == 1
    with pytest.raises(AlbumNotFoundError):
        likes.like(fan, 404)
    with pytest.raises(AlbumNotFoundError):
        likes.unlike(fan, 404)
    with pytest.raises(AccountGoneError):
        likes.like(999, album_id)
    assert repo(backend).get_view(album_id, None).like_count == 1


def test_liked_is_newest_like_first_with_keyset_pages(backend: Backend) -> None:
    likes = repo(backend, "album_likes")
    fan, other = add_user(backend, "fan"), add_user(backend, "other")
    ids = [add_album(backend, title) for title in ("a", "b", "c", "d")]
    for album_id in ids:
        likes.like(fan, album_id)
    likes.like(other, ids[0])
    likes.like(other, ids[1])
    everything = likes.liked(fan, after=None, offset=0, limit=100)
    assert [row.view.album.id for row in everything] == ids[::-1]
    assert [row.view.liked_by_me for row in everything] == [True] * 4
    assert [row.view.like_count for row in everything] == [1, 1, 2, 2]
    first = likes.liked(fan, after=None, offset=0, limit=3)
    last = first[-1]
    rest = likes.liked(fan, after=After(last.liked_at, last.view.album.id), offset=0, limit=3)
    assert [row.view.album.id for row in first + rest] == ids[::-1]
    assert likes.liked(fan, after=None, offset=3, limit=3) == everything[3:]
    assert likes.liked(add_user(backend, "nobody"), after=None, offset=0, limit=3) == []


def test_deleting_an_album_or_a_user_takes_their_likes(backend: Backend) -> None:
    likes = repo(backend, "album_likes")
    doomed, kept = add_album(backend, "doomed"), add_album(backend, "kept")
    fan, leaving = add_user(backend, "fan"), add_user(backend, "leaving")
    likes.like(fan, doomed)
    likes.like(fan, kept)
    likes.like(leaving, kept)
    assert repo(backend).delete(doomed) is True
    assert [row.view.album.id for row in likes.liked(fan, after=None, offset=0, limit=10)] == [kept]
    backend.delete("users", leaving)
    assert repo(backend).get_view(kept, fan).like_count == 1


def test_concurrent_likes_give_exact_counts(backend: Backend) -> None:
    """Each call is a unit of work on a connection of its own, as concurrent
    requests are: 12 users like one album twice each, all at once, then 7 unlike."""
    album_id = add_album(backend)
    users = [add_user(backend, f"fan{i}") for i in range(12)]

    def like(user_id: int) -> int:
        return repo(backend, "album_likes").like(user_id, album_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(like, users + users))
    # As if one after another: each new like raised the count by exactly one.
    assert set(counts) == set(range(1, 13))
    assert repo(backend).get_view(album_id, None).like_count == 12

    def unlike(user_id: int) -> int:
        return repo(backend, "album_likes").unlike(user_id, album_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(unlike, users[:7] + users[:7]))
    assert set(counts) == set(range(5, 12))
    assert repo(backend).get_view(album_id, None).like_count == 5


# Discs ----------------------------------------------------------------------------


def tracks(backend: Backend, album_id: int, **paging: Any) -> list[tuple[int, int, int]]:
    paging = {"after": None, "offset": 0, "limit": 100} | paging
    return [(t.disc_number, t.track_number, t.id) for t in repo(backend).tracks(album_id, **paging)]


def test_tracks_order_by_disc_then_track_and_append_per_disc(backend: Backend) -> None:
    albums = repo(backend)
    album_id = add_album(backend)
    s = [add_song(backend, f"s{i}") for i in range(6)]
    first = albums.link(album_id, s[0], None)
    assert (first.disc_number, first.track_number) == (1, 1)
    assert albums.link(album_id, s[1], 5, 2).disc_number == 2
    two = albums.link(album_id, s[2], None, 2)
    assert (two.disc_number, two.track_number) == (2, 6)  # after disc 2's last
    assert albums.link(album_id, s[3], None).track_number == 2  # disc 1's own last
    assert albums.link(album_id, s[4], 1, 2).track_number == 1
    assert tracks(backend, album_id) == [
        (1, 1, s[0]), (1, 2, s[3]), (2, 1, s[4]), (2, 5, s[1]), (2, 6, s[2]),
    ]  # fmt: skip
    # Relinking keeps what is not given; moving discs without a number goes last.
    kept = albums.link(album_id, s[1], None)
    assert (kept.disc_number, kept.track_number) == (2, 5)
    moved = albums.link(album_id, s[0], None, 2)
    assert (moved.disc_number, moved.track_number) == (2, 7)
    renumbered = albums.link(album_id, s[0], 3)
    assert (renumbered.disc_number, renumbered.track_number) == (2, 3)
    back = albums.link(album_id, s[0], 9, 1)
    assert (back.disc_number, back.track_number) == (1, 9)
    assert tracks(backend, album_id) == [
        (1, 2, s[3]), (1, 9, s[0]), (2, 1, s[4]), (2, 5, s[1]), (2, 6, s[2]),
    ]  # fmt: skip


def test_track_pages_follow_disc_and_track(backend: Backend) -> None:
    albums = repo(backend)
    album_id = add_album(backend)
    songs = [add_song(backend, f"s{i}") for i in range(7)]
    for i, song_id in enumerate(reversed(songs)):
        albums.link(album_id, song_id, 1 + i % 2, 1 + i // 3)  # ties within discs
    everything = tracks(backend, album_id)
    assert everything == sorted(everything)
    seen: list[tuple[int, int, int]] = []
    after: After | None = None
    while True:
        page = tracks(backend, album_id, after=after, limit=3)
        seen += page
        if len(page) < 3:
            break
        disc, track, song_id = page[-1]
        after = After((disc, track), song_id)
    assert seen == everything
    assert tracks(backend, album_id, offset=2, limit=3) == everything[2:5]
