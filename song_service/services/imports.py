"""Turning an audio file into catalogue rows: what an upload and a library scan
share (API.md, Media).

`record` writes one file's song, artist(s), album, track link and media row in
the caller's unit of work; `refresh` rewrites them for a file that changed on
disk. Neither commits: the upload commits once for all its files, a scan once
per file.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.settings import Settings
from database.media import MediaFile
from database.text import fold
from media import storage
from media.tags import AudioTags
from media.transcode import remove_cached
from song_service.repos.base import SongRecord, SongUnitOfWork

UNKNOWN_ARTIST = "Unknown Artist"
UNKNOWN_GENRE = "Unknown"
# A compilation's album artist when the files name none (and the folded name that
# marks one): every track of the album then lands in one album.
VARIOUS_ARTISTS = "Various Artists"
# songs.artist holds the display name; several artists are joined with the
# separator media.tags splits on, so that reading it back gives the same list.
ARTIST_SEPARATOR = " / "
TITLE_LENGTH = ARTIST_LENGTH = 100
GENRE_LENGTH = 50


@dataclass(frozen=True, slots=True)
class AudioFile:
    """A file about to be recorded: where it is, what it is, what its tags say."""

    root: str  # media.storage root
    path: str  # relative POSIX path under the root
    size: int  # bytes
    mtime_ns: int
    checksum: str  # SHA-256 hex
    tags: AudioTags
    cover_path: str | None = None  # a cover.*/folder.* image beside it

    def media(self, song_id: int) -> MediaFile:
        tags = self.tags
        return MediaFile(
            song_id=song_id,
            root=self.root,
            path=self.path,
            size=self.size,
            mtime_ns=self.mtime_ns,
            checksum=self.checksum,
            content_type=tags.content_type,
            suffix=tags.suffix,
            bitrate=tags.bitrate,
            sample_rate=tags.sample_rate,
            channels=tags.channels,
            duration=tags.duration,
            embedded_cover=tags.has_picture,
            cover_path=self.cover_path,
        )


def stream_url(song_id: int) -> str:
    """A local song's `file_url`: its stream on this server (API.md, Media)."""
    return f"/songs/{song_id}/stream"


def record(uow: SongUnitOfWork, file: AudioFile) -> SongRecord:
    """Add the song of `file` with its artist, album and track, and its media row.

    Artist rows are resolved in folded-name order: each stays locked until the
    unit ends (database.artists), and one order for every writer means two
    imports naming the same artists cannot deadlock. Raises DuplicateMediaError
    (409) when the checksum or path is already a song's."""
    tags = file.tags
    song_artist, album_artist = _artists(tags)
    artist_ids = {
        fold(name): uow.imports.artist_id(name) for name in _lock_order(song_artist, album_artist)
    }
    fields = song_fields(tags)
    song = uow.songs.add(
        fields
        | {
            "artist_id": artist_ids[fold(song_artist)],
            "file_url": "/",  # its own stream URL, which needs the id: set below
            "description": None,
            "cover_image_url": None,
        }
    )
    song = uow.songs.update(song.id, {"file_url": stream_url(song.id)}) or song
    if tags.album:
        album_id = uow.imports.album_id(
            title=tags.album[:TITLE_LENGTH],
            artist=album_artist,
            artist_id=artist_ids[fold(album_artist)],
            genre=fields["genre"],
            release_date=fields["release_date"],
        )
        uow.imports.link_track(
            album_id=album_id, song_id=song.id, disc=tags.disc or 1, track=tags.track
        )
    uow.media.add(file.media(song.id))
    return song


def refresh(uow: SongUnitOfWork, song_id: int, file: AudioFile) -> None:
    """A known file that changed (size or mtime) or moved: its media row and the
    song's own fields follow the file. The album link stays as it was: moving a
    song between albums is an album_service edit, not a side effect of a retag."""
    song_artist, _ = _artists(file.tags)
    artist_id = uow.imports.artist_id(song_artist)
    uow.songs.update(song_id, song_fields(file.tags) | {"artist_id": artist_id})
    uow.media.replace(file.media(song_id))


def song_fields(tags: AudioTags) -> dict[str, Any]:
    """The song's own columns a file's tags decide, as an import and a refresh
    both write them (its artist row is the caller's: it needs a lock)."""
    return {
        "title": tags.title[:TITLE_LENGTH],
        "artist": ARTIST_SEPARATOR.join(tags.artists)[:ARTIST_LENGTH] or UNKNOWN_ARTIST,
        "genre": genre_of(tags),
        "duration": round(tags.duration),
        "release_date": release_date_of(tags),
    }


def genre_of(tags: AudioTags) -> str:
    return (tags.genres[0] if tags.genres else UNKNOWN_GENRE)[:GENRE_LENGTH]


def release_date_of(tags: AudioTags) -> date | None:
    """A full `YYYY-MM-DD` date tag as a date; a year alone is not a day, so None."""
    if tags.date and len(tags.date) == 10:
        try:
            return date.fromisoformat(tags.date)
        except ValueError:
            return None
    return None


def _artists(tags: AudioTags) -> tuple[str, str]:
    """(the song's artist row, the album's): the first of each list; a
    compilation without an album artist is "Various Artists"."""
    song_artist = (tags.artists[0] if tags.artists else UNKNOWN_ARTIST)[:ARTIST_LENGTH]
    if tags.album_artists:
        album_artist = tags.album_artists[0][:ARTIST_LENGTH]
    elif tags.compilation:
        album_artist = VARIOUS_ARTISTS
    else:
        album_artist = song_artist
    return song_artist, album_artist


def _lock_order(*names: str) -> list[str]:
    unique = {fold(name): name for name in names}
    return [unique[key] for key in sorted(unique)]


def discard_files(song_id: int, media: MediaFile | None, settings: Settings) -> None:
    """After a song's deletion committed: its uploaded file (a library file is the
    user's, never deleted) and its cached transcodes. Best effort: a file already
    gone is fine, and a failure leaves only disk space behind."""
    remove_cached(settings.cache_dir, song_id)
    if media is not None and media.root == "media":
        with contextlib.suppress(OSError, storage.UnsafePathError):
            path = storage.resolve("media", media.path, settings)
            path.unlink(missing_ok=True)
            storage.remove_empty_folders(path, "media", settings)
