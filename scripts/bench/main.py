"""`make bench`: requests/s and latency of the real fleet under wrk, next to two
yardsticks measured in the same run on the same machine and database: a minimal
FastAPI app (the baseline: what the framework costs) and a hand-written app
serving our two hottest reads, GET /songs/{id} and GET /songs?limit=50 (the
reference, reference.py: async handler, async driver, prepared statement, the
fleet's token check and JSON; what our stack could reach).

For each database (a fresh SQLite file; also a scratch PostgreSQL database when
TEST_POSTGRES_URL is set) it migrates, bulk-loads the catalogue, starts the four
services, the baseline and the reference with one uvicorn worker each, signs up a
few users for their tokens, measures the baseline and the reference's two reads,
then runs every scenario (a warm-up wrk run, then the measured one), the login
storm with /health alongside, reads each service's idle RSS, and runs the two
read scenarios again with `--workers 2`. Prints one table with each row's req/s
as a ratio to the baseline ("x base") and to the reference ("x ref": its page for
the pages, its GET /songs/{id} for the rest), a target and PASS/FAIL per row;
writes it as JSON, and exits 0 whatever the figures: it is a measurement, not a test.

Once, on the SQLite fleet, the media rows (media.py): streaming a 5 MB file in
256 KiB ranges from song_service and through the gateway as ratios to nginx, and
files/s of a first library scan and of an unchanged rescan.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from scripts.bench import media, report
from scripts.bench.catalogue import PLAYLISTS, load
from scripts.bench.reference import driver_name
from scripts.bench.report import Reference, Row
from scripts.bench.scenarios import (
    BASELINE,
    LOGIN_MIN_SECONDS,
    SCALED,
    STORM_LEAD_SECONDS,
    Inputs,
    Scenario,
    flood,
    references,
    scenarios,
    storm,
)
from scripts.bench.services import (
    LOG_LEVEL,
    deep_page_path,
    prepare,
    resident_mb,
    running,
    sign_up_and_log_in,
)
from scripts.bench.wrk import WrkResult, finish, start_wrk, wrk_path
from tests.databases import scratch_database, server_url
from tests.e2e.fleet import REPO_ROOT, SERVICES

DEFAULT_JSON = REPO_ROOT / "data" / "bench.json"
# Seconds of quiet before reading RSS, so that no request is still in flight.
IDLE_SECONDS = 1.0
# The media rows are measured once, on this database's fleet.
MEDIA_DATABASE = "sqlite"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1 s per scenario, no warm-up, 1,000 songs"
    )
    parser.add_argument("--duration", type=int, help="measured seconds per scenario (8)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds per scenario (2; 0: none)")
    parser.add_argument("--songs", type=int, help="songs in the catalogue (100,000)")
    parser.add_argument("--albums", type=int, help="albums in the catalogue (10,000)")
    parser.add_argument(
        "--connections",
        type=int,
        default=16,
        help="wrk connections for every scenario but the logins (16)",
    )
    parser.add_argument("--users", type=int, default=4, help="bench users whose tokens are used")
    parser.add_argument(
        "--databases",
        default="auto",
        help="comma-separated: sqlite, postgresql; auto = sqlite, and "
        "postgresql when TEST_POSTGRES_URL is set",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the JSON goes")
    parser.add_argument(
        "--no-media", action="store_true", help="skip the media rows (streaming, scans)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.duration = args.duration or (1 if quick else 8)
    args.warmup = args.warmup if args.warmup is not None else (0 if quick else 2)
    args.songs = args.songs or (1_000 if quick else 100_000)
    args.albums = args.albums or (100 if quick else 10_000)
    if args.songs < 100 or not 1 <= args.albums <= args.songs:
        parser.error("need at least 100 songs (the deep page is a full page) and 1..songs albums")
    if args.databases == "auto":
        args.databases = "sqlite,postgresql" if server_url("postgresql") else "sqlite"
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if "postgresql" in args.databases and server_url("postgresql") is None:
        parser.error("postgresql needs TEST_POSTGRES_URL (a user that may create databases)")
    return args


def say(text: str) -> None:
    print(text, flush=True)


def launch(
    scenario: Scenario, urls: dict[str, str], seconds: int, default_connections: int
) -> tuple[subprocess.Popen[str], int]:
    connections = scenario.connections or default_connections
    url = f"{urls[scenario.service]}{scenario.path}"
    wrk = start_wrk(
        url, scenario.script, list(scenario.args), connections=connections, seconds=seconds
    )
    return wrk, connections


def measure(
    scenario: Scenario, urls: dict[str, str], args: argparse.Namespace
) -> tuple[WrkResult, int]:
    seconds = args.duration
    if scenario.service == "auth":
        seconds = max(seconds, LOGIN_MIN_SECONDS)
    if args.warmup:
        # Thread pools, connection pools, caches: warmed, not measured.
        finish(launch(scenario, urls, args.warmup, args.connections)[0])
    wrk, connections = launch(scenario, urls, seconds, args.connections)
    return finish(wrk), connections


@contextmanager
def database_url(name: str, data_dir: Path) -> Iterator[str]:
    if name == "sqlite":
        yield f"sqlite:///{data_dir / 'bench.db'}"
        return
    server = server_url(name)
    if server is None:
        raise SystemExit(f"no server for {name}")
    with scratch_database(server, "bench") as url:
        yield url.render_as_string(hide_password=False)


def bench_database(name: str, args: argparse.Namespace, workdir: Path) -> tuple[list[Row], float]:
    data_dir = workdir / name
    data_dir.mkdir()
    rows: list[Row] = []
    with database_url(name, data_dir) as url:
        prepare(data_dir, url)
        say(
            f"[{name}] loading {args.songs:,} songs, {args.albums:,} albums, their artists, "
            f"{PLAYLISTS} playlists and {args.songs:,} plays ..."
        )
        # As many plays as songs: the songs' play counts are not all zero.
        catalogue = load(url, args.songs, args.albums, plays_count=args.songs)
        say(f"[{name}] loaded in {catalogue.seconds:.1f} s")
        single: dict[str, Row] = {}
        with running(data_dir, url, workers=1, baseline=True) as fleet:
            tokens, bodies = sign_up_and_log_in(fleet.urls, args.users)
            deep = min(int(args.songs * 0.9), args.songs - 51)
            inputs = Inputs(catalogue, tokens, bodies, deep_page_path(fleet.urls["song"], deep))
            # The yardsticks first: every later row is divided by them.
            by_id, page = references(inputs, driver_name(url))
            yardsticks = []
            for scenario in (BASELINE, by_id, page):
                say(f"[{name}] {scenario.label}")
                yardsticks.append((scenario, *measure(scenario, fleet.urls, args)))
            baseline_rps, by_id_rps, page_rps = (r.requests_per_second for _, r, _ in yardsticks)
            reference = Reference(by_id_rps=by_id_rps, page_rps=page_rps)
            for scenario, result, conns in yardsticks:
                rows.append(report.measured(name, scenario, conns, result, baseline_rps,
                                            reference=reference))  # fmt: skip
            for scenario in scenarios(inputs):
                say(f"[{name}] {scenario.label}")
                result, conns = measure(scenario, fleet.urls, args)
                single[scenario.key] = report.measured(
                    name, scenario, conns, result, baseline_rps, reference=reference
                )
                rows.append(single[scenario.key])
            rows.extend(login_storm(name, inputs, fleet.urls, args, baseline_rps, reference))
            rows.extend(search_flood(name, inputs, fleet.urls, args, baseline_rps, reference,
                                     single["like_unlike"]))  # fmt: skip
            time.sleep(IDLE_SECONDS)
            for service in SERVICES:
                megabytes = resident_mb(fleet.processes[service].pid)
                rows.append(report.memory(name, service, megabytes))
            if name == MEDIA_DATABASE and not args.no_media:
                sizes = media.Sizes.of(args.quick, args.duration, args.warmup)
                rows.extend(media.bench(name, data_dir, url, fleet.urls, sizes, say))
        with running(data_dir, url, workers=2, baseline=False) as fleet:
            for scenario in scenarios(inputs):
                if scenario.key not in SCALED:
                    continue
                say(f"[{name}] {scenario.label}, WORKERS=2")
                result, conns = measure(scenario, fleet.urls, args)
                row = report.measured(name, scenario, conns, result, baseline_rps,
                                      label=f"{scenario.label}, WORKERS=2",
                                      reference=reference)  # fmt: skip
                row.key = f"{scenario.key}_workers2"
                rows.append(report.growth_target(row, single[scenario.key]))
    return rows, catalogue.seconds


def login_storm(
    name: str,
    inputs: Inputs,
    urls: dict[str, str],
    args: argparse.Namespace,
    baseline_rps: float,
    reference: Reference,
) -> list[Row]:
    """8 clients log in non-stop while another wrk asks auth's /health: the p99 of
    /health shows whether password hashing starves the event loop."""
    logins, health = storm(inputs)
    say(f"[{name}] {health.label}")
    # The logins run longer on both sides, so /health is measured only while
    # all 8 clients are hashing.
    login_seconds = max(args.duration + 2 * STORM_LEAD_SECONDS, LOGIN_MIN_SECONDS)
    login_wrk, login_connections = launch(logins, urls, login_seconds, args.connections)
    time.sleep(STORM_LEAD_SECONDS)
    health_wrk, health_connections = launch(health, urls, args.duration, args.connections)
    health_result = finish(health_wrk)
    login_result = finish(login_wrk)
    return [
        report.measured(name, logins, login_connections, login_result, baseline_rps,
                        reference=reference),
        report.health_target(
            report.measured(name, health, health_connections, health_result, baseline_rps,
                            reference=reference)
        ),
    ]  # fmt: skip


def search_flood(
    name: str,
    inputs: Inputs,
    urls: dict[str, str],
    args: argparse.Namespace,
    baseline_rps: float,
    reference: Reference,
    quiet_likes: Row,
) -> list[Row]:
    """16 clients search non-stop for a term that matches nothing while another
    wrk likes and unlikes on the same song process: the likes' p99 next to the
    quiet one shows whether searches keep writes waiting (common.db, SearchAdmission)."""
    searches, likes = flood(inputs)
    say(f"[{name}] {likes.label}")
    search_seconds = args.duration + 2 * STORM_LEAD_SECONDS
    search_wrk, search_connections = launch(searches, urls, search_seconds, args.connections)
    time.sleep(STORM_LEAD_SECONDS)
    like_wrk, like_connections = launch(likes, urls, args.duration, args.connections)
    like_result = finish(like_wrk)
    search_result = finish(search_wrk)
    return [
        report.measured(name, searches, search_connections, search_result, baseline_rps,
                        reference=reference),
        report.flood_target(
            report.measured(name, likes, like_connections, like_result, baseline_rps,
                            reference=reference),
            quiet_likes,
        ),
    ]  # fmt: skip


def git_revision() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if wrk_path() is None:
        print("wrk is not installed: apt-get install wrk (brew install wrk)", file=sys.stderr)
        return 2
    if MEDIA_DATABASE in args.databases and not args.no_media and media.nginx_path() is None:
        print("the media rows need nginx: apt-get install nginx (or --no-media)", file=sys.stderr)
        return 2
    started = time.monotonic()
    header = (f"MusicPlayer bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {git_revision()}: "
              f"{args.songs:,} songs / {args.albums:,} albums / {PLAYLISTS} playlists / "
              f"{args.songs:,} plays; {args.duration} s per scenario "
              f"after {args.warmup} s warm-up; {args.connections} connections (logins 8); "
              f"one uvicorn worker per service unless WORKERS=2, one for the baseline "
              f"and one for the reference; "
              f"LOG_LEVEL={LOG_LEVEL}")  # fmt: skip
    say(header)
    rows: list[Row] = []
    load_seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="musicplayer-bench-") as workdir:
        for name in args.databases:
            database_rows, load_seconds[name] = bench_database(name, args, Path(workdir))
            rows.extend(database_rows)
    elapsed = time.monotonic() - started
    summary = report.summary(rows)
    say(f"\n{header}\n\n{report.table(rows)}\n\n{summary}")
    loads = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in load_seconds.items())
    say(f"catalogue load: {loads}; whole run {elapsed:.0f} s; JSON in {args.json}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "header": header, "settings": {k: str(v) for k, v in vars(args).items()},
        "load_seconds": load_seconds, "elapsed_seconds": elapsed,
        "rows": report.as_json(rows), "summary": summary,
        "passed": all(row.passed for row in rows),
    }, indent=2))  # fmt: skip
    return 0
