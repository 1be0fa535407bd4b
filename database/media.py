"""A song's local audio file as a record (table `media_files`, API.md, Media):
written by song_service (uploads, scans), read by song_service and album_service
(every song they show carries its `media`), so the record, its row mapping and
the read of a page's media live here once, like database.artists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select

from database.memory import MemoryDatabase
from database.tables import media_files


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A row of `media_files`: a song's local audio file and what it holds."""

    song_id: int
    root: str  # "media" (MEDIA_DIR) | "library" (LIBRARY_DIR); media.storage
    path: str  # relative POSIX path under the root
    size: int  # bytes
    mtime_ns: int
    checksum: str  # SHA-256 of the bytes, hex
    content_type: str
    suffix: str
    bitrate: int | None  # kbps
    sample_rate: int | None  # Hz
    channels: int | None
    duration: float | None  # seconds
    embedded_cover: bool
    cover_path: str | None  # a cover.*/folder.* image beside the file, same root

    def row(self) -> dict[str, Any]:
        """The columns to write (duration is stored in whole milliseconds)."""
        values = {name: getattr(self, name) for name in MEDIA_COLUMNS}
        duration = values.pop("duration")
        values["duration_ms"] = None if duration is None else round(duration * 1000)
        return values


MEDIA_COLUMNS = tuple(MediaFile.__dataclass_fields__)

# A running library scan writes its heartbeat every few seconds (song_service); one
# whose heartbeat is older than this died with its process: it no longer blocks a
# new scan (song_service) nor counts as scanning (subsonic_service's getScanStatus).
SCAN_STALE_AFTER = timedelta(seconds=60)


def media_from_row(row: Any) -> MediaFile:
    """A `media_files` row (mapping) as a MediaFile."""
    duration_ms = row["duration_ms"]
    values = {name: row[name] for name in MEDIA_COLUMNS if name != "duration"}
    values["embedded_cover"] = bool(values["embedded_cover"])
    return MediaFile(**values, duration=None if duration_ms is None else duration_ms / 1000)


MEDIA_OF_SONGS = select(media_files).where(
    media_files.c.song_id.in_(bindparam("song_ids", expanding=True))
)


def media_of_songs(connection: Connection, song_ids: list[int]) -> dict[int, MediaFile]:
    """The media of those of `song_ids` that have a local file, by song id: one
    primary-key lookup per song, in one statement."""
    if not song_ids:
        return {}
    rows = connection.execute(MEDIA_OF_SONGS, {"song_ids": song_ids}).mappings()
    return {row["song_id"]: media_from_row(row) for row in rows}


def memory_media_of_songs(db: MemoryDatabase, song_ids: list[int]) -> dict[int, MediaFile]:
    """`media_of_songs` over the in-memory store."""
    rows = db.media_files
    return {song_id: media_from_row(rows[song_id]) for song_id in song_ids if song_id in rows}


def media_fields(media: MediaFile | None) -> dict[str, Any] | None:
    """A song's `media` as API.md (Media) shows it: null without a local file."""
    if media is None:
        return None
    return {
        "content_type": media.content_type,
        "suffix": media.suffix,
        "size": media.size,
        "bitrate": media.bitrate,
        "sample_rate": media.sample_rate,
        "channels": media.channels,
        "duration": media.duration,
    }
