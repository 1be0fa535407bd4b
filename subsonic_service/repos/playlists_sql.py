"""Reads of playlists for the Subsonic playlist methods (getPlaylists,
getPlaylist, and the answers of createPlaylist), on the unit's connection.

song_service owns the playlist tables and writes them (the facade's edits are
its REST calls); these are plain reads of its committed rows. A playlist's
figures (entries, duration) are correlated subqueries over its entries, so a
list of playlists is one statement and always agrees with the songs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_, select

from database.tables import playlist_songs, playlists, songs, users
from subsonic_service.repos.library_sql import LibraryReads, song_select
from subsonic_service.repos.records import SongRecord

# getPlaylists has no paging: beyond this many (the caller's own first) the rest
# are left out, so one call stays bounded on a server with many public playlists.
MAX_PLAYLISTS = 1000
# A playlist's entries are read this many positions at a time: each read's song
# ids (and the batched extras keyed by them) stay well inside every database's
# limit on bound parameters (SQL Server: 2,100). song_service caps a playlist at
# 10,000 entries, so getPlaylist costs at most ten such reads.
ENTRY_CHUNK = 1000

entry = playlist_songs.alias("entry")
SONG_COUNT = (
    select(func.count())
    .select_from(entry)
    .where(entry.c.playlist_id == playlists.c.id)
    .scalar_subquery()
    .label("song_count")
)
DURATION = (
    select(func.coalesce(func.sum(songs.c.duration), 0))
    .select_from(entry.join(songs, songs.c.id == entry.c.song_id))
    .where(entry.c.playlist_id == playlists.c.id)
    .scalar_subquery()
    .label("duration")
)
PLAYLISTS = select(
    playlists.c.id,
    playlists.c.name,
    playlists.c.description,
    playlists.c.public,
    playlists.c.owner_id,
    users.c.username.label("owner"),
    SONG_COUNT,
    DURATION,
    playlists.c.created_at,
    playlists.c.updated_at,
).select_from(playlists.join(users, users.c.id == playlists.c.owner_id))
BY_ID = PLAYLISTS.where(playlists.c.id == bindparam("playlist_id"))


@dataclass(frozen=True, slots=True)
class PlaylistRecord:
    """A playlist row with its owner's username and its figures."""

    id: int
    name: str
    description: str | None
    public: bool
    owner_id: int
    owner: str
    song_count: int
    duration: int  # seconds: the entries' songs' durations, unknown ones as 0
    created_at: datetime
    updated_at: datetime


class PlaylistReads:
    def __init__(self, connection: Connection, library: LibraryReads) -> None:
        self._connection = connection
        self._library = library

    def playlist(self, playlist_id: int) -> PlaylistRecord | None:
        """The playlist, whoever's it is (the caller decides who may see it)."""
        row = self._connection.execute(BY_ID, {"playlist_id": playlist_id}).mappings().first()
        return _record(row) if row else None

    def visible(self, viewer_id: int, limit: int = MAX_PLAYLISTS) -> list[PlaylistRecord]:
        """The playlists `viewer_id` may play, as song_service's GET /playlists
        lists them: their own (private or public) and everyone's public ones. Their
        own come first, then by id; at most `limit`."""
        own = playlists.c.owner_id == viewer_id
        statement = (
            PLAYLISTS.where(or_(own, playlists.c.public))
            # A CASE, not the boolean: SQL Server orders by no boolean expression.
            .order_by(case((own, 0), else_=1), playlists.c.id)
            .limit(limit)
        )
        return [_record(row) for row in self._connection.execute(statement).mappings()]

    def entries(self, playlist_id: int, user_id: int | None) -> list[SongRecord]:
        """The playlist's songs in position order (a song there twice appears
        twice), with the caller's likes and plays."""
        found: list[SongRecord] = []
        start = 0
        while True:
            statement = (
                song_select()
                .join(playlist_songs, playlist_songs.c.song_id == songs.c.id)
                .where(
                    playlist_songs.c.playlist_id == playlist_id,
                    playlist_songs.c.position >= start,
                    playlist_songs.c.position < start + ENTRY_CHUNK,
                )
                .order_by(playlist_songs.c.position)
            )
            chunk = self._library.songs(statement, user_id)
            found.extend(chunk)
            # Positions are 0..n-1 (song_service keeps them so): a short chunk is the last.
            if len(chunk) < ENTRY_CHUNK:
                return found
            start += ENTRY_CHUNK


def _record(row: Any) -> PlaylistRecord:
    return PlaylistRecord(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        public=bool(row["public"]),
        owner_id=row["owner_id"],
        owner=row["owner"],
        song_count=int(row["song_count"] or 0),
        duration=int(row["duration"] or 0),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
