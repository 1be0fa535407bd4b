from __future__ import annotations

from collections.abc import Callable

import pytest

from common.errors import AccountGoneError
from common.paging import InvalidCursorError, PageParams
from common.tokens import Principal
from song_service.repos.base import SongNotFoundError
from song_service.schemas import SongCreate, SongUpdate
from song_service.services.songs import SongService
from song_service.tests.conftest import song


def caller(user_id: int) -> Principal:
    return Principal(user_id, "user", "jti", 0)


def page(limit: int = 50, cursor: str | None = None, offset: int = 0) -> PageParams:
    return PageParams(limit=limit, offset=offset, cursor=cursor)


def test_create_and_get_with_like_state(service: SongService, add_user: Callable[[], int]) -> None:
    created = service.create(SongCreate(**song(duration=215)))
    user = add_user()
    assert created.like_count == 0 and created.liked_by_me is None
    service.like(created.id, caller(user))
    seen = service.get(created.id, caller(user))
    assert (seen.like_count, seen.liked_by_me, seen.duration) == (1, True, 215)
    assert service.get(created.id, caller(add_user())).liked_by_me is False


def test_likes_are_idempotent_and_counted_per_user(
    service: SongService, add_user: Callable[[], int]
) -> None:
    song_id = service.create(SongCreate(**song())).id
    alice, bob = caller(add_user()), caller(add_user())
    assert service.like(song_id, alice).like_count == 1
    assert service.like(song_id, alice).like_count == 1
    assert service.like(song_id, bob).like_count == 2
    assert service.unlike(song_id, alice).model_dump() == {
        "song_id": song_id, "liked": False, "like_count": 1,
    }  # fmt: skip
    assert service.unlike(song_id, alice).like_count == 1


def test_liking_a_missing_song_or_as_a_deleted_account(
    service: SongService, add_user: Callable[[], int]
) -> None:
    with pytest.raises(SongNotFoundError):
        service.like(999, caller(add_user()))
    with pytest.raises(SongNotFoundError):
        service.unlike(999, caller(add_user()))
    song_id = service.create(SongCreate(**song())).id
    with pytest.raises(AccountGoneError):
        service.like(song_id, caller(12345))


def test_liked_songs_newest_first_and_paged(
    service: SongService, add_user: Callable[[], int]
) -> None:
    user = caller(add_user())
    ids = [service.create(SongCreate(**song(title=f"s{i}"))).id for i in range(5)]
    for song_id in ids:
        service.like(song_id, user)
    seen, cursor = [], None
    while True:
        result = service.liked(page(limit=2, cursor=cursor), user)
        seen += [item.id for item in result.items]
        assert all(item.liked_by_me for item in result.items)
        if result.next_cursor is None:
            break
        cursor = result.next_cursor
    assert seen == ids[::-1]


def test_list_filters_and_sorts(service: SongService) -> None:
    for title, artist, genre in [("b", "x", "rock"), ("a", "y", "jazz"), ("c", "x", "rock")]:
        service.create(SongCreate(**song(title=title, artist=artist, genre=genre)))
    titles = lambda result: [item.title for item in result.items]  # noqa: E731
    assert titles(service.list(page(), sort="title", caller=None)) == ["a", "b", "c"]
    assert titles(service.list(page(), sort="-title", caller=None)) == ["c", "b", "a"]
    assert titles(service.list(page(), sort="id", caller=None, genre="rock")) == ["b", "c"]
    assert titles(service.list(page(), sort="id", caller=None, artist="y")) == ["a"]
    assert titles(service.list(page(), sort="id", caller=None, q="X")) == ["b", "c"]


def test_a_cursor_only_fits_its_own_sort(service: SongService) -> None:
    for i in range(3):
        service.create(SongCreate(**song(title=f"t{i}")))
    first = service.list(page(limit=1), sort="title", caller=None)
    assert first.next_cursor is not None
    with pytest.raises(InvalidCursorError):
        service.list(page(limit=1, cursor=first.next_cursor), sort="-id", caller=None)


def test_partial_update_keeps_other_fields(service: SongService) -> None:
    created = service.create(SongCreate(**song(description="old", duration=10)))
    updated = service.update(created.id, SongUpdate(title="New"), caller(1))
    assert (updated.title, updated.description, updated.duration) == ("New", "old", 10)
    assert updated.updated_at >= created.updated_at
    with pytest.raises(SongNotFoundError):
        service.update(999, SongUpdate(title="x"), caller(1))


def test_delete_removes_the_song_and_its_likes(
    service: SongService, add_user: Callable[[], int], memory_db
) -> None:
    song_id = service.create(SongCreate(**song())).id
    service.like(song_id, caller(add_user()))
    service.delete(song_id)
    assert memory_db.user_likes == {}
    with pytest.raises(SongNotFoundError):
        service.delete(song_id)
