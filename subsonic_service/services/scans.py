"""getScanStatus's read: song_service's library_scans, read directly (read-only,
as the README's ownership table allows), so any user may ask, not only the
admins song_service's GET /library/scans serves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from database.media import SCAN_STALE_AFTER
from subsonic_service.envelope import Payload
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork

Unit = Callable[[], SqlSubsonicUnitOfWork]


def scan_status(unit: Unit) -> Payload:
    """Responses/scanStatus.md: `scanning` while a scan runs; `count` the audio
    files it has seen so far, or the last scan's when none runs (0 before any)."""
    with unit() as uow:
        state = uow.system.scan_state(datetime.now(UTC) - SCAN_STALE_AFTER)
    return {"scanning": state.scanning, "count": state.count}
