"""The catalogue rules for songs and likes, and the views the API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from common.paging import Page, PageParams, keyset_cursor, parse_keyset_cursor
from common.tokens import Principal
from database.keyset import Sort
from song_service.repos.base import (
    NEWEST_LIKE_FIRST,
    SORTABLE,
    LikeRepository,
    SongNotFoundError,
    SongQuery,
    SongRecord,
    SongRepository,
    SongView,
)
from song_service.schemas import LikedSongOut, LikeState, SongCreate, SongOut, SongUpdate

# A page is validated in one call into pydantic's core rather than one per row.
SONG_PAGE = TypeAdapter(list[SongOut])


class SongService:
    def __init__(self, songs: SongRepository, likes: LikeRepository) -> None:
        self._songs = songs
        self._likes = likes

    def create(self, body: SongCreate) -> SongOut:
        return SongOut.model_validate(self._songs.add(body.model_dump()))

    def get(self, song_id: int, caller: Principal) -> SongOut:
        view = self._songs.get_view(song_id, caller.user_id)
        if view is None:
            raise SongNotFoundError
        return _out(view)

    def list(
        self,
        page: PageParams,
        *,
        sort: str,
        caller: Principal | None,
        q: str | None = None,
        genre: str | None = None,
        artist: str | None = None,
        album_id: int | None = None,
    ) -> Page[SongOut]:
        order = Sort.parse(sort)
        query = SongQuery(
            q=q,
            genre=genre,
            artist=artist,
            album_id=album_id,
            sort=order,
            after=parse_keyset_cursor(page.cursor, order, SORTABLE[order.field]),
            offset=page.offset,
            limit=page.limit + 1,  # one more tells whether a next page exists
        )
        rows = self._songs.list_views(query, caller.user_id if caller else None)
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            last = shown[-1].song
            next_cursor = keyset_cursor(order, getattr(last, order.field), last.id)
        items = [_view_fields(view.song, view.like_count, view.liked_by_me) for view in shown]
        return Page(SONG_PAGE.validate_python(items), next_cursor)

    def update(self, song_id: int, body: SongUpdate, caller: Principal) -> SongOut:
        changes = body.model_dump(exclude_unset=True)
        if changes and self._songs.update(song_id, changes) is None:
            raise SongNotFoundError
        return self.get(song_id, caller)

    def delete(self, song_id: int) -> None:
        if not self._songs.delete(song_id):
            raise SongNotFoundError

    def like(self, song_id: int, caller: Principal) -> LikeState:
        return LikeState(
            song_id=song_id, liked=True, like_count=self._likes.like(caller.user_id, song_id)
        )

    def unlike(self, song_id: int, caller: Principal) -> LikeState:
        count = self._likes.unlike(caller.user_id, song_id)
        return LikeState(song_id=song_id, liked=False, like_count=count)

    def liked(self, page: PageParams, caller: Principal) -> Page[LikedSongOut]:
        after = parse_keyset_cursor(page.cursor, NEWEST_LIKE_FIRST, datetime)
        rows = self._likes.liked_songs(
            caller.user_id, after=after, offset=page.offset, limit=page.limit + 1
        )
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = keyset_cursor(NEWEST_LIKE_FIRST, shown[-1].liked_at, shown[-1].song.id)
        counts = self._likes.counts([row.song.id for row in shown])
        items = [
            LikedSongOut.model_validate(
                _view_fields(row.song, counts[row.song.id], True) | {"liked_at": row.liked_at}
            )
            for row in shown
        ]
        return Page(items, next_cursor)


def _out(view: SongView) -> SongOut:
    return SongOut.model_validate(_view_fields(view.song, view.like_count, view.liked_by_me))


def _view_fields(song: SongRecord, like_count: int, liked_by_me: bool | None) -> dict[str, Any]:
    return {**song._asdict(), "like_count": like_count, "liked_by_me": liked_by_me}
