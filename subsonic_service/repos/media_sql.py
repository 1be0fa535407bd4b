"""Reads for stream, download and getCoverArt: a song's file, a playlist's owner
and visibility, and the cover sources of songs, albums, artists and playlists
(database.covers, the same rules and statements song_service and album_service
serve their /cover routes with)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from database import covers
from database.covers import CoverSource
from database.media import MediaFile, media_from_row
from database.tables import media_files, playlists, songs


@dataclass(frozen=True, slots=True)
class SongMedia:
    """What playing or downloading a song needs: its local file (None without
    one), its `file_url` (a remote song's redirect target) and the names a
    download is called by."""

    media: MediaFile | None
    file_url: str | None
    title: str
    artist: str


# Both primary keys, one statement: every Range request of a player asks.
SONG_MEDIA = (
    select(songs.c.title, songs.c.artist, songs.c.file_url, media_files)
    .select_from(songs.outerjoin(media_files, media_files.c.song_id == songs.c.id))
    .where(songs.c.id == bindparam("song_id"))
)
PLAYLIST_ACCESS = select(playlists.c.owner_id, playlists.c.public).where(
    playlists.c.id == bindparam("playlist_id")
)


@dataclass(frozen=True, slots=True)
class PlaylistAccess:
    owner_id: int
    public: bool


class MediaReads:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def song_media(self, song_id: int) -> SongMedia | None:
        """The song's file and names; None when there is no such song."""
        row = self._connection.execute(SONG_MEDIA, {"song_id": song_id}).mappings().first()
        if row is None:
            return None
        media = media_from_row(row) if row["song_id"] is not None else None
        return SongMedia(media, row["file_url"], row["title"], row["artist"])

    def playlist_access(self, playlist_id: int) -> PlaylistAccess | None:
        """Who owns the playlist and whether it is public; None: no such playlist."""
        row = self._connection.execute(PLAYLIST_ACCESS, {"playlist_id": playlist_id}).first()
        return PlaylistAccess(row.owner_id, bool(row.public)) if row else None

    def song_cover(self, song_id: int) -> CoverSource | None:
        return covers.song_cover(self._connection, song_id)

    def album_cover(self, album_id: int) -> CoverSource | None:
        return covers.album_cover(self._connection, album_id)

    def artist_cover(self, artist_id: int) -> CoverSource | None:
        return covers.artist_cover(self._connection, artist_id)

    def playlist_cover(self, playlist_id: int) -> CoverSource:
        return covers.playlist_cover(self._connection, playlist_id)
