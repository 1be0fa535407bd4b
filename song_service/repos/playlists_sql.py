"""Playlists in the shared SQL database, with Core statements mapped to records.
The repository runs on the connection of the caller's unit of work and never
commits.

Positions under the (playlist_id, position) primary key are renumbered in two
statements that never collide on any database, whatever order it updates rows
in and whenever it checks the key: the first gives each moving entry a negative
"parked" position, -(its new position) - 1, which no other entry has; the
second (SETTLE) turns every parked position into its new one, which no entry
still holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from common.errors import AccountGoneError
from database.tables import playlist_songs, playlists, songs, users, words_key
from database.types import utcnow
from database.unit_of_work import RerunUnit, locked
from database.writes import insert_stamped
from song_service.repos.base import SongNotFoundError
from song_service.repos.playlists_base import (
    PlaylistAccess,
    PlaylistEntry,
    PlaylistQuery,
    PlaylistRecord,
    name_words,
)
from song_service.repos.views_sql import SONG_COLUMNS, VIEW_STATE, song_view, viewer_params

LOCK_SONG = locked(select(songs.c.id).where(songs.c.id == bindparam("song_id")), songs)

entry = playlist_songs.alias("entry")
# The figures computed from a playlist's entries, as correlated subqueries built
# once: a page of playlists is one statement, and always agrees with the songs.
SONG_COUNT = (
    select(func.count())
    .select_from(entry)
    .where(entry.c.playlist_id == playlists.c.id)
    .scalar_subquery()
)
DURATION = (
    select(func.coalesce(func.sum(songs.c.duration), 0))
    .select_from(entry.join(songs, songs.c.id == entry.c.song_id))
    .where(entry.c.playlist_id == playlists.c.id)
    .scalar_subquery()
)
COVER = (
    select(songs.c.cover_image_url)
    .select_from(entry.join(songs, songs.c.id == entry.c.song_id))
    .where(entry.c.playlist_id == playlists.c.id, songs.c.cover_image_url.is_not(None))
    .order_by(entry.c.position)
    .limit(1)
    .scalar_subquery()
)
PLAYLIST_COLUMNS = [
    playlists.c.id,
    playlists.c.name,
    playlists.c.description,
    playlists.c.public,
    playlists.c.owner_id,
    users.c.username,
    SONG_COUNT,
    DURATION,
    COVER,
    playlists.c.created_at,
    playlists.c.updated_at,
]
PLAYLISTS = select(*PLAYLIST_COLUMNS).select_from(
    playlists.join(users, users.c.id == playlists.c.owner_id)
)
BY_ID = PLAYLISTS.where(playlists.c.id == bindparam("playlist_id"))
ACCESS = select(playlists.c.owner_id, playlists.c.public).where(
    playlists.c.id == bindparam("playlist_id")
)
LOCK_PLAYLIST = locked(ACCESS, playlists)
LENGTH = (
    select(func.count())
    .select_from(playlist_songs)
    .where(playlist_songs.c.playlist_id == bindparam("playlist_id"))
)
# Bound as "list_id": an UPDATE of playlist_songs reserves its column names.
ENTRIES_OF = playlist_songs.c.playlist_id == bindparam("list_id")
# Lower case: ruff takes an upper-case name on the left of a comparison for a constant.
slot = playlist_songs.c.position
# Every parked position back to the one it stands for (see the module docstring).
SETTLE = update(playlist_songs).where(ENTRIES_OF, slot < 0).values(position=-slot - 1)
# Entries from `start` on parked `by` places further on (negative `by`: back).
PARK_FROM = (
    update(playlist_songs)
    .where(ENTRIES_OF, slot >= bindparam("start"))
    .values(position=-(slot + bindparam("by")) - 1)
)
INSERT_ENTRY = insert(playlist_songs)
DELETE_AT = delete(playlist_songs).where(ENTRIES_OF, slot == bindparam("at"))
TOUCH = (
    update(playlists)
    .where(playlists.c.id == bindparam("playlist_id"))
    .values(updated_at=bindparam("now"))
)
# The song's view first (views_sql.song_view reads it), the position last.
ENTRY_PAGE = (
    select(*SONG_COLUMNS, *VIEW_STATE, slot)
    .select_from(playlist_songs.join(songs, songs.c.id == playlist_songs.c.song_id))
    .where(ENTRIES_OF, slot > bindparam("after"))
    .order_by(slot)
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)
# The playlists holding a song, in id order; locked, two song deletes sharing
# playlists lock them in the same order, so neither can wait on the other.
HOLDING_SONG = (
    select(playlists.c.id)
    .where(
        playlists.c.id.in_(
            select(playlist_songs.c.playlist_id).where(
                playlist_songs.c.song_id == bindparam("song_id")
            )
        )
    )
    .order_by(playlists.c.id)
)
PLAYLISTS_WITH_SONG = locked(
    HOLDING_SONG,
    playlists,
)
# LIKE patterns carry user text: this character escapes its wildcards. Not the
# backslash, which MySQL string literals treat specially.
LIKE_ESCAPE = "/"


def _like_literal(text: str) -> str:
    """`text` matching itself in a LIKE pattern on every database ('[' is a
    wildcard on SQL Server)."""
    for char in (LIKE_ESCAPE, "%", "_", "["):
        text = text.replace(char, LIKE_ESCAPE + char)
    return text


class SqlPlaylistRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, owner_id: int, fields: dict[str, Any]) -> int:
        try:
            return insert_stamped(self._connection, playlists, {**fields, "owner_id": owner_id})
        except IntegrityError as exc:
            # The only foreign key: the caller's account was deleted after its
            # token was issued.
            raise AccountGoneError from exc

    def get(self, playlist_id: int) -> PlaylistRecord | None:
        row = self._connection.execute(BY_ID, {"playlist_id": playlist_id}).first()
        return _record(row) if row else None

    def list(self, query: PlaylistQuery) -> list[PlaylistRecord]:
        owner = playlists.c.owner_id == query.viewer_id
        statement = PLAYLISTS.where(owner if query.own_only else or_(owner, playlists.c.public))
        words = name_words(query.q)
        if words == []:
            statement = statement.where(false())
        for word in words or []:
            pattern = _like_literal(word)
            statement = statement.where(
                or_(
                    playlists.c.name_key.like(f"{pattern}%", escape=LIKE_ESCAPE),
                    playlists.c.name_key.like(f"% {pattern}%", escape=LIKE_ESCAPE),
                )
            )
        if query.after_id is not None:
            statement = statement.where(playlists.c.id > query.after_id)
        statement = statement.order_by(playlists.c.id).offset(query.offset).limit(query.limit)
        return [_record(row) for row in self._connection.execute(statement)]

    def access(self, playlist_id: int) -> PlaylistAccess | None:
        row = self._connection.execute(ACCESS, {"playlist_id": playlist_id}).first()
        return PlaylistAccess(row.owner_id, bool(row.public)) if row else None

    def lock(self, playlist_id: int) -> PlaylistAccess | None:
        row = self._connection.execute(LOCK_PLAYLIST, {"playlist_id": playlist_id}).first()
        return PlaylistAccess(row.owner_id, bool(row.public)) if row else None

    def update(self, playlist_id: int, changes: dict[str, Any]) -> None:
        values = dict(changes)
        if "name" in values:
            # The INSERT default computes the key; an update passes it itself.
            values["name_key"] = words_key("name", values["name"])
        self._connection.execute(
            update(playlists)
            .where(playlists.c.id == playlist_id)
            .values(**values, updated_at=utcnow())
        )

    def delete(self, playlist_id: int) -> bool:
        # Entries go by the foreign key's cascade.
        deleted = self._connection.execute(delete(playlists).where(playlists.c.id == playlist_id))
        return deleted.rowcount > 0

    def length(self, playlist_id: int) -> int:
        return self._connection.scalar(LENGTH, {"playlist_id": playlist_id}) or 0

    def missing_songs(self, song_ids: list[int]) -> list[int]:
        wanted = sorted(set(song_ids))
        if not wanted:
            return []
        found = set(self._connection.scalars(select(songs.c.id).where(songs.c.id.in_(wanted))))
        return [song_id for song_id in wanted if song_id not in found]

    def entries(
        self, playlist_id: int, *, after: int | None, offset: int, limit: int, viewer_id: int
    ) -> list[PlaylistEntry]:
        params = viewer_params(viewer_id) | {
            "list_id": playlist_id,
            "after": -1 if after is None else after,
            "offset": offset,
            "limit": limit,
        }
        rows = self._connection.execute(ENTRY_PAGE, params).all()
        return [PlaylistEntry(row[-1], song_view(row, viewer_id)) for row in rows]

    def insert(self, playlist_id: int, song_ids: list[int], position: int) -> None:
        if not song_ids:
            return
        key = {"list_id": playlist_id}
        self._connection.execute(PARK_FROM, key | {"start": position, "by": len(song_ids)})
        self._connection.execute(SETTLE, key)
        self._add_entries(playlist_id, song_ids, position)

    def replace(self, playlist_id: int, song_ids: list[int]) -> None:
        key = {"list_id": playlist_id}
        self._connection.execute(delete(playlist_songs).where(ENTRIES_OF), key)
        if song_ids:
            self._add_entries(playlist_id, song_ids, 0)

    def move(self, playlist_id: int, source: int, target: int) -> None:
        if source == target:
            return
        # The entries between the two shift one place towards `source`; the moved
        # one is parked at `target`.
        low, high = min(source, target), max(source, target)
        step = -1 if source < target else 1
        self._connection.execute(
            update(playlist_songs)
            .where(ENTRIES_OF, slot.between(low, high))
            .values(
                position=case(
                    (slot == source, literal(-target - 1)),
                    else_=-(slot + step) - 1,
                )
            ),
            {"list_id": playlist_id},
        )
        self._connection.execute(SETTLE, {"list_id": playlist_id})

    def remove(self, playlist_id: int, position: int) -> bool:
        key = {"list_id": playlist_id}
        if not self._connection.execute(DELETE_AT, key | {"at": position}).rowcount:
            return False
        self._connection.execute(PARK_FROM, key | {"start": position + 1, "by": -1})
        self._connection.execute(SETTLE, key)
        return True

    def remove_positions(self, playlist_id: int, positions: list[int]) -> None:
        gone = sorted(set(positions))
        if not gone:
            return
        key = {"list_id": playlist_id}
        self._connection.execute(delete(playlist_songs).where(ENTRIES_OF, slot.in_(gone)), key)
        # Each entry after the first removed one moves up by the number of removed
        # positions before it: a flat CASE from the last removed position down
        # (at most 500 branches, so the statement stays within SQL Server's 2,100
        # parameters), parked, then settled (module docstring).
        shift = case(
            *((slot > at, literal(count)) for count, at in reversed(list(enumerate(gone, 1)))),
            else_=literal(0),
        )
        self._connection.execute(
            update(playlist_songs)
            .where(ENTRIES_OF, slot > gone[0])
            .values(position=-(slot - shift) - 1),
            key,
        )
        self._connection.execute(SETTLE, key)

    def touch(self, playlist_id: int) -> None:
        self._connection.execute(TOUCH, {"playlist_id": playlist_id, "now": utcnow()})

    def remove_song(self, song_id: int) -> list[int]:
        connection = self._connection
        key = {"song_id": song_id}
        # The playlists first, then the song: the order every playlist edit takes
        # them in (the playlist's row lock, then its foreign key check on the song),
        # so a delete and an edit queue instead of deadlocking. Once the song is
        # locked no unit can add it anywhere; one that did between the two reads
        # holds a playlist not locked here, and locking it now could deadlock with
        # that playlist's next edit, so the whole unit runs again instead.
        changed = list(connection.scalars(PLAYLISTS_WITH_SONG, key))
        if connection.execute(LOCK_SONG, key).first() is None:
            return []
        holding = list(connection.scalars(HOLDING_SONG, key))
        if not set(holding) <= set(changed):
            raise RerunUnit
        changed = holding
        for playlist_id in changed:
            # Delete and re-insert the entries from the first one removed on:
            # renumbering with varying steps in place could collide on the key.
            where = playlist_songs.c.playlist_id == playlist_id
            first = connection.scalar(
                select(func.min(slot)).where(where, playlist_songs.c.song_id == song_id)
            )
            kept = connection.execute(
                select(playlist_songs.c.song_id, playlist_songs.c.added_at)
                .where(where, slot >= first, playlist_songs.c.song_id != song_id)
                .order_by(slot)
            ).all()
            connection.execute(delete(playlist_songs).where(where, slot >= first))
            if kept:
                connection.execute(
                    INSERT_ENTRY,
                    [
                        {
                            "playlist_id": playlist_id,
                            "position": first + offset,
                            "song_id": kept_song,
                            "added_at": added_at,
                        }
                        for offset, (kept_song, added_at) in enumerate(kept)
                    ],
                )
            self.touch(playlist_id)
        return changed

    def _add_entries(self, playlist_id: int, song_ids: list[int], start: int) -> None:
        now = utcnow()
        rows = [
            {"playlist_id": playlist_id, "position": start + offset, "song_id": song_id,
             "added_at": now}
            for offset, song_id in enumerate(song_ids)
        ]  # fmt: skip
        try:
            self._connection.execute(INSERT_ENTRY, rows)
        except IntegrityError as exc:
            # The positions were free (the playlist is locked), so a song's foreign
            # key refused: it was deleted after the caller checked it.
            raise SongNotFoundError from exc


def _record(row: Any) -> PlaylistRecord:
    return PlaylistRecord(
        row[0], row[1], row[2], bool(row[3]), row[4], row[5],
        int(row[6] or 0), int(row[7] or 0), row[8], row[9], row[10],
    )  # fmt: skip
