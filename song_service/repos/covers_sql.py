"""Covers' sources (covers_base) from the shared SQL database: one Core statement
per lookup, built once at import; requests only bind values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, true

from database.tables import media_files, playlist_songs, songs
from media.covers import NO_COVER, AudioArt, CoverSource

ART_COLUMNS = (
    media_files.c.root,
    media_files.c.path,
    media_files.c.checksum,
    media_files.c.embedded_cover,
    media_files.c.cover_path,
)
# A media file whose art may serve: a picture in it or an image beside it.
HAS_ART = or_(media_files.c.embedded_cover == true(), media_files.c.cover_path.is_not(None))

# Both primary keys: the song's row and its media row (if any).
SONG_COVER = (
    select(songs.c.cover_image_url, *ART_COLUMNS)
    .select_from(songs.outerjoin(media_files, media_files.c.song_id == songs.c.id))
    .where(songs.c.id == bindparam("song_id"))
)
# The playlist's entries in position order (its primary key) until the first whose
# song has art or a URL; LIMIT with its ORDER BY (SQL Server's TOP needs one).
PLAYLIST_COVER = (
    select(songs.c.cover_image_url, *ART_COLUMNS)
    .select_from(
        playlist_songs.join(songs, songs.c.id == playlist_songs.c.song_id).outerjoin(
            media_files, media_files.c.song_id == playlist_songs.c.song_id
        )
    )
    .where(
        playlist_songs.c.playlist_id == bindparam("playlist_id"),
        or_(HAS_ART, songs.c.cover_image_url.is_not(None)),
    )
    .order_by(playlist_songs.c.position)
    .limit(1)
)


def cover_source(row: Any) -> CoverSource:
    """A row of (cover_image_url, *ART_COLUMNS) as the song rule's sources."""
    url, root, path, checksum, embedded, cover_path = row
    art = None
    if root is not None and (embedded or cover_path):
        art = AudioArt(root, path, checksum, bool(embedded), cover_path)
    return CoverSource(art=art, url=url)


class SqlCoverRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def song_cover(self, song_id: int) -> CoverSource | None:
        row = self._connection.execute(SONG_COVER, {"song_id": song_id}).first()
        return cover_source(row) if row else None

    def playlist_cover(self, playlist_id: int) -> CoverSource:
        row = self._connection.execute(PLAYLIST_COVER, {"playlist_id": playlist_id}).first()
        return cover_source(row) if row else NO_COVER
