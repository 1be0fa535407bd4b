"""The media rows of `make bench` (issue 15, "Speed"): streaming and library scans,
each judged as a ratio to a yardstick measured in the same run, or as a rate.

Streaming: 16 wrk connections pull one 5 MB audio file in 256 KiB Range requests
(lua/range.lua: first byte to last, then again) from three servers, which take
turns of 2 s until each has had its measured seconds (8; so that the machine's
other load falls on the yardstick and on the others alike). Each server's
measured turns are followed by a 1 s run of lua/range_check.lua, which looks at
every answer: any but 206 is an error of the row. (The measured turns do not
look: a wrk script that reads the answers gets every body copied into Lua, which
caps wrk at about a third of what nginx serves here.) The servers:

- Debian's nginx serving the file from disk (a static location in a config
  written here, with the gateway's defaults: the yardstick);
- song_service itself, GET /songs/{id}/stream on a signed URL
  (POST /songs/{id}/stream-url), the bytes sent by media.streaming;
- the gateway, gateway/nginx.conf run with Debian's nginx the way
  tests/deploy/test_gateway_smoke.py runs it (compose's command, upstreams moved
  to 127.0.0.1, the media volumes to folders here, its loopback access-check
  server to a free port and its cache to the work folder), in front of a
  song_service with compose's MEDIA_ACCEL_REDIRECT: the service checks the URL,
  nginx sends the bytes (X-Accel-Redirect), and the gateway keeps that answer
  for the few seconds the service allows (X-Accel-Expires), so that most Range
  requests of the run do not reach Python: what a player's requests get too.

Targets: service >= 0.5x nginx, gateway >= 0.9x nginx (MB/s received, 10^6 bytes;
the headers are ~0.1% of a 256 KiB answer), and song_service's idle RSS after the
streaming runs within +5 MB of the one before them.

Scan: files/s of a first scan of 2,000 tagged files (a handful written by
media.synth.write_song, copied and re-tagged with mutagen so that every file has
its own tags and bytes; album folders under a temporary LIBRARY_DIR), then of a
rescan with nothing changed, driven as an admin does it: POST /library/scans,
then GET /library/scans/{id} until "done", timed from the POST to the answer that
says done. Target: the rescan >= 2,000 files/s and it reads no audio file. That
is checked with access times: before the rescan every file's atime is set below
its mtime, so that any read updates it even under `relatime` (a probe file read
on purpose proves it does on this file system; on a `noatime` one the check says
so instead of passing).

Runs once, on the SQLite fleet, from scripts/bench/main.py; alone:
`python -m scripts.bench.media [--quick]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import mutagen
from sqlalchemy import create_engine, select

from database.tables import media_files
from scripts.bench import report
from scripts.bench.report import Row
from scripts.bench.services import (
    READY_TIMEOUT_SECONDS,
    bench_environment,
    prepare,
    resident_mb,
    running,
    uvicorn_command,
)
from scripts.bench.wrk import MARKER, WrkResult, parse, start_wrk, wrk_path
from tests.deploy.compose import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    load_compose,
    local_gateway_argv,
    read_env_file,
)
from tests.e2e.fleet import ADMIN_EMAIL, ADMIN_PASSWORD, Fleet, free_ports, stop, wait_until_ready

STREAM_CLIENTS = 16  # the "16 clients"
CHUNK_BYTES = 256 * 1024
STREAM_MB = 5  # the "5 MB file"; 1 with --quick
SCAN_FILES = 2_000  # 100 with --quick
SERVICE_MIN_RATIO = 0.5
GATEWAY_MIN_RATIO = 0.9
RSS_GROWTH_LIMIT_MB = 5.0
RESCAN_MIN_FILES_PER_SECOND = 2_000.0
# Stereo 16-bit PCM at 44.1 kHz: bytes per second of the WAV streamed.
WAV_BYTES_PER_SECOND = 44_100 * 2 * 2
# The scanned files: short, one base file per format, copied and re-tagged.
BASE_SUFFIXES = ("mp3", "flac", "ogg", "opus")
BASE_SECONDS = 2.0
TRACKS_PER_ALBUM = 10
ALBUMS_PER_ARTIST = 2
GENRES = ("Rock", "Jazz", "Folk", "Electronic", "Classical")
SCAN_FOLDER = "albums"
STREAM_PATH = "stream/bench/stream.wav"  # under LIBRARY_DIR; ASCII, no escaping needed
# Seconds between two GET /library/scans/{id}: short against a rescan's ~1 s, long
# enough that the polling does not slow the scan it watches.
POLL_SECONDS = 0.02
SCAN_TIMEOUT_SECONDS = 900.0
IDLE_SECONDS = 1.0
# After each measured streaming run, this long again with every answer checked.
CHECK_SECONDS = 1
# The streaming servers take turns of this many seconds (see `bench`).
ROUND_SECONDS = 2
BENCH_RANGE = "BENCH_RANGE "

Say = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    scan_files: int
    stream_bytes: int  # about; the WAV's own size is what is streamed
    duration: int  # measured seconds per streaming run
    warmup: int

    @classmethod
    def of(cls, quick: bool, duration: int, warmup: int) -> Sizes:
        megabytes = 1 if quick else STREAM_MB
        files = 100 if quick else SCAN_FILES
        return cls(files, megabytes * 1_000_000, duration, warmup)


# --- the files -------------------------------------------------------------------


def write_scan_library(library: Path, bases_dir: Path, count: int) -> list[Path]:
    """`count` tagged audio files under library/albums/Artist NNN/Album NNNN/: one
    base file per format written by media.synth, then copied and re-tagged with
    mutagen, so that each has its own title, track, album and artist, and its own
    bytes (its own checksum: the scan would refuse a duplicate)."""
    from media.synth import write_song  # numpy and soundfile: requirements-dev.txt

    bases = {
        suffix: write_song(
            bases_dir / f"base.{suffix}", title="Base", artists=["Base"], album="Base",
            seconds=BASE_SECONDS, seed=number,
        )
        for number, suffix in enumerate(BASE_SUFFIXES)
    }  # fmt: skip
    paths = []
    for number in range(count):
        album, track = divmod(number, TRACKS_PER_ALBUM)
        artist = album // ALBUMS_PER_ARTIST
        suffix = BASE_SUFFIXES[album % len(BASE_SUFFIXES)]
        folder = library / SCAN_FOLDER / f"Artist {artist:03d}" / f"Album {album:04d}"
        if track == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{track + 1:02d} - Song {number:05d}.{suffix}"
        shutil.copyfile(bases[suffix], path)
        audio = mutagen.File(path, easy=True)
        if audio is None:
            raise RuntimeError(f"mutagen cannot tag {path}")
        audio["title"] = f"Song {number:05d}"
        audio["artist"] = f"Bench Artist {artist:03d}"
        audio["albumartist"] = f"Bench Artist {artist:03d}"
        audio["album"] = f"Bench Album {album:04d}"
        audio["tracknumber"] = f"{track + 1}/{TRACKS_PER_ALBUM}"
        audio["genre"] = GENRES[album % len(GENRES)]
        audio["date"] = str(1960 + album % 60)
        audio.save()
        paths.append(path)
    return paths


def write_stream_file(path: Path, approximate_bytes: int) -> bytes:
    """A real, tagged WAV (stereo, 44.1 kHz) of about `approximate_bytes`; its bytes."""
    from media.synth import write_song

    write_song(
        path, title="Stream", artists=["Bench"], album="Bench Stream",
        seconds=approximate_bytes / WAV_BYTES_PER_SECOND, sample_rate=44_100, channels=2,
        seed=99,
    )  # fmt: skip
    return path.read_bytes()


def age_access_times(paths: list[Path]) -> None:
    """atime := mtime - 10 s (mtime kept): the next read of each file updates its
    atime even under `relatime`, so that a read shows."""
    for path in paths:
        stat = path.stat()
        os.utime(path, ns=(stat.st_mtime_ns - 10_000_000_000, stat.st_mtime_ns))


def read_files(paths: list[Path], before: dict[Path, int]) -> int:
    """How many of `paths` were read since `before` (their atimes then)."""
    return sum(1 for path in paths if path.stat().st_atime_ns != before[path])


def atime_shows_reads(probe: Path) -> bool:
    """Whether this file system records a read in the atime (not `noatime`)."""
    probe.write_bytes(b"probe" * 1000)
    age_access_times([probe])
    before = probe.stat().st_atime_ns
    probe.read_bytes()
    return probe.stat().st_atime_ns != before


# --- the processes ---------------------------------------------------------------


@contextmanager
def started(
    commands: dict[str, tuple[list[str], dict[str, str] | None]],
    urls: dict[str, str],
    log_dir: Path,
    probe: str,
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Processes by name (argv, environment; None: this one's), each logging to
    log_dir/<name>.log, ready when each url + `probe` answers 200; stopped after."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    fleet = Fleet(urls=urls)
    try:
        for name, (argv, env) in commands.items():
            fleet.logs[name] = log_dir / f"{name}.log"
            with fleet.logs[name].open("wb") as log:
                processes[name] = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                    argv, cwd=log_dir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, process_group=0,
                )  # fmt: skip
        wait_until_ready(fleet, processes, probe, READY_TIMEOUT_SECONDS)
        yield processes
    finally:
        stop(processes)
        for process in processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


def song_services(
    data_dir: Path, database_url: str, fleet_urls: dict[str, str], library: Path
) -> tuple[dict[str, tuple[list[str], dict[str, str] | None]], dict[str, str]]:
    """Two more song_service processes on the fleet's database and keys, with
    LIBRARY_DIR = `library`: "song_media" sends the bytes itself, "song_accel" has
    compose's MEDIA_ACCEL_REDIRECT (the gateway's internal location)."""
    accel = compose_services()["song_service"]["environment"]["MEDIA_ACCEL_REDIRECT"]
    ports = dict(zip(("song_media", "song_accel"), free_ports(2), strict=True))
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {}
    for name, port in ports.items():
        env = bench_environment(data_dir, fleet_urls, database_url)
        env["LIBRARY_DIR"] = str(library)
        if name == "song_accel":
            env["MEDIA_ACCEL_REDIRECT"] = accel
        commands[name] = (uvicorn_command("song_service.main:create_app", port, 1), env)
    return commands, urls


def compose_services() -> dict[str, Any]:
    return load_compose([COMPOSE_FILE], read_env_file(ENV_EXAMPLE))["services"]


def nginx_path() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def static_nginx_conf(port: int, root: Path, work: Path) -> str:
    """Debian's nginx serving `root` under /files/, with the gateway's defaults
    (no sendfile, worker_processes auto, an access log): the yardstick."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # see gateway_command
    temp = "\n".join(
        f"    {kind}_temp_path {work / ('static-' + kind)};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes auto;
error_log stderr warn;
pid {work / "static-nginx.pid"};
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log {work / "static-access.log"};
{temp}
    keepalive_timeout 15s;
    server {{
        listen 127.0.0.1:{port};
        location = /health {{ return 200 'ok'; }}
        location /files/ {{ alias {root}/; }}
    }}
}}
"""


def gateway_command(
    nginx: str, port: int, upstreams: dict[str, str], volumes: dict[str, Path], work: Path
) -> list[str]:
    """gateway/nginx.conf as tests/deploy runs it (tests.deploy.compose): compose's
    command for the gateway with only the upstreams (`upstreams`: compose service ->
    base URL), the ports and the media volumes' folders changed, under `work`."""
    hosts = {name: httpx.URL(url).netloc.decode() for name, url in upstreams.items()}
    return local_gateway_argv(
        nginx,
        compose_services()["gateway"],
        port=port,
        upstreams=hosts,
        volumes=volumes,
        work=work,
        loopback_port=free_ports(1)[0],
    )


