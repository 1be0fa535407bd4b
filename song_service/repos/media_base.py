"""Songs' audio files and library scans: what song_service needs from storage
(API.md, Media). The SQL and in-memory versions both honour it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from common.errors import ConflictError, NotFoundError
from database.media import MediaFile


@dataclass(frozen=True, slots=True)
class KnownFile:
    """What a scan compares a file on disk with: its row's song, size and mtime."""

    song_id: int
    size: int
    mtime_ns: int
    checksum: str


class MediaRepository(Protocol):
    def get(self, song_id: int) -> MediaFile | None: ...

    def of_song(self, song_id: int) -> tuple[MediaFile | None, str] | None:
        """The song's media (None without a local file) and its `file_url`, in one
        read; None when the song does not exist."""
        ...

    def for_songs(self, song_ids: list[int]) -> dict[int, MediaFile]:
        """The media of those of `song_ids` that have any."""
        ...

    def by_checksum(self, checksum: str) -> MediaFile | None: ...

    def add(self, media: MediaFile) -> None:
        """Insert; DuplicateMediaError when the checksum or (root, path) is taken."""
        ...

    def replace(self, media: MediaFile) -> None:
        """Rewrite the row of `media.song_id` (a file that changed on disk)."""
        ...

    def known_files(self, root: str, prefix: str) -> dict[str, KnownFile]:
        """Every file recorded under `prefix` (a folder, "" for the whole root),
        by path."""
        ...


class DuplicateMediaError(ConflictError):
    """The same bytes (checksum) or path are already a song's."""

    detail = "This file is already in the library"

    def __init__(
        self, song_id: int | None = None, name: str | None = None, *, sent_twice: bool = False
    ) -> None:
        where = "sent twice in this upload" if sent_twice else "already in the library"
        super().__init__(f"{name}: this file is {where}" if name else None)
        self.song_id = song_id
        self.extra = {"song_id": song_id}


SCAN_STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True, slots=True)
class ScanCounts:
    files_seen: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    errors: tuple[dict[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """A row of `library_scans`."""

    id: int
    state: str
    path: str
    counts: ScanCounts
    requested_by: int | None
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    created_at: datetime


class ScanNotFoundError(NotFoundError):
    detail = "Scan not found"


class ScanRunningError(ConflictError):
    """Another scan is queued or running (API.md: one scan at a time)."""

    detail = "A library scan is already running"

    def __init__(self, scan: ScanRecord | None = None) -> None:
        super().__init__()
        self.scan = scan


class ScanRepository(Protocol):
    def start(self, path: str, requested_by: int | None, stale_before: datetime) -> ScanRecord:
        """Add a running scan. A scan whose heartbeat is older than `stale_before`
        (its process died) is marked failed first; another live one raises
        ScanRunningError with it."""
        ...

    def get(self, scan_id: int) -> ScanRecord | None: ...

    def active(self) -> ScanRecord | None: ...

    def recent(self, limit: int, offset: int) -> list[ScanRecord]:
        """Newest first."""
        ...

    def progress(self, scan_id: int, counts: ScanCounts) -> None:
        """Write the counts so far and the heartbeat."""
        ...

    def finish(self, scan_id: int, state: str, counts: ScanCounts) -> None:
        """Write the final state and counts, and release `active`."""
        ...


class ImportRepository(Protocol):
    """An imported file's artist, album and track link (database.artists,
    database.albums): insert-only, inside the importing unit."""

    def artist_id(self, name: str) -> int:
        """The artist called `name` (folded), created if new; its row stays locked."""
        ...

    def album_id(
        self, *, title: str, artist: str, artist_id: int, genre: str, release_date: date | None
    ) -> int:
        """`artist_id`'s album titled `title` (folded), created if new; locked."""
        ...

    def link_track(self, *, album_id: int, song_id: int, disc: int, track: int | None) -> int:
        """Link the song at (disc, track), or the disc's next number; the number used."""
        ...
