"""Reads for the system methods and the checks before a write: accounts (getUser,
getPlaylists' `username`), whether typed ids name rows (star, scrobble, the
playlist edits check every id before the first owner call), and library scans
(getScanStatus)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, select

from database.tables import albums, artists, library_scans, playlists, songs, users

USER_BY_NAME = select(users.c.id, users.c.username, users.c.email, users.c.role).where(
    func.lower(users.c.username) == bindparam("username")
)
USER_BY_ID = select(users.c.id, users.c.username, users.c.email, users.c.role).where(
    users.c.id == bindparam("user_id")
)
# The table a typed id's kind (subsonic_service.ids) names rows of.
KIND_TABLES: dict[str, Table] = {"so": songs, "al": albums, "ar": artists, "pl": playlists}
# Ids looked up per statement: inside every database's bound-parameter limit.
EXISTING_CHUNK = 1000
# The running scan (song_service's library_scans.active is 1 for it, NULL else),
# unless its heartbeat stopped: song_service takes such a scan for dead.
ACTIVE_SCAN = select(library_scans.c.files_seen).where(
    library_scans.c.active == 1, library_scans.c.heartbeat_at >= bindparam("stale_before")
)
LATEST_SCAN = select(library_scans.c.files_seen).order_by(library_scans.c.id.desc()).limit(1)


@dataclass(frozen=True, slots=True)
class ScanState:
    """Subsonic's scanStatus: whether a scan runs, and the files it has seen
    (of the last scan when none runs; 0 before the first)."""

    scanning: bool
    count: int


class SystemReads:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def user_named(self, username: str) -> dict[str, Any] | None:
        """The account whose username is `username`, ignoring case (as Subsonic apps
        type it); {id, username, email, role} or None."""
        row = (
            self._connection.execute(USER_BY_NAME, {"username": username.lower()})
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def user(self, user_id: int) -> dict[str, Any] | None:
        row = self._connection.execute(USER_BY_ID, {"user_id": user_id}).mappings().first()
        return dict(row) if row else None

    def existing(self, kind: str, row_ids: Sequence[int]) -> set[int]:
        """Those of `row_ids` that name a row of `kind` ("so", "al", "ar", "pl")."""
        table = KIND_TABLES[kind]
        wanted = sorted(set(row_ids))
        found: set[int] = set()
        for start in range(0, len(wanted), EXISTING_CHUNK):
            chunk = wanted[start : start + EXISTING_CHUNK]
            found.update(self._connection.scalars(select(table.c.id).where(table.c.id.in_(chunk))))
        return found

    def scan_state(self, stale_before: datetime) -> ScanState:
        """The running scan's progress (one whose heartbeat is older than
        `stale_before` died with its process and runs no more), else the last
        scan's count."""
        running = self._connection.scalar(ACTIVE_SCAN, {"stale_before": stale_before})
        if running is not None:
            return ScanState(True, int(running))
        last = self._connection.scalar(LATEST_SCAN)
        return ScanState(False, int(last or 0))
