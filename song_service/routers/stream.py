"""HTTP for a song's audio: stream (with ranges, or transcoded), download, and the
signed URLs an `<audio src>` plays without an Authorization header (API.md, Media).

The bytes: from the service itself (media.streaming.AudioFileResponse), or, when
MEDIA_ACCEL_REDIRECT names the gateway's internal location, from nginx through
X-Accel-Redirect (media.streaming.accel_redirect_response). Transcoded audio is
always sent from here (it lives in the cache folder, not on the media volumes).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from common.auth import CurrentUser, OptionalUser
from common.db import in_database
from common.errors import NotFoundError, UnauthorizedError
from common.schemas import ResourceId, error_responses
from common.settings import Settings
from common.tokens import Principal
from media import signing, storage, transcode
from media.streaming import (
    ACCEL_CACHE_SECONDS,
    AudioFileResponse,
    accel_redirect_response,
    strong_etag,
)
from song_service.dependencies import song_service

router = APIRouter(prefix="/songs", tags=["media"])

FormatParam = Annotated[
    Literal["mp3", "opus", "raw"] | None,
    Query(
        description="Transcode to this format with ffmpeg (`raw`: the original file). "
        "Omitted: the original, unless `max_bitrate` is below its bitrate (then mp3)."
    ),
]
BitrateParam = Annotated[
    int | None,
    Query(
        ge=8,
        le=2000,
        description="Highest bitrate wanted, in kbps; snapped down to 64, 96, 128, 160, "
        "192, 256 or 320 when a transcode is needed",
    ),
]
# The signed URL's parameters (media.signing), read from the query by _signed_caller;
# declared so that the API reference documents them.
SignedUid = Annotated[
    str | None, Query(description="Signed URL: the user it was issued to (with expires, sig)")
]
SignedExpires = Annotated[
    str | None, Query(description="Signed URL: its expiry, POSIX seconds (with uid, sig)")
]
SignedSig = Annotated[
    str | None, Query(description="Signed URL: the HMAC-SHA256 signature (with uid, expires)")
]
PurposeParam = Annotated[
    Literal["stream", "download"],
    Query(description="Which route the URL opens: /stream (default) or /download"),
]
_AUDIO = {
    "content": {"audio/*": {}},
    "description": "The audio (206 with Content-Range for a Range request)",
}
_MEDIA_ERRORS = error_responses(401, 403, 404, 429, 503)
# Responses an <audio> element may receive besides 200 (documented, not JSON).
_STREAM_RESPONSES = {
    **_MEDIA_ERRORS,
    206: {"description": "Partial content: the requested byte range(s) (RFC 9110, 14.4)"},
    304: {"description": "Not modified (If-None-Match / If-Modified-Since)"},
    307: {"description": "The song has no local file: its remote http(s) file_url"},
    412: {"description": "If-Match / If-Unmodified-Since failed"},
    416: {"description": "No requested range is satisfiable; `Content-Range: bytes */size`"},
    501: {"description": "A transcode was asked for and ffmpeg is not installed"},
}

_DOWNLOAD_RESPONSES = {
    code: value for code, value in _STREAM_RESPONSES.items() if code not in (429, 501)
}


class StreamUrl(BaseModel):
    """A signed URL and when it stops working."""

    url: str
    expires_at: datetime


def _signed_caller(request: Request, song_id: int, purpose: signing.Purpose) -> Principal:
    """The user a signed URL's query names, once the signature verifies (media.signing:
    403 tampered or another song's, 401 expired); 401 with neither a token nor one."""
    query = dict(request.query_params)
    if not signing.has_signature(query):
        raise UnauthorizedError()
    settings: Settings = request.app.state.settings
    grant = signing.verify(signing.signing_key(settings), song_id, purpose, query)
    return Principal(
        user_id=grant.user_id,
        role="user",
        token_id="signed-url",  # noqa: S106  (not a secret: names the access kind)
        expires_at=grant.expires_at,
    )


def _transcoder(request: Request) -> transcode.Transcoder:
    """The process's Transcoder, made on first use (its concurrency bound is per
    process, as settings.transcode_concurrency says)."""
    transcoder = getattr(request.app.state, "transcoder", None)
    if transcoder is None:
        settings: Settings = request.app.state.settings
        transcoder = transcode.Transcoder(settings.cache_dir, settings.transcode_concurrency)
        request.app.state.transcoder = transcoder
    return transcoder


def _download_name(title: str, artist: str, suffix: str) -> str:
    """The download's file name, `Artist - Title.suffix`, with path separators and
    control characters replaced (media.storage.safe_component)."""
    name = storage.safe_component(f"{artist} - {title}", "song")
    return f"{name}.{suffix}" if suffix else name


