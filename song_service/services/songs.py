"""The catalogue rules for songs and likes, and the views the API returns.

Every public method is one use case and one unit of work: it opens the unit,
calls the repositories inside it and, for a write, commits at the end."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from common.paging import (
    Page,
    PageParams,
    cursor_after,
    keyset_page,
    page_start,
    parse_keyset_cursor,
)
from common.settings import Settings, get_settings
from common.tokens import Principal
from database.keyset import Sort
from database.media import MediaFile, media_fields
from song_service.repos.base import (
    NEWEST_LIKE_FIRST,
    SORTABLE,
    SongNotFoundError,
    SongQuery,
    SongUnitOfWork,
    SongView,
)
from song_service.schemas import LikedSongOut, LikeState, SongCreate, SongOut, SongUpdate
from song_service.services.imports import discard_files

# A page is validated in one call into pydantic's core rather than one per row.
SONG_PAGE = TypeAdapter(list[SongOut])


class SongService:
    def __init__(
        self, unit: Callable[..., SongUnitOfWork], settings: Settings | None = None
    ) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work);
        `settings` say where a deleted song's files are (MEDIA_DIR, CACHE_DIR)."""
        self._unit = unit
        self._settings = settings or get_settings()

    def create(self, body: SongCreate) -> SongOut:
        with self._unit(write=True) as uow:
            song = uow.songs.add(body.model_dump())
            uow.commit()
        return SongOut.model_validate(song)

    def get(self, song_id: int, caller: Principal) -> SongOut:
        with self._unit() as uow:
            view = uow.songs.get_view(song_id, caller.user_id)
            media = uow.media.for_songs([song_id])
        if view is None:
            raise SongNotFoundError
        return _out(view, media)

    def list(
        self,
        page: PageParams,
        *,
        sort: str | None,
        caller: Principal | None,
        q: str | None = None,
        genre: str | None = None,
        artist: str | None = None,
        album_id: int | None = None,
    ) -> Page[SongOut]:
        """A page of songs: ranked by relevance for a `q` without a `sort`
        (API.md, Text: Search), else in (sort, id) order, id by default. The
        next page's cursor names its order, so a cursor of another is a 422."""
        query = SongQuery(
            q=q,
            genre=genre,
            artist=artist,
            album_id=album_id,
            sort=Sort.parse(sort) if sort is not None else None,
        )
        order, after = page_start(page, query.sort, ranked=query.ranked, sortable=SORTABLE)
        # One row more than asked tells whether a next page exists, without a COUNT.
        query = replace(query, sort=order, after=after, offset=page.offset, limit=page.limit + 1)
        with self._unit() as uow:
            rows = uow.songs.list_views(query, caller.user_id if caller else None)
            shown = rows[: page.limit]
            media = uow.media.for_songs([view.song.id for view in shown])
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = cursor_after(shown[-1].song._asdict(), query.sort, query.q)
        return Page(
            SONG_PAGE.validate_python([view_fields(view, media) for view in shown]), next_cursor
        )

    def update(self, song_id: int, body: SongUpdate, caller: Principal) -> SongOut:
        changes = body.model_dump(exclude_unset=True)
        with self._unit(write=True) as uow:
            if changes and uow.songs.update(song_id, changes) is None:
                raise SongNotFoundError
            view = uow.songs.get_view(song_id, caller.user_id)
            media = uow.media.for_songs([song_id])
            uow.commit()
        if view is None:
            raise SongNotFoundError
        return _out(view, media)

    def media_for(self, song_id: int) -> tuple[MediaFile | None, str]:
        """The song's local audio file (None without one) and its `file_url` (the
        redirect target of a song without a file). Raises SongNotFoundError (404)."""
        with self._unit() as uow:
            # One statement: every stream request (each Range of a player) asks.
            found = uow.media.of_song(song_id)
        if found is None:
            raise SongNotFoundError
        return found

    def delete(self, song_id: int) -> None:
        with self._unit(write=True) as uow:
            # Its playlist entries go first, in this unit, and the positions after
            # them close up (API.md, Playlists); the foreign key's cascade would
            # leave gaps.
            uow.playlists.remove_song(song_id)
            media = uow.media.get(song_id)
            if not uow.songs.delete(song_id):
                raise SongNotFoundError
            uow.commit()
        discard_files(song_id, media, self._settings)

    def like(self, song_id: int, caller: Principal) -> LikeState:
        with self._unit(write=True) as uow:
            count = uow.likes.like(caller.user_id, song_id)
            uow.commit()
        return LikeState(song_id=song_id, liked=True, like_count=count)

    def unlike(self, song_id: int, caller: Principal) -> LikeState:
        with self._unit(write=True) as uow:
            count = uow.likes.unlike(caller.user_id, song_id)
            uow.commit()
        return LikeState(song_id=song_id, liked=False, like_count=count)

    def liked(self, page: PageParams, caller: Principal) -> Page[LikedSongOut]:
        after = parse_keyset_cursor(page.cursor, NEWEST_LIKE_FIRST, datetime)
        with self._unit() as uow:
            rows = uow.likes.liked_songs(
                caller.user_id, after=after, offset=page.offset, limit=page.limit + 1
            )
            shown_ids = [row.song.id for row in rows[: page.limit]]
            counts = uow.likes.counts(shown_ids)
            plays = uow.plays.states(shown_ids, caller.user_id)
            media = uow.media.for_songs(shown_ids)
        shown, next_cursor = keyset_page(
            rows, page.limit, NEWEST_LIKE_FIRST, lambda row: (row.liked_at, row.song.id)
        )
        items = [
            LikedSongOut.model_validate(
                view_fields(
                    SongView(row.song, counts[row.song.id], True, *plays[row.song.id]), media
                )
                | {"liked_at": row.liked_at}
            )
            for row in shown
        ]
        return Page(items, next_cursor)


def _out(view: SongView, media: Mapping[int, MediaFile]) -> SongOut:
    return SongOut.model_validate(view_fields(view, media))


def view_fields(view: SongView, media: Mapping[int, MediaFile]) -> dict[str, Any]:
    """A SongView as SongOut's fields: the song's own, its like and play state,
    and its audio file from `media` (song id -> MediaFile, read in the same unit
    by `uow.media.for_songs`)."""
    return {
        "media": media_fields(media.get(view.song.id)),
        **view.song._asdict(),
        "like_count": view.like_count,
        "liked_by_me": view.liked_by_me,
        "play_count": view.play_count,
        "my_play_count": view.my_play_count,
        "last_played_at": view.last_played_at,
    }
