from __future__ import annotations

import pytest

from album_service.repos.base import AlbumNotFoundError, SongNotFoundError
from album_service.schemas import AlbumCreate, AlbumOut, AlbumUpdate
from album_service.services.albums import AlbumService, parse_track_cursor
from album_service.tests.conftest import SongFactory
from common.paging import PageParams, parse_keyset_cursor
from database.keyset import After, Sort
from database.memory import MemoryDatabase


def create(service: AlbumService, title: str = "abbey road", **extra: str) -> AlbumOut:
    fields = {"artist": "the beatles", "genre": "rock", **extra}
    return service.create(AlbumCreate(title=title, **fields))


def page(limit: int = 10, cursor: str | None = None) -> PageParams:
    return PageParams(limit=limit, offset=0, cursor=cursor)


def after(cursor: str | None, sort: Sort, kind: type) -> After | None:
    """What a next-page cursor points after: the last row's sort value and id."""
    return parse_keyset_cursor(cursor, sort, kind)


def test_create_and_get(service: AlbumService) -> None:
    album = create(service, description="Side two is one long medley")
    assert service.get(album.id) == album
    assert album.cover_image_url is None
    assert album.created_at == album.updated_at


def test_get_missing_raises_not_found(service: AlbumService) -> None:
    with pytest.raises(AlbumNotFoundError) as caught:
        service.get(99)
    assert (caught.value.status_code, caught.value.detail) == (404, "Album not found")


def test_update_changes_only_the_fields_sent(service: AlbumService) -> None:
    album = create(service, description="old")
    updated = service.update(album.id, AlbumUpdate(title="let it be"))
    assert (updated.title, updated.artist, updated.description) == (
        "let it be",
        "the beatles",
        "old",
    )
    cleared = service.update(album.id, AlbumUpdate(description=None))
    assert cleared.description is None and cleared.title == "let it be"


def test_empty_update_returns_the_album_unchanged(service: AlbumService) -> None:
    album = create(service)
    assert service.update(album.id, AlbumUpdate()) == album
    with pytest.raises(AlbumNotFoundError):
        service.update(999, AlbumUpdate())


def test_update_and_delete_of_missing_album_raise_not_found(service: AlbumService) -> None:
    with pytest.raises(AlbumNotFoundError):
        service.update(999, AlbumUpdate(title="x"))
    with pytest.raises(AlbumNotFoundError):
        service.delete(999)


def test_list_fetches_one_extra_row_to_know_about_a_next_page(service: AlbumService) -> None:
    ids = [create(service, f"album {i}").id for i in range(5)]
    first = service.list(page(2), sort="id")
    assert [a.id for a in first.items] == ids[:2]
    next_after = after(first.next_cursor, Sort("id"), int)
    assert next_after is not None and next_after.id == ids[1]
    last = service.list(page(3, first.next_cursor), sort="id")
    assert [a.id for a in last.items] == ids[2:]
    assert last.next_cursor is None


def test_next_page_key_is_the_sort_value_of_the_last_row(service: AlbumService) -> None:
    for title in ("b", "a", "c"):
        create(service, title)
    result = service.list(page(2), sort="-title")
    assert [a.title for a in result.items] == ["c", "b"]
    next_after = after(result.next_cursor, Sort("title", descending=True), str)
    assert next_after is not None and next_after.value == "b"


def test_tracks_of_a_missing_album_raise_not_found(service: AlbumService) -> None:
    with pytest.raises(AlbumNotFoundError):
        service.tracks(999, page())


def test_link_appends_and_is_idempotent(service: AlbumService, add_song: SongFactory) -> None:
    album = create(service)
    first, second = add_song("one"), add_song("two")
    assert service.link(album.id, first, None).track_number == 1
    assert service.link(album.id, second, None).track_number == 2
    assert service.link(album.id, first, None).track_number == 1  # keeps its place
    assert service.link(album.id, first, 7).track_number == 7
    tracks = service.tracks(album.id, page()).items
    assert [(t.id, t.track_number) for t in tracks] == [(second, 2), (first, 7)]


def test_track_pages_follow_on(service: AlbumService, add_song: SongFactory) -> None:
    album = create(service)
    songs = [add_song(f"s{i}") for i in range(5)]
    for song_id in songs:
        service.link(album.id, song_id, None)
    first = service.tracks(album.id, page(3))
    next_after = parse_track_cursor(first.next_cursor)
    assert next_after is not None
    assert (next_after.value, next_after.id) == ((1, 3), songs[2])  # (disc, track), song
    rest = service.tracks(album.id, page(3, first.next_cursor))
    assert [t.id for t in first.items + rest.items] == songs
    assert rest.next_cursor is None


def test_link_refuses_missing_album_or_song(service: AlbumService, add_song: SongFactory) -> None:
    album = create(service)
    with pytest.raises(AlbumNotFoundError):
        service.link(999, add_song(), None)
    with pytest.raises(SongNotFoundError) as caught:
        service.link(album.id, 999, None)
    assert caught.value.detail == "Song not found"


def test_unlink_is_idempotent_but_needs_the_album(
    service: AlbumService, add_song: SongFactory
) -> None:
    album, song_id = create(service), add_song()
    service.link(album.id, song_id, None)
    service.unlink(album.id, song_id)
    service.unlink(album.id, song_id)
    assert service.tracks(album.id, page()).items == []
    with pytest.raises(AlbumNotFoundError):
        service.unlink(999, song_id)


def test_delete_takes_the_links_but_not_the_songs(
    service: AlbumService, add_song: SongFactory, memory_db: MemoryDatabase
) -> None:
    album, song_id = create(service), add_song()
    service.link(album.id, song_id, None)
    service.delete(album.id)
    assert memory_db.album_songs == {}
    assert song_id in memory_db.songs
