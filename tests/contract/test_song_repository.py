"""What every SongRepository and LikeRepository must do, asserted identically on
each backend: filters, sorts with ties, keyset pages, likes and cascades."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import insert

from common.errors import AccountGoneError
from database.keyset import After, Sort
from database.models import AlbumSong
from song_service.repos.base import (
    LikeRepository,
    SongNotFoundError,
    SongQuery,
    SongRecord,
    SongRepository,
)
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.repos.sql import SqlSongUnitOfWork
from tests.contract.conftest import Backend


def songs_repo(backend: Backend) -> SongRepository:
    """The songs repository, each call one committed unit of work."""
    return backend.repository(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork, name="songs")


def likes_repo(backend: Backend) -> LikeRepository:
    """The likes repository, each call one committed unit of work."""
    return backend.repository(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork, name="likes")


def listed(repo: SongRepository, query: SongQuery) -> list[SongRecord]:
    """The songs of a page as an anonymous caller sees it."""
    return [view.song for view in repo.list_views(query, None)]


def new_song(title: str = "song", **fields: Any) -> dict[str, Any]:
    return {"title": title, "artist": "artist", "genre": "rock", "file_url": "/f.mp3", **fields}


_user_numbers = itertools.count(1)


def add_user(backend: Backend) -> int:
    number = next(_user_numbers)
    return backend.insert(
        "users", username=f"u{number}", email=f"u{number}@x.io", password_hash="x",
        first_name="U", role="user",
    )  # fmt: skip


def delete_user(backend: Backend, user_id: int) -> None:
    backend.delete("users", user_id)


def link(backend: Backend, album_id: int, song_id: int, track: int) -> None:
    if backend.memory is not None:
        backend.memory.album_songs[(album_id, song_id)] = {
            "album_id": album_id, "song_id": song_id, "track_number": track,
        }  # fmt: skip
        return
    assert backend.database is not None
    with backend.database.connect(write=True) as connection:
        connection.execute(
            insert(AlbumSong).values(album_id=album_id, song_id=song_id, track_number=track)
        )
        connection.commit()


def add_album(backend: Backend) -> int:
    return backend.insert("albums", title="al", artist="ar", genre="g")


def liked_by(backend: Backend, user_id: int) -> set[int]:
    """The ids of the songs the user likes, as the views tell them."""
    views = songs_repo(backend).list_views(SongQuery(limit=1000), user_id)
    return {view.song.id for view in views if view.liked_by_me}


def ids(records: list) -> list[int]:
    return [record.id for record in records]


def test_add_get_update_delete(backend: Backend) -> None:
    repo = songs_repo(backend)
    song = repo.add(new_song(duration=10, release_date=None))
    assert repo.get(song.id) == song
    assert song.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    updated = repo.update(song.id, {"title": "new", "description": None})
    assert updated is not None
    assert (updated.title, updated.duration, updated.created_at) == ("new", 10, song.created_at)
    assert updated.updated_at >= song.updated_at
    assert repo.delete(song.id) is True
    assert repo.get(song.id) is None
    assert repo.delete(song.id) is False
    assert repo.update(song.id, {"title": "x"}) is None


def test_filters(backend: Backend) -> None:
    repo = songs_repo(backend)
    a = repo.add(new_song("blue moon", artist="ella", genre="jazz"))
    b = repo.add(new_song("moonlight", artist="beethoven", genre="classical"))
    c = repo.add(new_song("sun", artist="the moons", genre="jazz"))
    assert ids(listed(repo, SongQuery(q="moon"))) == [a.id, b.id, c.id]
    assert ids(listed(repo, SongQuery(q="MOON", genre="jazz"))) == [a.id, c.id]
    assert ids(listed(repo, SongQuery(artist="ella"))) == [a.id]
    assert ids(listed(repo, SongQuery(q="nothing"))) == []


def test_search_treats_like_wildcards_literally(backend: Backend) -> None:
    repo = songs_repo(backend)
    percent = repo.add(new_song("100% love"))
    thousand = repo.add(new_song("1000 love"))
    underscore = repo.add(new_song("a_b"))
    repo.add(new_song("axb"))
    assert ids(listed(repo, SongQuery(q="100% l"))) == [percent.id, thousand.id]
    assert ids(listed(repo, SongQuery(q="1%0"))) == []  # not a pattern for "100"
    assert ids(listed(repo, SongQuery(q="a_b"))) == [underscore.id]  # nor "a_b" for "axb"
    assert ids(listed(repo, SongQuery(q="_"))) == []
    assert ids(listed(repo, SongQuery(q="/"))) == []


@pytest.mark.parametrize("sort", ["id", "-id", "title", "-title", "artist", "-genre", "created_at"])
def test_sorted_keyset_pages_cover_everything_once(backend: Backend, sort: str) -> None:
    repo = songs_repo(backend)
    for i in range(9):  # repeated titles and artists: ties must be broken by id
        repo.add(new_song(f"t{i % 3}", artist=f"a{i % 2}", genre=f"g{i % 4}"))
    order = Sort.parse(sort)
    everything = listed(repo, SongQuery(sort=order, limit=100))
    keys = [(getattr(s, order.field), s.id) for s in everything]
    assert keys == sorted(keys, reverse=order.descending)
    seen, after = [], None
    while True:
        chunk = listed(repo, SongQuery(sort=order, after=after, limit=2))
        if not chunk:
            break
        seen += chunk
        after = After(getattr(chunk[-1], order.field), chunk[-1].id)
    assert ids(seen) == ids(everything)


def test_offset_and_limit(backend: Backend) -> None:
    repo = songs_repo(backend)
    all_ids = [repo.add(new_song(f"s{i}")).id for i in range(5)]
    assert ids(listed(repo, SongQuery(offset=3, limit=10))) == all_ids[3:]
    assert ids(listed(repo, SongQuery(limit=2))) == all_ids[:2]


def test_album_filter(backend: Backend) -> None:
    repo = songs_repo(backend)
    first, second, _ = (repo.add(new_song(f"s{i}")) for i in range(3))
    album_id = add_album(backend)
    link(backend, album_id, second.id, 1)
    link(backend, album_id, first.id, 2)
    assert ids(listed(repo, SongQuery(album_id=album_id))) == [first.id, second.id]
    assert ids(listed(repo, SongQuery(album_id=album_id + 100))) == []


def test_likes_are_idempotent_and_counted(backend: Backend) -> None:
    song = songs_repo(backend).add(new_song())
    other = songs_repo(backend).add(new_song())
    likes = likes_repo(backend)
    alice, bob = add_user(backend), add_user(backend)
    assert likes.like(alice, song.id) == 1
    assert likes.like(alice, song.id) == 1
    assert likes.like(bob, song.id) == 2
    assert likes.counts([song.id, other.id]) == {song.id: 2, other.id: 0}
    assert liked_by(backend, alice) == {song.id}
    assert likes.unlike(alice, song.id) == 1
    assert likes.unlike(alice, song.id) == 1
    assert likes.counts([]) == {} and liked_by(backend, alice) == set()


def test_liking_what_does_not_exist(backend: Backend) -> None:
    likes = likes_repo(backend)
    with pytest.raises(SongNotFoundError):
        likes.like(add_user(backend), 999)
    with pytest.raises(SongNotFoundError):
        likes.unlike(add_user(backend), 999)
    song = songs_repo(backend).add(new_song())
    with pytest.raises(AccountGoneError):
        likes.like(424242, song.id)
    assert likes.counts([song.id]) == {song.id: 0}


def test_liked_songs_newest_first_with_keyset(backend: Backend) -> None:
    repo, likes = songs_repo(backend), likes_repo(backend)
    user = add_user(backend)
    songs = [repo.add(new_song(f"s{i}")) for i in range(5)]
    for song in songs:
        likes.like(user, song.id)
    everything = likes.liked_songs(user, after=None, offset=0, limit=100)
    assert [row.song.id for row in everything] == ids(songs)[::-1]
    first = likes.liked_songs(user, after=None, offset=0, limit=2)
    rest = likes.liked_songs(
        user, after=After(first[-1].liked_at, first[-1].song.id), offset=0, limit=100
    )
    assert [row.song.id for row in first + rest] == [row.song.id for row in everything]
    assert likes.liked_songs(add_user(backend), after=None, offset=0, limit=10) == []


def test_deleting_a_song_or_a_user_removes_their_likes(backend: Backend) -> None:
    repo, likes = songs_repo(backend), likes_repo(backend)
    song, kept = repo.add(new_song()), repo.add(new_song())
    alice, bob = add_user(backend), add_user(backend)
    for user in (alice, bob):
        likes.like(user, song.id)
        likes.like(user, kept.id)
    delete_user(backend, alice)
    assert likes.counts([song.id, kept.id]) == {song.id: 1, kept.id: 1}
    repo.delete(song.id)
    assert [row.song.id for row in likes.liked_songs(bob, after=None, offset=0, limit=10)] == [
        kept.id
    ]


def test_views_carry_like_count_and_the_viewers_like(backend: Backend) -> None:
    repo, likes = songs_repo(backend), likes_repo(backend)
    song, other = repo.add(new_song("a")), repo.add(new_song("b"))
    alice, bob = add_user(backend), add_user(backend)
    likes.like(alice, song.id)
    likes.like(bob, song.id)
    view = repo.get_view(song.id, alice)
    assert view is not None
    assert (view.song, view.like_count, view.liked_by_me) == (song, 2, True)
    assert repo.get_view(other.id, alice).liked_by_me is False  # type: ignore[union-attr]
    assert repo.get_view(song.id, None).liked_by_me is None  # type: ignore[union-attr]
    assert repo.get_view(9999, alice) is None
    views = repo.list_views(SongQuery(sort=Sort("id")), bob)
    assert [(v.song.id, v.like_count, v.liked_by_me) for v in views] == [
        (song.id, 2, True), (other.id, 0, False)
    ]  # fmt: skip
    assert [v.song for v in views] == listed(repo, SongQuery(sort=Sort("id")))