async def _audio(
    request: Request,
    song_id: int,
    caller: Principal | None,
    purpose: signing.Purpose,
    format: str | None = None,
    max_bitrate: int | None = None,
) -> Response:
    if caller is None:
        caller = _signed_caller(request, song_id, purpose)
    songs = song_service(request)
    media, file_url = await in_database(request, lambda: songs.media_for(song_id))
    if media is None:
        if file_url and file_url.lower().startswith(("http://", "https://")):
            # 307: the client repeats the same method (HEAD stays HEAD) there.
            return RedirectResponse(file_url, status_code=307)
        raise NotFoundError("The song has no audio file and no remote file_url to stream")
    settings: Settings = request.app.state.settings
    try:
        path = storage.resolve(media.root, media.path, settings)  # type: ignore[arg-type]
        # On the event loop: a stat of a local file takes microseconds, less than a
        # hand-off to a worker thread (the bench streams many small ranges).
        stat_result = os.stat(path)
    except (OSError, storage.UnsafePathError):
        raise NotFoundError("The song's file is missing") from None
    filename = None
    if purpose == "download":
        song = await in_database(request, lambda: songs.get(song_id, caller))
        filename = _download_name(song.title, song.artist, media.suffix)
    else:
        target = transcode.plan(media.suffix, media.bitrate, format, max_bitrate)
        if target is not None:
            output = await _transcoder(request).get(path, song_id, media.checksum, target)
            return AudioFileResponse(
                output,
                media_type=target.content_type,
                etag=strong_etag(media.checksum, target.variant),
                last_modified=media.mtime_ns / 1e9,
                stat_result=os.stat(output),
                accept_ranges=False,
            )
    disposition = "attachment" if purpose == "download" else "inline"
    if settings.media_accel_redirect:
        # The gateway may repeat this answer for a few seconds (its cache is keyed
        # by URL and Authorization), but never past the caller's token or signed
        # URL's own expiry.
        remaining = caller.expires_at - int(time.time())
        return accel_redirect_response(
            settings.media_accel_redirect,
            media.root,
            media.path,
            media_type=media.content_type,
            filename=filename,
            disposition=disposition,
            cache_seconds=min(ACCEL_CACHE_SECONDS, remaining),
        )
    return AudioFileResponse(
        path,
        media_type=media.content_type,
        etag=strong_etag(media.checksum),
        last_modified=media.mtime_ns / 1e9,
        stat_result=stat_result,
        filename=filename,
        disposition=disposition,
    )


@router.get(
    "/{song_id}/stream",
    response_class=Response,
    responses={200: _AUDIO, **_STREAM_RESPONSES},
    summary="Play a song: its audio with byte ranges, or transcoded",
)
async def stream_song(
    request: Request,
    song_id: ResourceId,
    caller: OptionalUser,
    format: FormatParam = None,
    max_bitrate: BitrateParam = None,
    uid: SignedUid = None,
    expires: SignedExpires = None,
    sig: SignedSig = None,
) -> Response:
    """The song's audio for a player. Access: a bearer token, or the `uid`,
    `expires` and `sig` of a signed URL (POST /songs/{id}/stream-url).

    The original file: `Accept-Ranges: bytes`; a `Range` (RFC 9110, 14.2: first
    byte `bytes=0-0`, `bytes=0-1` probes, open-ended `bytes=N-`, suffix `bytes=-N`,
    several ranges as multipart/byteranges) is 206 with `Content-Range`; no
    satisfiable range is 416 with `Content-Range: bytes */<size>`; a malformed or
    invalid one is ignored (200, the whole file). Strong `ETag` (the file's
    SHA-256), `Last-Modified`, `If-Range`, `If-None-Match`/`If-Modified-Since` (304),
    `Cache-Control: private, no-cache`; Content-Type is the file's (e.g. audio/ogg).

    `format` (`mp3`, `opus`) and `max_bitrate` (kbps) transcode with ffmpeg: the
    whole result, `Accept-Ranges: none`, cached; 429 + `Retry-After` when too many
    transcodes run, 501 when ffmpeg is not installed, 422 when the file cannot be
    decoded. A song with no local file but an http(s) `file_url` is a 307 there;
    neither is 404, and a recorded file gone from disk is 404 too."""
    return await _audio(request, song_id, caller, "stream", format, max_bitrate)


@router.get(
    "/{song_id}/download",
    response_class=Response,
    responses={200: _AUDIO, **_DOWNLOAD_RESPONSES},
    summary="Download a song's original file",
)
async def download_song(
    request: Request,
    song_id: ResourceId,
    caller: OptionalUser,
    uid: SignedUid = None,
    expires: SignedExpires = None,
    sig: SignedSig = None,
) -> Response:
    """The original file as an attachment: `Content-Disposition: attachment;
    filename="Artist - Title.ogg"` (RFC 6266; `filename*` in UTF-8 for other
    names). Ranges, validators and access as for /stream (a signed URL must have
    been made for `purpose=download`)."""
    return await _audio(request, song_id, caller, "download")


# HEAD declared, not left to the middleware's HEAD-as-GET: FileResponse then sends
# the GET's status and headers without reading the file (RFC 9110, 9.3.2). The
# OpenAPI documents list HEAD beside every GET already (common.app).
for _path, _endpoint in (
    ("/{song_id}/stream", stream_song),
    ("/{song_id}/download", download_song),
):
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)


@router.post(
    "/{song_id}/stream-url",
    response_model=StreamUrl,
    responses=error_responses(401, 404, 503),
    summary="A signed URL that plays the song without an Authorization header",
)
async def stream_url(
    request: Request, song_id: ResourceId, caller: CurrentUser, purpose: PurposeParam = "stream"
) -> StreamUrl:
    """`{"url": "/songs/{id}/stream?uid=..&expires=..&sig=..", "expires_at": ISO 8601
    UTC}`: an HMAC-SHA256 signed URL (media.signing) bound to this song, the caller
    and the route (`purpose`), valid STREAM_URL_TTL_SECONDS (default 3600 s). The URL
    starts with PUBLIC_BASE_URL when that is set, else it is relative (same origin).
    404 when the song does not exist."""
    songs = song_service(request)
    await in_database(request, lambda: songs.media_for(song_id))  # 404 for no such song
    settings: Settings = request.app.state.settings
    expires_at = int(time.time()) + settings.stream_url_ttl_seconds
    query = signing.sign(
        signing.signing_key(settings), song_id, caller.user_id, purpose, expires_at
    )
    path = f"/songs/{song_id}/{purpose}?{query}"
    base = settings.public_base_url or ""
    return StreamUrl(url=f"{base}{path}", expires_at=datetime.fromtimestamp(expires_at, UTC))
