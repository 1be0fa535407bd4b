"""Optional transcoding with ffmpeg: `format` (mp3, opus, raw) and `max_bitrate`
(kbps) on GET /songs/{id}/stream.

- `plan()` decides whether a request needs ffmpeg at all: `format=raw`, no format
  and no lower bitrate cap, or the original's own format with no lower cap is the
  original file (ranges and all), and never needs ffmpeg.
- Bitrates are snapped down to `BITRATES` (below the smallest, to the smallest),
  so that a handful of variants per song can exist in the cache, not one per
  number a client makes up.
- Results are cached under `<cache_dir>/transcode/<song id>/` by (song id, source
  checksum, format, bitrate): a replaced file (new checksum) never gets the old
  file's transcode. ffmpeg writes a temporary file beside the target, renamed into
  place only when ffmpeg succeeded, so a crash or a kill never leaves a partial
  file at a cache name; concurrent requests for one variant run ffmpeg once.
- At most `transcode_concurrency` ffmpeg processes run per process; one more is
  TooManyRequestsError (429 + Retry-After), not a queue that grows without bound.
- A transcoded answer is sent whole with `Accept-Ranges: none` (API.md, Media).

Without ffmpeg (`shutil.which("ffmpeg")` finds none) a request that needs it is
501 Not Implemented, not 503: RFC 9110, 15.6.2 says 501 is for a server that
"does not support the functionality required", which is this deployment's lasting
state; 503 (15.6.4) announces a temporary condition and would make clients retry.
The detail says to install ffmpeg or ask for `format=raw`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from common import metrics
from common.errors import DomainError, TooManyRequestsError

Format = Literal["mp3", "opus", "raw"]
FORMATS: tuple[Format, ...] = ("mp3", "opus", "raw")
BITRATES = (64, 96, 128, 160, 192, 256, 320)  # kbps
DEFAULT_BITRATE = {"mp3": 192, "opus": 128}  # kbps, when only `format` is given
CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg"}
_CODEC_ARGS = {
    "mp3": ["-c:a", "libmp3lame", "-f", "mp3"],
    "opus": ["-c:a", "libopus", "-f", "ogg"],
}
# ffmpeg runs far faster than real time; a song that takes longer than this is a
# hung process (a broken file, a stuck disk), killed rather than holding a slot.
TIMEOUT_SECONDS = 600.0
# What a refused client is told to wait: about one short transcode.
RETRY_AFTER_SECONDS = 5


class FfmpegMissingError(DomainError):
    status_code = 501
    detail = (
        "Transcoding needs ffmpeg, which is not installed on this server; "
        "ask for format=raw (the original file) or install ffmpeg"
    )


class TranscodeFailedError(DomainError):
    """ffmpeg could not decode the song's file: the request cannot be honoured for
    this song (the original is still available with format=raw)."""

    status_code = 422
    detail = "The song's file could not be transcoded; ask for format=raw"


@dataclass(frozen=True, slots=True)
class Plan:
    """One transcode: `format` ("mp3"/"opus") at `bitrate` kbps."""

    format: str
    bitrate: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def variant(self) -> str:
        """The part of the cache key and ETag that names this encoding."""
        return f"{self.format}-{self.bitrate}"


def snap_bitrate(kbps: int) -> int:
    """The largest of BITRATES not above `kbps` (the smallest when all are)."""
    fitting = [rate for rate in BITRATES if rate <= kbps]
    return fitting[-1] if fitting else BITRATES[0]


def plan(
    suffix: str, bitrate: int | None, format: str | None, max_bitrate: int | None
) -> Plan | None:
    """What a stream request needs for a file with `suffix` and `bitrate` (kbps,
    None when unknown): None for the original file, else a Plan for ffmpeg.

    `format` None or "raw" with no cap below the original's bitrate is the
    original; `format=raw` always is. A cap whose snapped bitrate is below the
    original's (or any cap when the original's is unknown) with no format
    transcodes to mp3: a cap the smallest bitrate would not get under keeps the
    original, which is then the smaller answer. A transcode never asks for more
    than the original has (a 45 kbps file in mp3 is 64 kbps, not 192)."""
    if format == "raw":
        return None
    lower = max_bitrate is not None and (bitrate is None or snap_bitrate(max_bitrate) < bitrate)
    if format is None or format == suffix.lower():
        if not lower:
            return None
        format = format or "mp3"
    if format not in CONTENT_TYPES:
        raise ValueError(f"unknown format {format!r}")
    target = DEFAULT_BITRATE[format] if max_bitrate is None else max_bitrate
    if bitrate is not None:
        target = min(target, bitrate)
    return Plan(format=format, bitrate=snap_bitrate(target))


def ffmpeg_path() -> str | None:
    """The ffmpeg executable on PATH, or None."""
    return shutil.which("ffmpeg")


class Transcoder:
    """Runs and caches ffmpeg transcodes for one process (see the module
    docstring). `concurrency` ffmpeg processes at most; `cache_dir` is
    settings.cache_dir (results go under its `transcode/` folder)."""

    def __init__(self, cache_dir: Path, concurrency: int, ffmpeg: str | None = None) -> None:
        self.root = cache_dir / "transcode"
        self.concurrency = concurrency
        self.ffmpeg = ffmpeg if ffmpeg is not None else ffmpeg_path()
        self.running = 0
        self._pending: dict[Path, asyncio.Future[Path]] = {}

    def cache_path(self, song_id: int, checksum: str, target: Plan) -> Path:
        """Where the transcode of (song, checksum, format, bitrate) is kept."""
        suffix = "mp3" if target.format == "mp3" else "opus"
        return self.root / str(song_id) / f"{checksum}-{target.variant}.{suffix}"

    async def get(self, source: Path, song_id: int, checksum: str, target: Plan) -> Path:
        """The transcoded file, from the cache or made now.

        Raises FfmpegMissingError (501), TooManyRequestsError (429 + Retry-After)
        when `concurrency` transcodes already run, TranscodeFailedError (422) when
        ffmpeg fails on the file."""
        cached = self.cache_path(song_id, checksum, target)
        if cached.is_file():
            _count(target, "cached")
            return cached
        if self.ffmpeg is None:
            _count(target, "unavailable")
            raise FfmpegMissingError
        pending = self._pending.get(cached)
        if pending is not None:  # the same variant is being made: wait for it
            return await asyncio.shield(pending)
        if self.running >= self.concurrency:
            _count(target, "busy")
            raise TooManyRequestsError(
                RETRY_AFTER_SECONDS,
                f"{self.concurrency} transcodes are running; try again shortly "
                f"or ask for format=raw",
            )
        # No await between the check above and here: the event loop runs one
        # coroutine at a time, so the count cannot be overtaken.
        self.running += 1
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._pending[cached] = future
        started = time.perf_counter()
        try:
            await self._run(source, cached, target)
        except BaseException as exc:
            if isinstance(exc, TranscodeFailedError):  # not a cancelled request
                _count(target, "failed", time.perf_counter() - started)
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            _count(target, "done", time.perf_counter() - started)
            future.set_result(cached)
            return cached
        finally:
            self.running -= 1
            del self._pending[cached]

    async def _run(self, source: Path, target_path: Path, target: Plan) -> None:
        target_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = target_path.with_name(f".{target_path.name}.{secrets.token_hex(4)}.tmp")
        command = [
            self.ffmpeg or "ffmpeg",
            *("-nostdin", "-hide_banner", "-loglevel", "error", "-y"),
            *("-i", str(source)),
            # The first audio stream only: an embedded cover is a video stream.
            *("-map", "0:a:0", "-map_metadata", "0", "-vn"),
            *_CODEC_ARGS[target.format],
            *("-b:a", f"{target.bitrate}k"),
            str(temporary),
        ]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            try:
                _, _ = await asyncio.wait_for(process.communicate(), TIMEOUT_SECONDS)
            except TimeoutError:
                raise TranscodeFailedError("Transcoding the song's file took too long") from None
            if process.returncode != 0 or not temporary.is_file():
                raise TranscodeFailedError
            os.replace(temporary, target_path)
        finally:
            if process.returncode is None:  # cancelled or timed out: no orphan ffmpeg
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                with contextlib.suppress(Exception):
                    await asyncio.shield(process.wait())
            temporary.unlink(missing_ok=True)

    def remove(self, song_id: int) -> None:
        """Delete every cached transcode of a song (see `remove_cached`)."""
        remove_cached(self.root.parent, song_id)


def _count(target: Plan, result: str, seconds: float | None = None) -> None:
    """One transcode request's `result` (common.metrics.TRANSCODES) and, for an
    ffmpeg run, its duration in seconds."""
    service = metrics.current_service()
    metrics.TRANSCODES.labels(service, target.format, result).inc()
    if seconds is not None:
        metrics.TRANSCODE_DURATION.labels(service, target.format).observe(seconds)


def remove_cached(cache_dir: Path, song_id: int) -> None:
    """Delete every cached transcode of a song, under settings.cache_dir: call when
    the song is deleted or a scan removes it (a replaced file needs nothing: its
    new checksum is a new cache key)."""
    shutil.rmtree(cache_dir / "transcode" / str(song_id), ignore_errors=True)
