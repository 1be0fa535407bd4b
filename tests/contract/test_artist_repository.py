"""What every ArtistRepository and ArtistLikeRepository must do, asserted identically
on each backend (album_service's artists domain)."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from album_service.repos.artists_base import (
    SONG_TITLE_ORDER,
    ArtistInUseError,
    ArtistNotFoundError,
    ArtistQuery,
    DuplicateArtistError,
)
from album_service.repos.memory import InMemoryAlbumUnitOfWork
from album_service.repos.sql import SqlAlbumUnitOfWork
from common.errors import AccountGoneError
from database.keyset import After, Sort
from database.tables import folded_key
from tests.contract.conftest import Backend


def repo(backend: Backend, name: str = "artists") -> Any:
    """One of the album unit's repositories, each call one committed unit of work."""
    return backend.repository(memory=InMemoryAlbumUnitOfWork, sql=SqlAlbumUnitOfWork, name=name)


def add_user(backend: Backend, name: str) -> int:
    return backend.insert(
        "users", username=name, email=f"{name}@example.com", password_hash="x", first_name="F"
    )


def add_song(backend: Backend, title: str, artist_id: int | None, **extra: Any) -> int:
    """Songs belong to song_service; this puts a row straight into the songs table."""
    return backend.insert(
        "songs", title=title, artist="someone", genre="rock", artist_id=artist_id,
        file_url=f"https://cdn.example.com/{title}.mp3", **extra,
    )  # fmt: skip


def add_album(backend: Backend, title: str, artist: str, **extra: Any) -> Any:
    return repo(backend, "albums").add({"title": title, "artist": artist, "genre": "rock", **extra})


def page(backend: Backend, viewer: int | None = None, **query: Any) -> list[Any]:
    return repo(backend).list_views(ArtistQuery(**query), viewer)


def names(views: list[Any]) -> list[str]:
    return [view.artist.name for view in views]


# Adding, reading, editing -------------------------------------------------------


def test_add_defaults_the_sort_name_and_refuses_a_folded_duplicate(backend: Backend) -> None:
    artists = repo(backend)
    beyonce = artists.add("Beyoncé", None)
    assert (beyonce.name, beyonce.sort_name) == ("Beyoncé", "Beyoncé")
    assert beyonce.created_at.utcoffset().total_seconds() == 0
    assert artists.get(beyonce.id) == beyonce
    beatles = artists.add("The Beatles", "Beatles, The")
    assert beatles.sort_name == "Beatles, The"
    for same in ("BEYONCE", "beyoncé", "Beyonce"):
        with pytest.raises(DuplicateArtistError):
            artists.add(same, None)
    assert artists.get(404) is None
    assert artists.get_view(404, None) is None


def test_album_and_song_writes_resolve_to_the_same_artist(backend: Backend) -> None:
    artists = repo(backend)
    created = artists.add("Die Ärzte", None)
    album = add_album(backend, "Jazz ist anders", "DIE ÄRZTE")
    assert album.artist_id == created.id


def test_view_counts_cover_and_like_state(backend: Backend) -> None:
    artists = repo(backend)
    artist = artists.add("Counted", None)
    empty = artists.get_view(artist.id, None)
    assert (empty.album_count, empty.song_count, empty.like_count) == (0, 0, 0)
    assert (empty.liked_by_me, empty.cover) == (None, None)
    add_album(backend, "undated", "Counted", cover_image_url="https://c.example/undated.jpg")
    add_album(backend, "old", "Counted", release_date=date(1990, 1, 1),
              cover_image_url="https://c.example/old.jpg")  # fmt: skip
    add_album(backend, "newest but bare", "Counted", release_date=date(2020, 1, 1))
    add_album(backend, "other", "Someone Else", release_date=date(2024, 1, 1),
              cover_image_url="https://c.example/other.jpg")  # fmt: skip
    add_song(backend, "one", artist.id)
    add_song(backend, "two", artist.id)
    fan, other = add_user(backend, "fan"), add_user(backend, "other")
    repo(backend, "artist_likes").like(fan, artist.id)
    view = artists.get_view(artist.id, fan)
    assert (view.album_count, view.song_count, view.like_count) == (3, 2, 1)
    # The newest album that has a cover: dated before undated, newest date first.
    assert view.cover == "https://c.example/old.jpg"
    assert view.liked_by_me is True
    assert artists.get_view(artist.id, other).liked_by_me is False
    assert artists.get_view(artist.id, None).liked_by_me is None
    [listed] = page(backend, fan, q="counted", sort=Sort("id"))
    assert listed == view


def test_cover_falls_back_to_an_undated_album(backend: Backend) -> None:
    artist = repo(backend).add("Undated", None)
    add_album(backend, "a", "Undated", cover_image_url="https://c.example/a.jpg")
    add_album(backend, "b", "Undated", cover_image_url="https://c.example/b.jpg")
    # Among undated albums the newest id wins.
    assert repo(backend).get_view(artist.id, None).cover == "https://c.example/b.jpg"


