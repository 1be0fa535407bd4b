"""Covers' sources (covers_base) from the shared SQL database: Core statements
built once at import; requests only bind values."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, exists, or_, select, true

from album_service.repos.artists_sql import NEWEST_RELEASE_ORDER
from database.tables import album_songs, albums, artists, media_files
from media.covers import NO_COVER, AudioArt, CoverSource

# A media file whose art may serve: a picture in it or an image beside it.
HAS_ART = or_(media_files.c.embedded_cover == true(), media_files.c.cover_path.is_not(None))
TRACK_MEDIA = album_songs.join(media_files, media_files.c.song_id == album_songs.c.song_id)

ALBUM_URL = select(albums.c.cover_image_url).where(albums.c.id == bindparam("album_id"))
# The album's tracks in (disc, track) order along its index, until the first with
# art; LIMIT with its ORDER BY (SQL Server's TOP needs one).
FIRST_TRACK_ART = (
    select(
        media_files.c.root,
        media_files.c.path,
        media_files.c.checksum,
        media_files.c.embedded_cover,
        media_files.c.cover_path,
    )
    .select_from(TRACK_MEDIA)
    .where(album_songs.c.album_id == bindparam("album_id"), HAS_ART)
    .order_by(album_songs.c.disc_number, album_songs.c.track_number, album_songs.c.song_id)
    .limit(1)
)
ARTIST_EXISTS = select(artists.c.id).where(artists.c.id == bindparam("artist_id"))
# The artist's albums (the (artist_id, id) index) newest release first, undated
# ones last, then newest id, as the artist's `cover` field picks its album
# (artists_sql), up to the first with a URL or a track with art. An artist has
# tens of albums, not millions.
FIRST_ALBUM_WITH_COVER = (
    select(albums.c.id, albums.c.cover_image_url)
    .where(
        albums.c.artist_id == bindparam("artist_id"),
        or_(
            albums.c.cover_image_url.is_not(None),
            exists(
                select(album_songs.c.song_id)
                .select_from(TRACK_MEDIA)
                .where(album_songs.c.album_id == albums.c.id, HAS_ART)
            ),
        ),
    )
    .order_by(*NEWEST_RELEASE_ORDER)
    .limit(1)
)


class SqlCoverRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def album_cover(self, album_id: int) -> CoverSource | None:
        row = self._connection.execute(ALBUM_URL, {"album_id": album_id}).first()
        if row is None:
            return None
        return CoverSource(art=self._first_track_art(album_id), url=row.cover_image_url)

    def artist_cover(self, artist_id: int) -> CoverSource | None:
        if self._connection.execute(ARTIST_EXISTS, {"artist_id": artist_id}).first() is None:
            return None
        album = self._connection.execute(FIRST_ALBUM_WITH_COVER, {"artist_id": artist_id}).first()
        if album is None:
            return NO_COVER
        return CoverSource(art=self._first_track_art(album.id), url=album.cover_image_url)

    def _first_track_art(self, album_id: int) -> AudioArt | None:
        row = self._connection.execute(FIRST_TRACK_ART, {"album_id": album_id}).first()
        if row is None:
            return None
        root, path, checksum, embedded, cover_path = row
        return AudioArt(root, path, checksum, bool(embedded), cover_path)
