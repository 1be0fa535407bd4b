"""Songs' audio files and library scans in the shared MemoryDatabase: the same
answers as media_sql, for tests and the in-memory backend."""

from __future__ import annotations

from datetime import datetime

from database.media import MediaFile, media_from_row, memory_media_of_songs
from database.memory import MemoryDatabase
from database.types import utcnow
from song_service.repos.media_base import (
    DuplicateMediaError,
    KnownFile,
    ScanCounts,
    ScanRecord,
    ScanRunningError,
)
from song_service.repos.media_sql import _counts, _scan


class InMemoryMediaRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def get(self, song_id: int) -> MediaFile | None:
        row = self._db.media_files.get(song_id)
        return media_from_row(row) if row else None

    def of_song(self, song_id: int) -> tuple[MediaFile | None, str] | None:
        song = self._db.songs.get(song_id)
        if song is None:
            return None
        return self.get(song_id), song["file_url"]

    def for_songs(self, song_ids: list[int]) -> dict[int, MediaFile]:
        return memory_media_of_songs(self._db, song_ids)

    def by_checksum(self, checksum: str) -> MediaFile | None:
        for row in self._db.media_files.values():
            if row["checksum"] == checksum:
                return media_from_row(row)
        return None

    def add(self, media: MediaFile) -> None:
        for row in self._db.media_files.values():
            if row["checksum"] == media.checksum or (row["root"], row["path"]) == (
                media.root,
                media.path,
            ):
                raise DuplicateMediaError(row["song_id"])
        now = utcnow()
        self._db.media_files[media.song_id] = media.row() | {"created_at": now, "updated_at": now}

    def replace(self, media: MediaFile) -> None:
        row = self._db.media_files[media.song_id]
        self._db.media_files[media.song_id] = row | media.row() | {"updated_at": utcnow()}

    def known_files(self, root: str, prefix: str) -> dict[str, KnownFile]:
        folder = prefix.rstrip("/") + "/"
        return {
            row["path"]: KnownFile(row["song_id"], row["size"], row["mtime_ns"], row["checksum"])
            for row in self._db.media_files.values()
            if row["root"] == root and (not prefix or row["path"].startswith(folder))
        }


class InMemoryScanRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def start(self, path: str, requested_by: int | None, stale_before: datetime) -> ScanRecord:
        now = utcnow()
        for row in self._db.library_scans.values():
            if row["active"] == 1 and row["heartbeat_at"] < stale_before:
                row.update(active=None, state="failed", finished_at=now, updated_at=now)
        if (running := self.active()) is not None:
            raise ScanRunningError(running)
        row = self._db.insert(
            "library_scans",
            {"state": "running", "path": path, "active": 1, "requested_by": requested_by},
        )
        row.update(_counts(ScanCounts()), started_at=now, heartbeat_at=now, finished_at=None)
        return _scan(row)

    def get(self, scan_id: int) -> ScanRecord | None:
        row = self._db.library_scans.get(scan_id)
        return _scan(row) if row else None

    def active(self) -> ScanRecord | None:
        for row in self._db.library_scans.values():
            if row["active"] == 1:
                return _scan(row)
        return None

    def recent(self, limit: int, offset: int) -> list[ScanRecord]:
        rows = sorted(self._db.library_scans.values(), key=lambda row: row["id"], reverse=True)
        return [_scan(row) for row in rows[offset : offset + limit]]

    def progress(self, scan_id: int, counts: ScanCounts) -> None:
        now = utcnow()
        self._db.library_scans[scan_id].update(_counts(counts), heartbeat_at=now, updated_at=now)

    def finish(self, scan_id: int, state: str, counts: ScanCounts) -> None:
        now = utcnow()
        self._db.library_scans[scan_id].update(
            _counts(counts), state=state, active=None, finished_at=now, heartbeat_at=now
        )