def test_update_renames_keeps_terms_and_sort_names_in_step(backend: Backend) -> None:
    artists = repo(backend)
    artist = artists.add("Prince", None)
    other = artists.add("Madonna", None)
    renamed = artists.update(artist.id, {"name": "The Artist"})
    assert (renamed.name, renamed.sort_name) == ("The Artist", "The Artist")  # followed
    assert renamed.updated_at >= artist.updated_at
    assert names(page(backend, q="artist")) == ["The Artist"]
    assert page(backend, q="prince") == []
    explicit = artists.update(artist.id, {"sort_name": "Artist, The"})
    assert explicit.sort_name == "Artist, The"
    kept = artists.update(artist.id, {"name": "Prince"})
    assert (kept.name, kept.sort_name) == ("Prince", "Artist, The")  # an own sort name stays
    assert artists.update(artist.id, {"sort_name": None}).sort_name == "Prince"
    assert artists.update(artist.id, {"name": "PRINCE"}).name == "PRINCE"  # its own key
    with pytest.raises(DuplicateArtistError):
        artists.update(artist.id, {"name": "madonna"})
    assert artists.get(other.id).name == "Madonna"
    assert artists.get(artist.id).name == "PRINCE"  # the refused rename left nothing
    assert artists.update(404, {"name": "x"}) is None


# Listing ------------------------------------------------------------------------


def test_name_sorts_by_the_folded_sort_name_then_id(backend: Backend) -> None:
    artists = repo(backend)
    artists.add("Zebra", None)
    artists.add("The Beatles", "Beatles, The")
    artists.add("Ärger", None)
    artists.add("alpha", None)
    artists.add("ALPHA two", "alpha")  # ties with alpha on the key: by id
    assert names(page(backend, sort=Sort("name"))) == [
        "alpha", "ALPHA two", "Ärger", "The Beatles", "Zebra",
    ]  # fmt: skip
    assert names(page(backend, sort=Sort("name", descending=True))) == [
        "Zebra", "The Beatles", "Ärger", "ALPHA two", "alpha",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "sort",
    [Sort("id"), Sort("id", True), Sort("name"), Sort("name", True), Sort("created_at", True)],
)
def test_keyset_pages_cover_every_artist_once(backend: Backend, sort: Sort) -> None:
    artists = repo(backend)
    for name in ("b", "a", "B2", "c", "a", "d"):
        with contextlib.suppress(DuplicateArtistError):  # the second "a"
            artists.add(name, "same" if name in ("b", "c") else None)
    everything = page(backend, sort=sort, limit=100)
    seen: list[Any] = []
    after: After | None = None
    while True:
        rows = page(backend, sort=sort, after=after, limit=2)
        seen += rows
        if len(rows) < 2:
            break
        last = rows[-1].artist
        value = {
            "id": last.id,
            "name": folded_key("sort_name", last.sort_name),
            "created_at": last.created_at,
        }[sort.field]
        after = After(value, last.id)
    assert seen == everything
    assert len(everything) == 5
    assert page(backend, sort=sort, offset=1, limit=2) == everything[1:3]


def test_q_is_ranked_without_a_sort_and_a_filter_with_one(backend: Backend) -> None:
    artists = repo(backend)
    artists.add("Love Songs Orchestra", None)
    artists.add("Beyoncé", None)
    artists.add("Courtney Love", None)
    artists.add("Love", None)
    # Exact name, then name prefix, then a word of the name.
    assert names(page(backend, q="love", sort=None)) == [
        "Love", "Love Songs Orchestra", "Courtney Love",
    ]  # fmt: skip
    assert names(page(backend, q="BEYONCE", sort=None)) == ["Beyoncé"]
    assert names(page(backend, q="love", sort=Sort("name"))) == [
        "Courtney Love", "Love", "Love Songs Orchestra",
    ]  # fmt: skip
    assert page(backend, q="zzz", sort=None) == []
    assert page(backend, q="zzz", sort=Sort("id")) == []
    ranked = page(backend, q="love", sort=None, limit=1)
    assert names(ranked) == ["Love"]


# Deleting ---------------------------------------------------------------------


def test_delete_is_refused_while_an_album_or_a_song_names_the_artist(backend: Backend) -> None:
    artists = repo(backend)
    album = add_album(backend, "a", "Named")
    artist_id = album.artist_id
    with pytest.raises(ArtistInUseError):
        artists.delete(artist_id)
    repo(backend, "albums").delete(album.id)
    song_id = add_song(backend, "s", artist_id)
    with pytest.raises(ArtistInUseError):
        artists.delete(artist_id)
    assert artists.get(artist_id) is not None  # the refusal left it
    backend.delete("songs", song_id)
    fan = add_user(backend, "fan")
    repo(backend, "artist_likes").like(fan, artist_id)
    assert artists.delete(artist_id) is True
    assert artists.get(artist_id) is None
    assert artists.delete(artist_id) is False
    assert repo(backend, "artist_likes").liked(fan, after=None, offset=0, limit=10) == []
    assert page(backend, q="named", sort=None) == []  # its terms went too
    # The name is free again.
    assert artists.add("Named", None).name == "Named"


# Albums and songs of an artist ----------------------------------------------------


