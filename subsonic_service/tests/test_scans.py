"""startScan and getScanStatus in-process: the scan is song_service's, run in its
background thread over LIBRARY_DIR; the status is read from library_scans."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from database.tables import library_scans, songs
from subsonic_service.tests.conftest import Library

WAIT_SECONDS = 30.0


def status(library: Library, user: str = "alice") -> dict[str, Any]:
    return library.ok("getScanStatus", user)["scanStatus"]


def song_count(library: Library) -> int:
    with library.database.connect() as connection:
        return connection.scalar(select(func.count()).select_from(songs)) or 0


@pytest.fixture
def library_file(library: Library) -> Iterator[None]:
    """One audio file in LIBRARY_DIR: a copy of an uploaded song (media.synth), so
    the scan sees it (count 1) but records nothing new (its audio is a song's
    already): the session's catalogue stays as the other tests expect it."""
    folder = library.settings.library_dir
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "copy.ogg"
    shutil.copy(library.settings.data_dir / "upload" / "00.ogg", copy)
    yield
    copy.unlink(missing_ok=True)


def wait_until_done(library: Library) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        current = status(library)
        if not current["scanning"]:
            return current
        time.sleep(0.05)
    raise AssertionError("the scan did not finish")


def scan_rows(library: Library) -> int:
    with library.database.connect() as connection:
        return connection.scalar(select(func.count()).select_from(library_scans)) or 0


@pytest.mark.usefixtures("library_file")
def test_start_scan_is_for_admins(library: Library) -> None:
    before = scan_rows(library)
    body = library.json("startScan", library.new_user())
    assert body["status"] == "failed" and body["error"]["code"] == 50
    assert scan_rows(library) == before  # no scan was started


@pytest.mark.usefixtures("library_file")
def test_an_admin_scans_and_anyone_follows_it(library: Library) -> None:
    before = song_count(library)
    started = library.ok("startScan", "admin")["scanStatus"]
    assert set(started) == {"scanning", "count"}
    # Answered as song_service started it: running, nothing seen yet (or done
    # already, on a fast machine, with the file counted).
    assert started["scanning"] is True or started["count"] == 1
    done = wait_until_done(library)
    assert done == {"scanning": False, "count": 1}
    # Any user may ask; the answer stays the last scan's.
    assert status(library, library.new_user()) == {"scanning": False, "count": 1}
    assert song_count(library) == before  # the copy's audio is a song already
    xml = library.get("getScanStatus", "bob")
    assert b'<scanStatus scanning="false" count="1"/>' in xml.content


@pytest.mark.usefixtures("library_file")
def test_a_running_scan_is_the_answer_to_another_start(library: Library) -> None:
    """A scan already running (here: one another process holds, its heartbeat
    fresh) is not an error for Subsonic: startScan answers its status. One whose
    heartbeat stopped a while ago is not running."""
    now = datetime.now(UTC)
    with library.database.connect(write=True) as connection:
        scan_id = connection.execute(
            insert(library_scans).values(
                state="running", path="", active=1, files_seen=42, started_at=now,
                heartbeat_at=now, created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
        connection.commit()
    try:
        assert status(library) == {"scanning": True, "count": 42}
        answer = library.ok("startScan", "admin")["scanStatus"]
        assert answer == {"scanning": True, "count": 42}
        stale = now - timedelta(minutes=5)
        with library.database.connect(write=True) as connection:
            connection.execute(
                update(library_scans)
                .where(library_scans.c.id == scan_id)
                .values(heartbeat_at=stale)
            )
            connection.commit()
        assert status(library)["scanning"] is False
    finally:
        with library.database.connect(write=True) as connection:
            connection.execute(
                update(library_scans)
                .where(library_scans.c.id == scan_id)
                .values(active=None, state="failed", finished_at=now)
            )
            connection.commit()
