"""Where a cover comes from, as rows say it: the records and the one set of SQL
reads that find a song's, a playlist's, an album's or an artist's cover sources.

song_service (songs, playlists), album_service (albums, artists) and
subsonic_service (getCoverArt, for all four) read covers; the rules (API.md,
Media: covers) live here once, like database.media's MediaFile, and media.covers
turns a CoverSource into an image, a redirect or the placeholder:

- a song: its own media file's art (embedded picture, then a `cover.*` /
  `folder.*` image beside it), else its `cover_image_url`;
- a playlist: the song rule on its first entry (by position) that has a cover;
- an album: the art of its first track (disc, track, song id order) whose media
  file has art, else the album's `cover_image_url`;
- an artist: the album rule on the artist's newest album that has a cover
  (newest release first, undated last, then newest id: the order of the artist's
  `cover` field). Artists have no image URL of their own.

Only rows are read here (media_files is song_service's table, albums
album_service's; every reader reads them through database.tables); files are
media.covers' business. Statements are built once at import; requests only bind
values, and every LIMIT has its ORDER BY (SQL Server's TOP needs one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, case, exists, or_, select, true

from database.tables import album_songs, albums, artists, media_files, playlist_songs, songs


@dataclass(frozen=True, slots=True)
class AudioArt:
    """A local audio file whose art may be a cover (a `media_files` row's fields)."""

    root: str  # "media" | "library" (media.storage)
    path: str  # the audio file, relative POSIX path under the root
    checksum: str  # the audio file's sha256 hex: the embedded picture's identity
    embedded: bool  # the file carries a picture
    cover_path: str | None  # a cover.*/folder.* image beside it, same root


@dataclass(frozen=True, slots=True)
class CoverSource:
    """Where a resource's cover may come from, in order: `art`'s embedded picture,
    then its sidecar image, then a redirect to `url`, then the placeholder.
    `private`: the resource is not public (a private playlist), so no shared
    cache may keep its cover."""

    art: AudioArt | None = None
    url: str | None = None
    private: bool = False


NO_COVER = CoverSource()

# Newest release first, undated albums last, then newest id. "IS NULL" as a CASE
# rather than NULLS LAST, which neither SQL Server nor MariaDB has. The same order
# as the artist's `cover` field (album_service.repos.artists_sql).
NEWEST_RELEASE_ORDER = [
    case((albums.c.release_date.is_(None), 1), else_=0),
    albums.c.release_date.desc(),
    albums.c.id.desc(),
]
ART_COLUMNS = (
    media_files.c.root,
    media_files.c.path,
    media_files.c.checksum,
    media_files.c.embedded_cover,
    media_files.c.cover_path,
)
# A media file whose art may serve: a picture in it or an image beside it.
HAS_ART = or_(media_files.c.embedded_cover == true(), media_files.c.cover_path.is_not(None))
TRACK_MEDIA = album_songs.join(media_files, media_files.c.song_id == album_songs.c.song_id)

# Both primary keys: the song's row and its media row (if any).
SONG_COVER = (
    select(songs.c.cover_image_url, *ART_COLUMNS)
    .select_from(songs.outerjoin(media_files, media_files.c.song_id == songs.c.id))
    .where(songs.c.id == bindparam("song_id"))
)
# The playlist's entries in position order (its primary key) until the first whose
# song has art or a URL.
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
ALBUM_URL = select(albums.c.cover_image_url).where(albums.c.id == bindparam("album_id"))
# The album's tracks in (disc, track) order along its index, until the first with art.
FIRST_TRACK_ART = (
    select(*ART_COLUMNS)
    .select_from(TRACK_MEDIA)
    .where(album_songs.c.album_id == bindparam("album_id"), HAS_ART)
    .order_by(album_songs.c.disc_number, album_songs.c.track_number, album_songs.c.song_id)
    .limit(1)
)
ARTIST_EXISTS = select(artists.c.id).where(artists.c.id == bindparam("artist_id"))
# The artist's albums (the (artist_id, id) index) in NEWEST_RELEASE_ORDER, up to
# the first with a URL or a track with art. An artist has tens of albums, not
# millions.
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


def _art(root: Any, path: Any, checksum: Any, embedded: Any, cover_path: Any) -> AudioArt | None:
    if root is None or not (embedded or cover_path):
        return None
    return AudioArt(root, path, checksum, bool(embedded), cover_path)


def _song_rule(row: Any) -> CoverSource:
    """A row of (cover_image_url, *ART_COLUMNS) as the song rule's sources."""
    url, *art = row
    return CoverSource(art=_art(*art), url=url)


def song_cover(connection: Connection, song_id: int) -> CoverSource | None:
    """The song's cover sources, in one primary-key read; None: no such song."""
    row = connection.execute(SONG_COVER, {"song_id": song_id}).first()
    return _song_rule(row) if row else None


def playlist_cover(connection: Connection, playlist_id: int) -> CoverSource:
    """The song rule's sources of the playlist's first entry (by position) that has
    art or a cover_image_url; NO_COVER when none has (or no such playlist: the
    caller checks the playlist exists and may be seen). One read along the
    playlist_songs primary key (playlist_id, position)."""
    row = connection.execute(PLAYLIST_COVER, {"playlist_id": playlist_id}).first()
    return _song_rule(row) if row else NO_COVER


def album_cover(connection: Connection, album_id: int) -> CoverSource | None:
    """The album's cover sources; None: no such album. Two reads: the album's row,
    and its tracks along the (album, disc, track) index up to the first with art."""
    row = connection.execute(ALBUM_URL, {"album_id": album_id}).first()
    if row is None:
        return None
    return CoverSource(art=_first_track_art(connection, album_id), url=row.cover_image_url)


def artist_cover(connection: Connection, artist_id: int) -> CoverSource | None:
    """The album rule on the artist's newest album with a cover; NO_COVER when none
    has one; None: no such artist."""
    if connection.execute(ARTIST_EXISTS, {"artist_id": artist_id}).first() is None:
        return None
    album = connection.execute(FIRST_ALBUM_WITH_COVER, {"artist_id": artist_id}).first()
    if album is None:
        return NO_COVER
    return CoverSource(art=_first_track_art(connection, album.id), url=album.cover_image_url)


def _first_track_art(connection: Connection, album_id: int) -> AudioArt | None:
    row = connection.execute(FIRST_TRACK_ART, {"album_id": album_id}).first()
    return _art(*row) if row else None
