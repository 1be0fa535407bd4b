"""The catalogue rules for songs and likes, and the views the API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
)
from song_service.schemas import LikedSongOut, LikeState, SongCreate, SongOut, SongUpdate


class SongService:
    def __init__(self, songs: SongRepository, likes: LikeRepository) -> None:
        self._songs = songs
        self._likes = likes

    def create(self, body: SongCreate) -> SongOut:
        return SongOut.model_validate(self._songs.add(body.model_dump()))

    def get(self, song_id: int, caller: Principal) -> SongOut:
        song = self._songs.get(song_id)
        if song is None:
            raise SongNotFoundError
        return self._views([song], caller)[0]

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
        rows = self._songs.list(query)
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            last = shown[-1]
            next_cursor = keyset_cursor(order, getattr(last, order.field), last.id)
        return Page(self._views(shown, caller), next_cursor)

    def update(self, song_id: int, body: SongUpdate, caller: Principal) -> SongOut:
        changes = body.model_dump(exclude_unset=True)
        song = self._songs.update(song_id, changes) if changes else self._songs.get(song_id)
        if song is None:
            raise SongNotFoundError
        return self._views([song], caller)[0]

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

    def _views(self, songs: list[SongRecord], caller: Principal | None) -> list[SongOut]:
        """Songs with their like counts and, for a signed-in caller, liked_by_me:
        two queries per page, however many songs it has."""
        ids = [song.id for song in songs]
        counts = self._likes.counts(ids)
        mine = self._likes.liked_among(caller.user_id, ids) if caller else None
        return [
            SongOut.model_validate(
                _view_fields(song, counts[song.id], None if mine is None else song.id in mine)
            )
            for song in songs
        ]


def _view_fields(song: SongRecord, like_count: int, liked_by_me: bool | None) -> dict[str, Any]:
    return {**song.__dict__, "like_count": like_count, "liked_by_me": liked_by_me}
