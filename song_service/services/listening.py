"""Listening history (API.md, Listening history): recording plays, the caller's
history and their most played songs. Every public method is one use case and one
unit of work. Only POST /songs/{id}/plays records plays: streaming never does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from common.paging import (
    Page,
    PageParams,
    keyset_page,
    offset_cursor,
    page_offset,
    parse_keyset_cursor,
)
from common.tokens import Principal
from database.types import utcnow
from song_service.repos.base import SongUnitOfWork
from song_service.repos.plays_base import NEWEST_PLAY_FIRST
from song_service.schemas import PlayedSongOut, PlayRecorded, TopPeriod, TopSongOut
from song_service.services.songs import view_fields

# Rolling windows ending now; "all" has no start.
PERIODS: dict[str, timedelta | None] = {
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
    "all": None,
}
TOP_CURSOR = "top"  # the name offset cursors of /songs/top carry


class ListeningService:
    def __init__(self, unit: Callable[..., SongUnitOfWork]) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit

    def record(
        self, song_id: int, caller: Principal, played_at: datetime | None
    ) -> tuple[bool, PlayRecorded]:
        """Record a play (now, unless the client says when); (whether it was new,
        the play). The same (user, song, played_at) again is not new and counts once."""
        when = played_at or utcnow()
        with self._unit(write=True) as uow:
            result = uow.plays.record(caller.user_id, song_id, when)
            uow.commit()
        return result.created, PlayRecorded(
            song_id=song_id, played_at=when, play_count=result.play_count
        )

    def history(self, page: PageParams, caller: Principal) -> Page[PlayedSongOut]:
        """The caller's plays, newest first, keyset-paged on (played_at, song id)."""
        after = parse_keyset_cursor(page.cursor, NEWEST_PLAY_FIRST, datetime)
        with self._unit() as uow:
            rows = uow.plays.history(
                caller.user_id, after=after, offset=page.offset, limit=page.limit + 1
            )
            media = uow.media.for_songs([row.view.song.id for row in rows[: page.limit]])
        shown, next_cursor = keyset_page(
            rows, page.limit, NEWEST_PLAY_FIRST, lambda row: (row.played_at, row.view.song.id)
        )
        items = [
            PlayedSongOut.model_validate(
                view_fields(row.view, media) | {"played_at": row.played_at}
            )
            for row in shown
        ]
        return Page(items, next_cursor)

    def top(self, page: PageParams, caller: Principal, period: TopPeriod) -> Page[TopSongOut]:
        """The caller's most played songs in the period (a rolling window ending
        now), by plays in it, ties by song id; offset-paged."""
        window = PERIODS[period]
        since = None if window is None else utcnow() - window
        offset = page_offset(page, TOP_CURSOR)
        with self._unit() as uow:
            rows = uow.plays.top(caller.user_id, since=since, offset=offset, limit=page.limit + 1)
            shown = rows[: page.limit]
            media = uow.media.for_songs([row.view.song.id for row in shown])
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = offset_cursor(TOP_CURSOR, offset + page.limit)
        items = [
            TopSongOut.model_validate(view_fields(row.view, media) | {"plays": row.plays})
            for row in shown
        ]
        return Page(items, next_cursor)
