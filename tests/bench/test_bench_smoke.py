"""`make bench` end to end on a tiny catalogue: every scenario runs, gets answers
and no errors. The targets are not checked: timings on a test machine are noise."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.bench import media
from scripts.bench.scenarios import (
    BASELINE,
    LOGIN_STORM,
    REFERENCE_BY_ID,
    REFERENCE_PAGE,
    SCALED,
    SEARCH_FLOOD,
)
from tests.databases import missing, require_server
from tests.e2e.fleet import REPO_ROOT, SERVICES

pytestmark = pytest.mark.e2e

SCENARIOS = ["song_by_id", "songs_page", "songs_deep_page", "songs_genre_page",
             "album_songs", "search", "playlist_page", "like_unlike", "login",
             "logins_in_storm"]  # fmt: skip
MEASURED = [BASELINE.key, REFERENCE_BY_ID, REFERENCE_PAGE, *SCENARIOS, LOGIN_STORM,
            "searches_in_flood", SEARCH_FLOOD, *(f"{key}_workers2" for key in SCALED)]  # fmt: skip
# scripts/bench/media.py, on the SQLite fleet only.
STREAMS = ["stream_nginx", "stream_service", "stream_gateway"]
MEDIA_ROWS = [*STREAMS, "scan_first", "scan_unchanged", "rss_song_streaming"]


@pytest.fixture(scope="module")
def wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        missing("wrk is not installed: apt-get install wrk")
    return path


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_every_scenario_answers_without_errors(wrk: str, database: str, tmp_path: Path) -> None:
    if database != "sqlite":
        require_server(database)
    elif media.nginx_path() is None:
        missing("nginx is not installed (the media rows): apt-get install nginx")
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "scripts.bench", "--quick",
         "--databases", database, "--json", str(output)],
        # Two fleets and a dozen wrk runs; a loaded CI machine needs the margin.
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

    rows = {row["key"]: row for row in json.loads(output.read_text())["rows"]}
    media_rows = set(MEDIA_ROWS) if database == "sqlite" else set()
    assert set(rows) == {*MEASURED, *(f"rss_{service}" for service in SERVICES), *media_rows}
    for key in MEASURED:
        row = rows[key]
        assert row["requests"] > 0, row
        assert row["errors"] == 0, row
        assert f"| {row['label']} " in done.stdout, f"{row['label']} is not in the table"
        # Every measured row is also a ratio to the reference (the table's "x ref").
        assert row["reference_ratio"] > 0, row
    # The library's rows hold a target of their own against the baseline, everywhere.
    for key in ("search", "playlist_page"):
        assert ">= 0.05x base" in rows[key]["target"], rows[key]
    if database == "sqlite":
        check_media_rows(rows, done.stdout)
    driver = {"sqlite": "sqlite3", "postgresql": "asyncpg"}[database]
    assert f"({driver}, hand-written)" in rows[REFERENCE_BY_ID]["label"]
    assert rows[REFERENCE_BY_ID]["reference_ratio"] == pytest.approx(1.0)
    assert rows[REFERENCE_PAGE]["reference_ratio"] == pytest.approx(1.0)
    # The reference targets hold on PostgreSQL only (scenarios.REFERENCE_TARGET_DATABASES),
    # in place of the baseline's.
    for key in SCALED:
        assert ("x ref" in rows[key]["target"]) == (database == "postgresql"), rows[key]
        assert ("x base" in rows[key]["target"]) == (database == "sqlite"), rows[key]


def check_media_rows(rows: dict[str, dict], stdout: str) -> None:
    """Each stream answered 206 to every range (their errors count any other
    answer), each scan saw every file, and the rescan read none of them."""
    for key in MEDIA_ROWS:
        assert f"| {rows[key]['label']} " in stdout, f"{rows[key]['label']} is not in the table"
    for key in STREAMS:
        row = rows[key]
        assert row["requests"] > 0 and row["value"] > 0 and row["unit"] == "MB/s", row
        assert row["errors"] == 0 and row["counts"]["answers_checked"] > 0, row
    first, rescan = rows["scan_first"]["counts"], rows["scan_unchanged"]["counts"]
    assert first["added"] == first["files_seen"] > 0, first
    assert rescan["skipped"] == rescan["files_seen"] == first["files_seen"], rescan
    assert rescan["added"] == rescan["updated"] == rescan["removed"] == 0, rescan
    # Read with access times, unless the file system keeps none (noatime).
    assert rescan.get("audio_files_read", 0) == 0, rescan
    assert rows["rss_song_streaming"]["unit"] == "MB"


def test_the_catalogue_bench_measures_every_row(tmp_path: Path) -> None:
    """`make bench-catalogue` at its small size only: every page it times answers
    in full (the script stops at a short page or an error), in a few seconds."""
    output = tmp_path / "catalogue.json"
    done = subprocess.run(
        [sys.executable, "scripts/bench_catalogue.py", "--sizes", "1000", "--repeats", "2",
         "--json", str(output)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(output.read_text())["results"]["1000"]
    for row in ("artists page (/artists?limit=50)", "artist's songs (/artists/{id}/songs)",
                "playlist page (/playlists/{id}/songs)", "my plays (/songs/played?limit=50)",
                "my top (/songs/top?period=month)", "search page (/search?q=love)",
                "search page (/search?q=zzzqx, none)", "first page"):  # fmt: skip
        assert results[row] > 0, row
        assert row in done.stdout
