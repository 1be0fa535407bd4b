"""HTTP for a song's audio: stream (with ranges, or transcoded), download, and the
signed URLs an `<audio src>` plays without an Authorization header (API.md, Media).

The answer is media.serve.audio_response's (shared with the Subsonic facade): the
bytes from the service itself (media.streaming.AudioFileResponse), or, when
MEDIA_ACCEL_REDIRECT names the gateway's internal location, from nginx through
X-Accel-Redirect. Transcoded audio is always sent from here (it lives in the
cache folder, not on the media volumes).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from common.auth import CurrentUser, OptionalUser
from common.db import in_database
from common.errors import UnauthorizedError
from common.schemas import ResourceId, error_responses
from common.settings import Settings
from common.tokens import Principal
from media import signing
from media.serve import audio_response, download_name, process_transcoder
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
    filename = None
    if purpose == "download" and media is not None:
        song = await in_database(request, lambda: songs.get(song_id, caller))
        filename = download_name(song.artist, song.title, media.suffix)
    # The answer itself (redirect, 404, transcode, X-Accel-Redirect or the file)
    # is media.serve's, shared with the Subsonic facade's stream and download.
    return await audio_response(
        request.app.state.settings,
        media,
        file_url,
        song_id=song_id,
        expires_at=caller.expires_at,
        purpose=purpose,
        filename=filename,
        transcoder=process_transcoder(request) if purpose == "stream" else None,
        format=format,
        max_bitrate=max_bitrate,
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