# --- scans -----------------------------------------------------------------------


def admin_token(data_dir: Path, env: dict[str, str], auth_url: str) -> str:
    """The fleet's admin (ADMIN_EMAIL / ADMIN_PASSWORD of its environment), created
    as `make admin` does, logged in."""
    subprocess.run(
        [sys.executable, "-m", "user_service.admin"],
        cwd=data_dir, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with httpx.Client(timeout=30, trust_env=False) as client:
        login = client.post(
            f"{auth_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        login.raise_for_status()
        return login.json()["auth_token"]


def timed_scan(client: httpx.Client, path: str) -> tuple[dict[str, Any], float]:
    """POST /library/scans for `path`, then GET /library/scans/{id} until it is no
    longer queued or running; the scan and the seconds from the POST to that answer."""
    begun = time.perf_counter()
    response = client.post("/library/scans", json={"path": path})
    if response.status_code != 202:
        raise RuntimeError(f"POST /library/scans: {response.status_code} {response.text}")
    scan_id = response.json()["id"]
    deadline = begun + SCAN_TIMEOUT_SECONDS
    while True:
        scan = client.get(f"/library/scans/{scan_id}")
        scan.raise_for_status()
        body = scan.json()
        if body["state"] not in ("queued", "running"):
            seconds = time.perf_counter() - begun
            if body["state"] != "done":
                raise RuntimeError(f"scan of {path} ended {body['state']}: {body}")
            return body, seconds
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"scan of {path} still {body['state']} after {SCAN_TIMEOUT_SECONDS} s"
            )
        time.sleep(POLL_SECONDS)


def song_of(database_url: str, relative: str) -> int:
    """The song whose library file is `relative`."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            song_id = connection.execute(
                select(media_files.c.song_id).where(
                    media_files.c.root == "library", media_files.c.path == relative
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(song_id)


# --- streaming -------------------------------------------------------------------


def signed_path(client: httpx.Client, song_id: int) -> str:
    """POST /songs/{id}/stream-url's URL, as path and query (its origin may be
    PUBLIC_BASE_URL's)."""
    response = client.post(f"/songs/{song_id}/stream-url")
    response.raise_for_status()
    url = httpx.URL(response.json()["url"])
    return url.raw_path.decode()


def check_range(url: str, data: bytes) -> None:
    """One Range request answers 206 with the right bytes, or the run stops here."""
    with httpx.Client(timeout=30, trust_env=False) as client:
        answer = client.get(url, headers={"Range": f"bytes=10-{CHUNK_BYTES + 9}"})
    if answer.status_code != 206 or answer.content != data[10 : CHUNK_BYTES + 10]:
        raise RuntimeError(f"{url}: {answer.status_code} {answer.headers} is not the range asked")
    if "x-accel-redirect" in answer.headers:
        raise RuntimeError(f"{url}: the X-Accel-Redirect reached the client")


def pull(url: str, size: int, seconds: int, *, check: bool = False) -> tuple[WrkResult, int]:
    """wrk pulling the file at `url` in ranges for `seconds` (lua/range.lua): the
    result and the bytes received (headers included: ~0.1% of a 256 KiB answer).
    `check`: lua/range_check.lua instead, which looks at every answer: those that
    are not 206 are added to the errors ("not_206"), and the bytes are the bodies'."""
    script = "range_check.lua" if check else "range.lua"
    process = start_wrk(
        url, script, [str(CHUNK_BYTES), str(size)], connections=STREAM_CLIENTS, seconds=seconds
    )
    stdout, stderr = process.communicate()
    raw = extra = None
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            raw = json_line(line, MARKER)
        elif line.startswith(BENCH_RANGE):
            extra = json_line(line, BENCH_RANGE)
    if raw is None or (check and extra is None):
        raise RuntimeError(
            f"wrk printed no result (exit {process.returncode}):\n{stdout}\n{stderr}"
        )
    result = parse(raw)
    if extra is None:
        return result, int(raw["bytes"])
    wrong = int(extra["not_206"])
    result = replace(
        result, errors=result.errors + wrong,
        error_detail={**result.error_detail, "not_206": wrong},
    )  # fmt: skip
    return result, int(extra["body_bytes"])


def round_plan(duration: int) -> tuple[int, int]:
    """`duration` measured seconds per server as (seconds per turn, turns): turns
    of ROUND_SECONDS (at least 1 s) that add up to about `duration`."""
    turns = max(1, duration // ROUND_SECONDS)
    return max(1, duration // turns), turns


def combine(runs: list[tuple[WrkResult, int]]) -> tuple[WrkResult, int]:
    """Several wrk runs of one server as one: requests, seconds, errors and bytes
    added up; p50 the median of the runs' p50s, p90, p99 and max the highest."""
    results = [result for result, _ in runs]
    p50s = sorted(result.p50_ms for result in results)
    detail: dict[str, int] = {}
    for result in results:
        for name, count in result.error_detail.items():
            detail[name] = detail.get(name, 0) + count
    merged = WrkResult(
        requests=sum(result.requests for result in results),
        seconds=sum(result.seconds for result in results),
        errors=sum(result.errors for result in results),
        error_detail=detail,
        p50_ms=p50s[len(p50s) // 2],
        p90_ms=max(result.p90_ms for result in results),
        p99_ms=max(result.p99_ms for result in results),
        max_ms=max(result.max_ms for result in results),
    )
    return merged, sum(received for _, received in runs)


def json_line(line: str, marker: str) -> dict[str, Any]:
    return json.loads(line[len(marker) :])


@dataclass(frozen=True)
class Stream:
    key: str
    label: str
    url: str
    min_ratio: float | None  # MB/s >= this x nginx's; None: the yardstick


def stream_row(
    database: str,
    stream: Stream,
    measured: tuple[WrkResult, int],
    checked: WrkResult,
    nginx: float,
) -> Row:
    """The measured run's MB/s and latency; its errors and those of the checking
    run (`checked`: every answer 206?) together."""
    result, received = measured
    megabytes = received / result.seconds / 1e6 if result.seconds else 0.0
    errors = {
        name: result.error_detail.get(name, 0) + checked.error_detail.get(name, 0)
        for name in {*result.error_detail, *checked.error_detail}
    }
    row = Row(
        database=database, key=stream.key, label=stream.label, connections=STREAM_CLIENTS,
        requests=result.requests, requests_per_second=result.requests_per_second,
        p50_ms=result.p50_ms, p99_ms=result.p99_ms, errors=sum(errors.values()),
        error_detail=errors, value=megabytes, unit="MB/s",
        counts={"answers_checked": checked.requests, "not_206": errors["not_206"]},
    )  # fmt: skip
    row.passed = row.errors == 0 and result.requests > 0 and checked.requests > 0
    if stream.min_ratio is None:
        row.target = f"{megabytes:,.0f} MB/s (yardstick), 0 errors"
        return row
    ratio = megabytes / nginx if nginx else 0.0
    row.target = f"{megabytes:,.0f} MB/s = {ratio:.2f}x nginx >= {stream.min_ratio:.2f}x, 0 errors"
    row.passed = row.passed and ratio >= stream.min_ratio
    return row


# --- the section -----------------------------------------------------------------


def bench(
    database: str,
    data_dir: Path,
    database_url: str,
    fleet_urls: dict[str, str],
    sizes: Sizes,
    say: Say = print,
) -> list[Row]:
    """The media rows, against the running fleet `fleet_urls` (its database and
    keys in `data_dir`): scans first (they also import the file streamed), then the
    three streaming runs with song_service's idle RSS around them."""
    nginx = nginx_path()
    if nginx is None:
        raise SystemExit("the media bench needs nginx: apt-get install nginx")
    work = data_dir / "media-bench"
    library = work / "library"
    uploads = work / "media"
    for folder in (library, uploads, work / "bases"):
        folder.mkdir(parents=True)
    started_writing = time.monotonic()
    say(f"[{database}] media: writing {sizes.scan_files:,} tagged files and a "
        f"{sizes.stream_bytes / 1e6:.0f} MB WAV ...")  # fmt: skip
    files = write_scan_library(library, work / "bases", sizes.scan_files)
    data = write_stream_file(library / STREAM_PATH, sizes.stream_bytes)
    say(f"[{database}] media: written in {time.monotonic() - started_writing:.1f} s")

    commands, urls = song_services(data_dir, database_url, fleet_urls, library)
    env = bench_environment(data_dir, fleet_urls, database_url)
    rows: list[Row] = []
    with started(commands, urls, work, "/health/ready") as songs:
        token = admin_token(data_dir, env, fleet_urls["auth"])
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=urls["song_media"], headers=headers, timeout=60,
                          trust_env=False) as client:  # fmt: skip
            timed_scan(client, STREAM_PATH.split("/")[0])  # the streamed file: not timed
            rows.append(first_scan_row(database, *timed_scan(client, SCAN_FOLDER), len(files)))
            say(f"[{database}] {rows[-1].label}: {rows[-1].target}")
            atime_works = atime_shows_reads(work / "atime-probe")
            age_access_times(files)
            atimes = {path: path.stat().st_atime_ns for path in files}
            scan, seconds = timed_scan(client, SCAN_FOLDER)
            opened = read_files(files, atimes) if atime_works else None
            rows.append(rescan_row(database, scan, seconds, len(files), opened))
            say(f"[{database}] {rows[-1].label}: {rows[-1].target}")
            song_id = song_of(database_url, STREAM_PATH)
            service_path = signed_path(client, song_id)
        with httpx.Client(base_url=urls["song_accel"], headers=headers, timeout=60,
                          trust_env=False) as client:  # fmt: skip
            accel_path = signed_path(client, song_id)

        static_port, gateway_port = free_ports(2)
        (work / "static.conf").write_text(static_nginx_conf(static_port, library, work))
        upstreams = {f"{name}_service": url for name, url in fleet_urls.items()}
        upstreams["song_service"] = urls["song_accel"]
        servers = {
            "nginx": ([nginx, "-p", str(work), "-e", "stderr", "-c", str(work / "static.conf")],
                      None),
            "gateway": (gateway_command(nginx, gateway_port, upstreams,
                                        {"media": uploads, "library": library}, work), None),
        }  # fmt: skip
        nginx_urls = {"nginx": f"http://127.0.0.1:{static_port}",
                      "gateway": f"http://127.0.0.1:{gateway_port}"}  # fmt: skip
        megabytes = f"{len(data) / 1e6:.1f} MB"
        streams = [
            Stream("stream_nginx", f"stream {megabytes} in 256 KiB ranges: nginx from disk",
                   f"{nginx_urls['nginx']}/files/{quote(STREAM_PATH)}", None),
            Stream("stream_service", f"stream {megabytes} in 256 KiB ranges: song_service",
                   f"{urls['song_media']}{service_path}", SERVICE_MIN_RATIO),
            Stream("stream_gateway", f"stream {megabytes} in 256 KiB ranges: gateway "
                   "(X-Accel-Redirect)", f"{nginx_urls['gateway']}{accel_path}",
                   GATEWAY_MIN_RATIO),
        ]  # fmt: skip
        with started(servers, nginx_urls, work, "/health"):
            for stream in streams:
                check_range(stream.url, data)
            media_pid = songs["song_media"].pid
            time.sleep(IDLE_SECONDS)
            rss_before = resident_mb(media_pid)
            if sizes.warmup:
                for stream in streams:
                    pull(stream.url, len(data), sizes.warmup)
            # The three servers take turns, a few seconds each, until each has run
            # `duration` seconds: the other load on a shared machine then weighs on
            # the yardstick and on the servers compared with it alike (one long run
            # each, one after the other, swung the gateway's ratio from 0.5 to 0.9).
            seconds, rounds = round_plan(sizes.duration)
            runs: dict[str, list[tuple[WrkResult, int]]] = {s.key: [] for s in streams}
            for _ in range(rounds):
                for stream in streams:
                    runs[stream.key].append(pull(stream.url, len(data), seconds))
            nginx_mb_per_second = 0.0
            for stream in streams:
                say(f"[{database}] {stream.label}")
                measured = combine(runs[stream.key])
                checked, _ = pull(stream.url, len(data), CHECK_SECONDS, check=True)
                row = stream_row(database, stream, measured, checked, nginx_mb_per_second)
                if stream.min_ratio is None:
                    nginx_mb_per_second = row.value or 0.0
                rows.append(row)
                say(f"[{database}]   {row.target}")
            time.sleep(IDLE_SECONDS)
            rss_after = resident_mb(media_pid)
    rows.append(rss_row(database, rss_before, rss_after))
    return rows


def first_scan_row(database: str, scan: dict[str, Any], seconds: float, count: int) -> Row:
    rate = count / seconds if seconds else 0.0
    row = Row(
        database=database, key="scan_first",
        label=f"first scan of {count:,} tagged files (POST /library/scans)",
        errors=len(scan["errors"]), counts=scan_counts(scan), value=rate, unit="files/s",
    )  # fmt: skip
    row.target = f"{rate:,.0f} files/s ({seconds:.2f} s), {scan['added']:,} added, 0 errors"
    row.passed = scan["added"] == count and not scan["errors"]
    return row


def rescan_row(
    database: str, scan: dict[str, Any], seconds: float, count: int, opened: int | None
) -> Row:
    rate = count / seconds if seconds else 0.0
    row = Row(
        database=database, key="scan_unchanged",
        label=f"rescan of the {count:,} files, nothing changed",
        errors=len(scan["errors"]), counts=scan_counts(scan), value=rate, unit="files/s",
    )  # fmt: skip
    read = "reads not checked (noatime)" if opened is None else f"{opened} files read"
    if opened is not None and row.counts is not None:
        row.counts["audio_files_read"] = opened
    row.target = (
        f"{rate:,.0f} files/s ({seconds:.2f} s) >= {RESCAN_MIN_FILES_PER_SECOND:,.0f}; "
        f"{read}, 0 needed"
    )
    row.passed = (
        rate >= RESCAN_MIN_FILES_PER_SECOND
        and scan["skipped"] == count
        and scan["added"] == scan["updated"] == scan["removed"] == 0
        and not scan["errors"]
        and opened == 0
    )
    return row


def scan_counts(scan: dict[str, Any]) -> dict[str, int]:
    return {key: int(scan[key]) for key in ("files_seen", "added", "updated", "removed",
                                            "skipped")}  # fmt: skip


def rss_row(database: str, before: float, after: float) -> Row:
    growth = after - before
    return Row(
        database=database, key="rss_song_streaming",
        label="idle RSS song_service, before -> after streaming",
        value=growth, unit="MB",
        counts={"before_kib": round(before * 1024), "after_kib": round(after * 1024)},
        target=f"{before:.1f} -> {after:.1f} MB: {growth:+.1f} <= +{RSS_GROWTH_LIMIT_MB:.0f} MB",
        passed=growth <= RSS_GROWTH_LIMIT_MB,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """The media section alone, on a fresh SQLite fleet with no catalogue."""
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.media", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 files, a 1 MB file, 1 s runs")
    parser.add_argument("--duration", type=int, help="measured seconds per stream (8)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds per stream (2)")
    args = parser.parse_args(argv)
    if wrk_path() is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    duration = args.duration or (1 if args.quick else 8)
    warmup = args.warmup if args.warmup is not None else (0 if args.quick else 2)
    with tempfile.TemporaryDirectory(prefix="musicplayer-bench-media-") as workdir:
        data_dir = Path(workdir) / "sqlite"
        data_dir.mkdir()
        url = f"sqlite:///{data_dir / 'bench.db'}"
        prepare(data_dir, url)
        with running(data_dir, url, workers=1, baseline=False) as fleet:
            rows = bench("sqlite", data_dir, url, fleet.urls,
                         Sizes.of(args.quick, duration, warmup))  # fmt: skip
    print(f"\n{report.table(rows)}\n\n{report.summary(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