def test_albums_come_newest_release_first_undated_last(backend: Backend) -> None:
    artist = repo(backend).add("Prolific", None)
    made = {
        title: add_album(backend, title, "Prolific", release_date=released).id
        for title, released in [
            ("u1", None), ("1999", date(1999, 1, 1)), ("2010a", date(2010, 5, 1)),
            ("u2", None), ("2010b", date(2010, 5, 1)), ("1970", date(1970, 1, 1)),
        ]
    }  # fmt: skip
    add_album(backend, "elsewhere", "Other", release_date=date(2030, 1, 1))
    expected = ["2010b", "2010a", "1999", "1970", "u2", "u1"]
    everything = repo(backend).albums(artist.id, None, after=None, offset=0, limit=100)
    assert [view.album.title for view in everything] == expected
    assert [view.album.id for view in everything] == [made[t] for t in expected]
    seen: list[str] = []
    after: After | None = None
    while True:
        rows = repo(backend).albums(artist.id, None, after=after, offset=0, limit=2)
        seen += [view.album.title for view in rows]
        if len(rows) < 2:
            break
        after = After(rows[-1].album.release_date, rows[-1].album.id)
    assert seen == expected
    offset = repo(backend).albums(artist.id, None, after=None, offset=3, limit=2)
    assert [view.album.title for view in offset] == expected[3:5]
    assert repo(backend).albums(404, None, after=None, offset=0, limit=10) == []


def test_songs_come_by_folded_title_then_id(backend: Backend) -> None:
    artist_id = repo(backend).add("Singer", None).id
    for title in ("beta", "Ärger", "alpha", "Zebra", "alpha"):
        add_song(backend, title, artist_id)
    add_song(backend, "aardvark", None)
    everything = repo(backend).songs(artist_id, after=None, offset=0, limit=100)
    assert [song.title for song in everything] == ["alpha", "alpha", "Ärger", "beta", "Zebra"]
    assert everything[0].id < everything[1].id
    seen: list[int] = []
    after: After | None = None
    while True:
        rows = repo(backend).songs(artist_id, after=after, offset=0, limit=2)
        seen += [song.id for song in rows]
        if len(rows) < 2:
            break
        after = After(folded_key("title", rows[-1].title), rows[-1].id)
    assert seen == [song.id for song in everything]
    assert Sort("title") == SONG_TITLE_ORDER


# Likes --------------------------------------------------------------------------


def test_like_and_unlike_are_idempotent(backend: Backend) -> None:
    likes = repo(backend, "artist_likes")
    artist_id = repo(backend).add("Liked", None).id
    fan, other = add_user(backend, "fan"), add_user(backend, "other")
    assert likes.like(fan, artist_id) == 1
    assert likes.like(fan, artist_id) == 1
    assert likes.like(other, artist_id) == 2
    assert likes.unlike(fan, artist_id) == 1
    assert likes.unlike(fan, artist_id) == 1
    with pytest.raises(ArtistNotFoundError):
        likes.like(fan, 404)
    with pytest.raises(ArtistNotFoundError):
        likes.unlike(fan, 404)
    with pytest.raises(AccountGoneError):
        likes.like(999, artist_id)
    assert repo(backend).get_view(artist_id, other).like_count == 1


def test_liked_is_newest_like_first_with_keyset_pages(backend: Backend) -> None:
    likes = repo(backend, "artist_likes")
    fan, other = add_user(backend, "fan"), add_user(backend, "other")
    ids = [repo(backend).add(name, None).id for name in ("a", "b", "c", "d")]
    for artist_id in ids:
        likes.like(fan, artist_id)
    likes.like(other, ids[0])
    everything = likes.liked(fan, after=None, offset=0, limit=100)
    assert [row.view.artist.id for row in everything] == ids[::-1]
    assert [row.view.liked_by_me for row in everything] == [True] * 4
    assert everything[-1].view.like_count == 2
    first = likes.liked(fan, after=None, offset=0, limit=3)
    last = first[-1]
    rest = likes.liked(fan, after=After(last.liked_at, last.view.artist.id), offset=0, limit=3)
    assert [row.view.artist.id for row in first + rest] == ids[::-1]
    assert likes.liked(fan, after=None, offset=3, limit=3) == everything[3:]
    backend.delete("users", other)
    assert repo(backend).get_view(ids[0], fan).like_count == 1


def test_concurrent_likes_give_exact_counts(backend: Backend) -> None:
    """Each call is a unit of work on a connection of its own, as concurrent
    requests are: 12 users like one artist twice each, all at once."""
    artist_id = repo(backend).add("Popular", None).id
    users = [add_user(backend, f"fan{i}") for i in range(12)]

    def like(user_id: int) -> int:
        return repo(backend, "artist_likes").like(user_id, artist_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(like, users + users))
    # As if one after another: each new like raised the count by exactly one.
    assert set(counts) == set(range(1, 13))
    assert repo(backend).get_view(artist_id, None).like_count == 12

    def unlike(user_id: int) -> int:
        return repo(backend, "artist_likes").unlike(user_id, artist_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(unlike, users[:7] + users[:7]))
    assert set(counts) == set(range(5, 12))
    assert repo(backend).get_view(artist_id, None).like_count == 5
