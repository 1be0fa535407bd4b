"""A song's audio as an HTTP answer: the one decision both `GET /songs/{id}/stream`
and `/download` (song_service) and Subsonic's `stream` and `download`
(subsonic_service) make, so the two APIs play a song the same way.

Given the song's media row (or None) and its `file_url`:

- no local file and an http(s) `file_url`: 307 there (the client repeats its
  method, HEAD stays HEAD);
- no local file otherwise, or a recorded file gone from disk (or a stored path
  that would leave its root): NotFoundError (404; Subsonic error 70);
- a transcode asked for (media.transcode.plan: `format`, `max_bitrate`, stream
  only): the cached ffmpeg output, whole, `Accept-Ranges: none`, a strong ETag
  naming the variant (429, 501, 422 as media.transcode raises them);
- behind the gateway (settings.media_accel_redirect): an empty 200 with
  X-Accel-Redirect, and nginx sends the bytes (media.streaming);
- else media.streaming.AudioFileResponse: ranges, 206/416, strong ETag from the
  file's SHA-256, Last-Modified, If-Range, 304/412, HEAD without a body.

Nothing here counts a play or checks who may listen: callers have done that.
"""

from __future__ import annotations

import os
import time
from typing import Literal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from common import metrics
from common.errors import NotFoundError
from common.settings import Settings
from database.media import MediaFile
from media import storage, transcode
from media.streaming import (
    ACCEL_CACHE_SECONDS,
    AudioFileResponse,
    accel_redirect_response,
    strong_etag,
)

Purpose = Literal["stream", "download"]


def process_transcoder(request: Request) -> transcode.Transcoder:
    """The app's Transcoder (`app.state.transcoder`), made on first use: its
    concurrency bound is per process, as settings.transcode_concurrency says."""
    state = request.app.state
    transcoder = getattr(state, "transcoder", None)
    if transcoder is None:
        settings: Settings = state.settings
        transcoder = transcode.Transcoder(settings.cache_dir, settings.transcode_concurrency)
        state.transcoder = transcoder
    return transcoder


def download_name(artist: str, title: str, suffix: str) -> str:
    """A download's file name, `Artist - Title.suffix`, with path separators and
    control characters replaced (media.storage.safe_component)."""
    name = storage.safe_component(f"{artist} - {title}", "song")
    return f"{name}.{suffix}" if suffix else name


def is_remote(file_url: str | None) -> bool:
    """Whether a song's `file_url` is a place to redirect a player to (http/https)."""
    return file_url is not None and file_url.lower().startswith(("http://", "https://"))


async def audio_response(
    settings: Settings,
    media: MediaFile | None,
    file_url: str | None,
    *,
    song_id: int,
    expires_at: int,
    purpose: Purpose = "stream",
    filename: str | None = None,
    transcoder: transcode.Transcoder | None = None,
    format: str | None = None,
    max_bitrate: int | None = None,
) -> Response:
    """The answer for song `song_id`'s audio (see the module docstring).

    `expires_at` (POSIX seconds): when the caller's access (token or signed URL)
    ends; the gateway never repeats an X-Accel-Redirect answer past it.
    `purpose="download"` sends the original as an attachment named `filename`
    (download_name) and never transcodes; "stream" sends it inline, transcoded
    when `format` ("mp3", "opus", "raw", or None) and `max_bitrate` (kbps) make
    media.transcode.plan ask for it, through `transcoder` (process_transcoder).
    Raises NotFoundError when there is nothing to play, ValueError for a
    `format` media.transcode does not know (callers validate it first).
    Each answer is counted (common.metrics.STREAMS) by how its bytes go out, for
    the service that asked (song_service or subsonic_service)."""
    if media is None:
        if file_url is not None and is_remote(file_url):
            _count(purpose, "redirect")
            return RedirectResponse(file_url, status_code=307)
        raise NotFoundError("The song has no audio file and no remote file_url to stream")
    try:
        path = storage.resolve(media.root, media.path, settings)  # type: ignore[arg-type]
        # On the event loop: a stat of a local file takes microseconds, less than a
        # hand-off to a worker thread (the bench streams many small ranges).
        stat_result = os.stat(path)
    except (OSError, storage.UnsafePathError):
        raise NotFoundError("The song's file is missing") from None
    if purpose == "stream":
        target = transcode.plan(media.suffix, media.bitrate, format, max_bitrate)
        if target is not None:
            if transcoder is None:
                raise RuntimeError("a transcode was planned without a transcoder")
            output = await transcoder.get(path, song_id, media.checksum, target)
            _count(purpose, "transcode")
            return AudioFileResponse(
                output,
                media_type=target.content_type,
                etag=strong_etag(media.checksum, target.variant),
                last_modified=media.mtime_ns / 1e9,
                stat_result=os.stat(output),
                accept_ranges=False,
            )
        filename = None  # a stream is inline: no name
    disposition = "attachment" if purpose == "download" else "inline"
    if settings.media_accel_redirect:
        # The gateway may repeat this answer for a few seconds (its cache is keyed
        # by URL and Authorization), but never past the caller's token or signed
        # URL's own expiry.
        remaining = expires_at - int(time.time())
        _count(purpose, "accel")
        return accel_redirect_response(
            settings.media_accel_redirect,
            media.root,
            media.path,
            media_type=media.content_type,
            filename=filename,
            disposition=disposition,
            cache_seconds=min(ACCEL_CACHE_SECONDS, remaining),
        )
    _count(purpose, "file")
    return AudioFileResponse(
        path,
        media_type=media.content_type,
        etag=strong_etag(media.checksum),
        last_modified=media.mtime_ns / 1e9,
        stat_result=stat_result,
        filename=filename,
        disposition=disposition,
    )


def _count(purpose: Purpose, kind: str) -> None:
    """One audio answer of `kind` (common.metrics.STREAM_KINDS)."""
    metrics.STREAMS.labels(metrics.current_service(), purpose, kind).inc()
