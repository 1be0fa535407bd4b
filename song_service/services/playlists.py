"""The playlist rules: who may see and change a playlist, and how its entries
change (API.md, Playlists).

Every public method is one use case and one unit of work. An edit first locks the
playlist's row (`uow.playlists.lock`), then decides and writes: edits of one
playlist take turns, so positions stay 0..n-1 with nothing lost or repeated."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import TypeAdapter

from common.errors import ConflictError
from common.paging import BY_ID, Page, PageParams, keyset_cursor, parse_keyset_cursor
from common.tokens import Principal
from database.keyset import Sort
from database.media import MediaFile
from song_service.repos.base import SongNotFoundError, SongUnitOfWork
from song_service.repos.playlists_base import (
    EntryNotFoundError,
    NotPlaylistOwnerError,
    PlaylistAccess,
    PlaylistEntry,
    PlaylistNotFoundError,
    PlaylistQuery,
    PlaylistRecord,
    PositionOutOfRangeError,
)
from song_service.schemas import (
    PlaylistCreate,
    PlaylistEntryOut,
    PlaylistMove,
    PlaylistOut,
    PlaylistSongsAdd,
    PlaylistSongsRemove,
    PlaylistSongsReplace,
    PlaylistUpdate,
)
from song_service.services.songs import view_fields

# Entries are paged by position; the cursor names this order, so a cursor of the
# playlist list (by id) is refused here, and the other way round.
BY_POSITION = Sort("position")
# A playlist's entries at most: bounds what one playlist costs to read and renumber.
MAX_PLAYLIST_LENGTH = 10_000
ENTRY_PAGE = TypeAdapter(list[PlaylistEntryOut])


class PlaylistFullError(ConflictError):
    detail = f"A playlist holds at most {MAX_PLAYLIST_LENGTH} entries"


class UnknownSongsError(SongNotFoundError):
    def __init__(self, song_ids: list[int]) -> None:
        shown = ", ".join(str(song_id) for song_id in song_ids[:10])
        more = ", ..." if len(song_ids) > 10 else ""
        super().__init__(f"Song not found: {shown}{more}")


class PlaylistService:
    def __init__(self, unit: Callable[..., SongUnitOfWork]) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit

    def create(self, body: PlaylistCreate, caller: Principal) -> PlaylistOut:
        """A new playlist of the caller's, with `song_ids` as its first entries;
        an unknown song id is a 404 and nothing is created."""
        fields = body.model_dump(exclude={"song_ids"})
        with self._unit(write=True) as uow:
            _require_songs(uow, body.song_ids)
            playlist_id = uow.playlists.add(caller.user_id, fields)
            if body.song_ids:
                # A new playlist is seen by nobody else yet; the lock is for form.
                uow.playlists.lock(playlist_id)
                uow.playlists.insert(playlist_id, body.song_ids, 0)
            record = uow.playlists.get(playlist_id)
            uow.commit()
        return _out(_found(record))

    def list(
        self, page: PageParams, caller: Principal, *, own_only: bool, q: str | None
    ) -> Page[PlaylistOut]:
        """The caller's playlists and the public ones (only theirs with `own_only`),
        by id; admins see the same list as anyone (they may open any by id)."""
        after = parse_keyset_cursor(page.cursor, BY_ID, int)
        query = PlaylistQuery(
            viewer_id=caller.user_id,
            own_only=own_only,
            q=q,
            after_id=after.id if after else None,
            offset=page.offset,
            # One row more than asked tells whether a next page exists, without a COUNT.
            limit=page.limit + 1,
        )
        with self._unit() as uow:
            rows = uow.playlists.list(query)
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = keyset_cursor(BY_ID, shown[-1].id, shown[-1].id)
        return Page([_out(row) for row in shown], next_cursor)

    def get(self, playlist_id: int, caller: Principal) -> PlaylistOut:
        with self._unit() as uow:
            record = uow.playlists.get(playlist_id)
        if record is None or not _may_read(record, caller):
            raise PlaylistNotFoundError
        return _out(record)

    def update(self, playlist_id: int, body: PlaylistUpdate, caller: Principal) -> PlaylistOut:
        changes = body.model_dump(exclude_unset=True)
        with self._unit(write=True) as uow:
            _lock_own(uow, playlist_id, caller)
            if changes:
                uow.playlists.update(playlist_id, changes)
            record = uow.playlists.get(playlist_id)
            uow.commit()
        return _out(_found(record))

    def delete(self, playlist_id: int, caller: Principal) -> None:
        """The owner's or an admin's; its entries go with it."""
        with self._unit(write=True) as uow:
            access = uow.playlists.lock(playlist_id)
            if access is None or not _may_read(access, caller):
                raise PlaylistNotFoundError
            if access.owner_id != caller.user_id and not caller.is_admin:
                raise NotPlaylistOwnerError
            uow.playlists.delete(playlist_id)
            uow.commit()

    def entries(
        self, playlist_id: int, page: PageParams, caller: Principal
    ) -> Page[PlaylistEntryOut]:
        """A page of the entries in position order, each a song with its position."""
        after = parse_keyset_cursor(page.cursor, BY_POSITION, int)
        with self._unit() as uow:
            access = uow.playlists.access(playlist_id)
            if access is None or not _may_read(access, caller):
                raise PlaylistNotFoundError
            rows = uow.playlists.entries(
                playlist_id,
                after=after.id if after else None,
                offset=page.offset,
                limit=page.limit + 1,
                viewer_id=caller.user_id,
            )
            shown = rows[: page.limit]
            media = uow.media.for_songs([row.view.song.id for row in shown])
        next_cursor = None
        if len(rows) > page.limit:
            last = shown[-1].position
            next_cursor = keyset_cursor(BY_POSITION, last, last)
        return Page(
            ENTRY_PAGE.validate_python([_entry_fields(row, media) for row in shown]), next_cursor
        )

    def add_songs(self, playlist_id: int, body: PlaylistSongsAdd, caller: Principal) -> PlaylistOut:
        """Insert the songs at `position` (0..song_count; default the end): a
        position past the end is a 422, not clamped, so a client that read a
        stale length finds out."""
        with self._unit(write=True) as uow:
            _lock_own(uow, playlist_id, caller)
            _require_songs(uow, body.song_ids)
            length = uow.playlists.length(playlist_id)
            position = length if body.position is None else body.position
            if position > length:
                raise PositionOutOfRangeError("position", length, inclusive=True)
            if length + len(body.song_ids) > MAX_PLAYLIST_LENGTH:
                raise PlaylistFullError
            uow.playlists.insert(playlist_id, body.song_ids, position)
            uow.playlists.touch(playlist_id)
            record = uow.playlists.get(playlist_id)
            uow.commit()
        return _out(_found(record))

    def replace_songs(
        self, playlist_id: int, body: PlaylistSongsReplace, caller: Principal
    ) -> PlaylistOut:
        with self._unit(write=True) as uow:
            _lock_own(uow, playlist_id, caller)
            _require_songs(uow, body.song_ids)
            uow.playlists.replace(playlist_id, body.song_ids)
            uow.playlists.touch(playlist_id)
            record = uow.playlists.get(playlist_id)
            uow.commit()
        return _out(_found(record))

    def move(self, playlist_id: int, body: PlaylistMove, caller: Principal) -> PlaylistOut:
        """Move one entry; `from` or `to` past the last entry is a 422."""
        with self._unit(write=True) as uow:
            _lock_own(uow, playlist_id, caller)
            length = uow.playlists.length(playlist_id)
            for field, value in (("from", body.source), ("to", body.target)):
                if value >= length:
                    raise PositionOutOfRangeError(field, length, inclusive=False)
            if body.source != body.target:
                uow.playlists.move(playlist_id, body.source, body.target)
                uow.playlists.touch(playlist_id)
            record = uow.playlists.get(playlist_id)
            uow.commit()
        return _out(_found(record))

    def remove_many(
        self, playlist_id: int, body: PlaylistSongsRemove, caller: Principal
    ) -> PlaylistOut:
        """Remove the entries at `positions` (positions before this call; a repeat
        counts once) in one unit, the rest closing up in order. A position that is
        not an entry (0..song_count-1) is a 422 naming `positions`, as `move`'s
        are, and nothing is removed: the caller read a stale playlist."""
        positions = sorted(set(body.positions), reverse=True)
        with self._unit(write=True) as uow:
            _lock_own(uow, playlist_id, caller)
            length = uow.playlists.length(playlist_id)
            if positions[0] >= length:  # descending: the first is the highest
                raise PositionOutOfRangeError("positions", length, inclusive=False)
            uow.playlists.remove_positions(playlist_id, positions)
            uow.playlists.touch(playlist_id)
            record = uow.playlists.get(playlist_id)
            uow.commit()
        return _out(_found(record))

    def remove(self, playlist_id: int, position: int, caller: Principal) -> None:
        """Remove one entry; those after it move up one. 404 when there is none."""
        with self._unit(write=True) as uow:
            _lock_own(uow, playlist_id, caller)
            if not uow.playlists.remove(playlist_id, position):
                raise EntryNotFoundError
            uow.playlists.touch(playlist_id)
            uow.commit()


def _may_read(playlist: PlaylistRecord | PlaylistAccess, caller: Principal) -> bool:
    return playlist.public or playlist.owner_id == caller.user_id or caller.is_admin


def _lock_own(uow: SongUnitOfWork, playlist_id: int, caller: Principal) -> None:
    """Lock the playlist for an owner-only edit: 404 to whoever may not even see it
    (a private playlist's existence is not revealed), 403 to other readers."""
    access = uow.playlists.lock(playlist_id)
    if access is None or not _may_read(access, caller):
        raise PlaylistNotFoundError
    if access.owner_id != caller.user_id:
        raise NotPlaylistOwnerError


def _require_songs(uow: SongUnitOfWork, song_ids: list[int]) -> None:
    missing = uow.playlists.missing_songs(song_ids)
    if missing:
        raise UnknownSongsError(missing)


def _found(record: PlaylistRecord | None) -> PlaylistRecord:
    if record is None:  # cannot happen: read inside the unit that holds its lock
        raise PlaylistNotFoundError
    return record


def _out(record: PlaylistRecord) -> PlaylistOut:
    return PlaylistOut(
        id=record.id,
        name=record.name,
        description=record.description,
        public=record.public,
        owner={"id": record.owner_id, "username": record.owner_username},
        song_count=record.song_count,
        duration=record.duration,
        cover=record.cover,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _entry_fields(entry: PlaylistEntry, media: Mapping[int, MediaFile]) -> dict[str, Any]:
    """An entry as the songs' own reads show a song, with its position."""
    return view_fields(entry.view, media) | {"position": entry.position}
