"""Songs' audio files and library scans in the shared SQL database (tables
`media_files`, `library_scans`). Runs on the unit of work's connection; never
commits."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from database.media import MediaFile, media_from_row, media_of_songs
from database.tables import library_scans, media_files, songs
from database.types import utcnow
from song_service.repos.media_base import (
    DuplicateMediaError,
    KnownFile,
    ScanCounts,
    ScanRecord,
    ScanRunningError,
)

MEDIA_BY_SONG = select(media_files).where(media_files.c.song_id == bindparam("song_id"))
# A song's file_url and its media row if any: what a stream request needs, in one
# primary-key lookup (LEFT OUTER JOIN: every backend's plain SQL).
SONG_MEDIA = (
    select(songs.c.file_url, *media_files.c)
    .select_from(songs.outerjoin(media_files, media_files.c.song_id == songs.c.id))
    .where(songs.c.id == bindparam("song_id"))
)
MEDIA_BY_CHECKSUM = select(media_files).where(media_files.c.checksum == bindparam("checksum"))
KNOWN_FILES = select(
    media_files.c.path,
    media_files.c.song_id,
    media_files.c.size,
    media_files.c.mtime_ns,
    media_files.c.checksum,
).where(media_files.c.root == bindparam("root"))
SCAN_BY_ID = select(library_scans).where(library_scans.c.id == bindparam("scan_id"))
ACTIVE_SCAN = select(library_scans).where(library_scans.c.active == 1)


class SqlMediaRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, song_id: int) -> MediaFile | None:
        row = self._connection.execute(MEDIA_BY_SONG, {"song_id": song_id}).mappings().first()
        return media_from_row(row) if row else None

    def of_song(self, song_id: int) -> tuple[MediaFile | None, str] | None:
        row = self._connection.execute(SONG_MEDIA, {"song_id": song_id}).mappings().first()
        if row is None:
            return None
        return (media_from_row(row) if row["song_id"] is not None else None), row["file_url"]

    def for_songs(self, song_ids: list[int]) -> dict[int, MediaFile]:
        return media_of_songs(self._connection, song_ids)

    def by_checksum(self, checksum: str) -> MediaFile | None:
        row = self._connection.execute(MEDIA_BY_CHECKSUM, {"checksum": checksum}).mappings().first()
        return media_from_row(row) if row else None

    def add(self, media: MediaFile) -> None:
        try:
            # A savepoint: the unit goes on (and can answer 409) after the refusal.
            with self._connection.begin_nested():
                now = utcnow()
                self._connection.execute(
                    insert(media_files), media.row() | {"created_at": now, "updated_at": now}
                )
        except IntegrityError as exc:
            existing = self.by_checksum(media.checksum)
            raise DuplicateMediaError(existing.song_id if existing else None) from exc

    def replace(self, media: MediaFile) -> None:
        values = media.row()
        song_id = values.pop("song_id")
        self._connection.execute(
            update(media_files).where(media_files.c.song_id == song_id),
            values | {"updated_at": utcnow()},
        )

    def known_files(self, root: str, prefix: str) -> dict[str, KnownFile]:
        # The whole root is read and filtered here: a LIKE on the path would need
        # escaping per dialect, and a library of 10^5 files is a few MB of rows.
        known = {}
        for path, song_id, size, mtime_ns, checksum in self._connection.execute(
            KNOWN_FILES, {"root": root}
        ):
            if not prefix or path.startswith(prefix.rstrip("/") + "/"):
                known[path] = KnownFile(song_id, size, mtime_ns, checksum)
        return known


class SqlScanRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def start(self, path: str, requested_by: int | None, stale_before: datetime) -> ScanRecord:
        now = utcnow()
        # A scan whose process died holds `active` until its heartbeat is stale.
        self._connection.execute(
            update(library_scans)
            .where(library_scans.c.active == 1, library_scans.c.heartbeat_at < stale_before)
            .values(active=None, state="failed", finished_at=now, updated_at=now)
        )
        values = {
            "state": "running",
            "path": path,
            "active": 1,
            "errors": "[]",
            "requested_by": requested_by,
            "started_at": now,
            "heartbeat_at": now,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._connection.begin_nested():
                inserted = self._connection.execute(insert(library_scans), values)
            scan_id = inserted.inserted_primary_key[0]
        except IntegrityError as exc:  # the unique `active`: another scan runs
            raise ScanRunningError(self.active()) from exc
        found = self.get(scan_id)
        if found is None:  # cannot happen: read in the inserting transaction
            raise ScanRunningError
        return found

    def get(self, scan_id: int) -> ScanRecord | None:
        row = self._connection.execute(SCAN_BY_ID, {"scan_id": scan_id}).mappings().first()
        return _scan(row) if row else None

    def active(self) -> ScanRecord | None:
        row = self._connection.execute(ACTIVE_SCAN).mappings().first()
        return _scan(row) if row else None

    def recent(self, limit: int, offset: int) -> list[ScanRecord]:
        statement = (
            select(library_scans).order_by(library_scans.c.id.desc()).limit(limit).offset(offset)
        )
        return [_scan(row) for row in self._connection.execute(statement).mappings()]

    def progress(self, scan_id: int, counts: ScanCounts) -> None:
        now = utcnow()
        self._write(scan_id, _counts(counts) | {"heartbeat_at": now, "updated_at": now})

    def finish(self, scan_id: int, state: str, counts: ScanCounts) -> None:
        now = utcnow()
        self._write(
            scan_id,
            _counts(counts)
            | {"state": state, "active": None, "finished_at": now, "heartbeat_at": now}
            | {"updated_at": now},
        )

    def _write(self, scan_id: int, values: dict[str, Any]) -> None:
        self._connection.execute(
            update(library_scans).where(library_scans.c.id == scan_id).values(**values)
        )


def _counts(counts: ScanCounts) -> dict[str, Any]:
    return {
        "files_seen": counts.files_seen,
        "added": counts.added,
        "updated": counts.updated,
        "removed": counts.removed,
        "skipped": counts.skipped,
        "errors": json.dumps(list(counts.errors), ensure_ascii=False),
    }


def _scan(row: Any) -> ScanRecord:
    counts = ScanCounts(
        row["files_seen"],
        row["added"],
        row["updated"],
        row["removed"],
        row["skipped"],
        tuple(json.loads(row["errors"] or "[]")),
    )
    return ScanRecord(
        row["id"],
        row["state"],
        row["path"],
        counts,
        row["requested_by"],
        row["started_at"],
        row["finished_at"],
        row["heartbeat_at"],
        row["created_at"],
    )
