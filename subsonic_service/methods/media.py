"""stream, download, getCoverArt: the binary methods (Endpoints/stream.md,
download.md, getcoverart.md of the OpenSubsonic reference).

Their bytes are sent by the same code as the REST routes': media.serve for audio
(GET /songs/{id}/stream and /download), media.covers for images (GET
/albums|artists|songs|playlists/{id}/cover), so a Subsonic app and the web player
get the same ranges, validators, transcodes and covers. An error before any byte
(missing id: 10; unknown id: 70; a bad parameter: 0) is the envelope in the
format `f` asks for, which the router renders from the SubsonicError or
common.errors error raised here.

What is accepted but not acted on (stream): `timeOffset` (the Transcode Offset
extension is not announced, so a client does not rely on it; the stream starts at
0 and the client seeks with Range), `estimateContentLength` (Content-Length is
always exact: a transcode is sent whole, from the cache), `size` and `converted`
(video only). download takes song ids only: an album, artist or playlist as a zip
is not offered (error 0 saying so).
"""

from __future__ import annotations

from starlette.responses import FileResponse, Response

from media.covers import cover_response, snap_size
from media.serve import audio_response, download_name, process_transcoder
from subsonic_service.errors import GENERIC, SubsonicError
from subsonic_service.ids import KINDS, parse, split
from subsonic_service.registry import Call, method
from subsonic_service.services import media

# The `format` values that choose an encoding (media.transcode); any other
# (`flac`, `aac`, the file's own suffix …) is served as if none were given.
FORMATS = ("mp3", "opus", "raw")


def _format(value: str | None) -> str | None:
    folded = (value or "").strip().lower()
    return folded if folded in FORMATS else None


def _head_only(call: Call, response: Response) -> Response:
    """A HEAD's answer: a file response sends headers only by itself; any other
    (an image, a redirect) is given the GET's status and headers, no body."""
    if call.request.method != "HEAD" or isinstance(response, FileResponse):
        return response
    return Response(b"", response.status_code, dict(response.headers))


@method("stream", binary=True)
async def stream(call: Call) -> Response:
    """`id` (so-N, required): the song's audio, never counted as a play (clients
    scrobble). The original file with `Accept-Ranges: bytes`: `Range` → 206 with
    Content-Range, nothing satisfiable → 416 `Content-Range: bytes */size`, a
    strong ETag (the file's SHA-256), Last-Modified, If-Range, If-None-Match /
    If-Modified-Since → 304; HEAD → the headers only.

    `maxBitRate` (kbps, 0 = no limit) below the file's bitrate transcodes to mp3;
    `format` `mp3` / `opus` transcodes (at maxBitRate, snapped down to 64 … 320,
    else 192 / 128 kbps), `raw` is the original; a transcode is sent whole with
    `Accept-Ranges: none` (media.transcode: error 0 with Retry-After when too many
    run, error 0 when ffmpeg is missing or fails). A song without a local file but
    with an http(s) file_url: 307 there. See the module docstring for the
    parameters accepted and ignored."""
    song_id = parse(call.params.require("id"), "so")
    max_bitrate = call.params.int("maxBitRate", 0) or None
    format = _format(call.params.get("format"))
    found = await call.read(lambda: media.song_media(call.unit, song_id))
    response = await audio_response(
        call.settings,
        found.media,
        found.file_url,
        song_id=song_id,
        expires_at=call.user.expires_at,
        purpose="stream",
        transcoder=process_transcoder(call.request),
        format=format,
        max_bitrate=max_bitrate,
    )
    return _head_only(call, response)


@method("download", binary=True)
async def download(call: Call) -> Response:
    """`id` (so-N, required): the original file, never transcoded, as an attachment
    (`Content-Disposition: attachment; filename="Artist - Title.ogg"`, RFC 6266,
    `filename*` for names outside ASCII); ranges and validators as for stream.
    An album, artist or playlist id (a zip of its songs in Subsonic) is error 0:
    not offered here; anything else that names no song is 70."""
    value = call.params.require("id")
    parsed = split(value)
    if parsed is not None and parsed[0] != "so":
        raise SubsonicError(
            GENERIC,
            f"Downloading a whole {KINDS[parsed[0]].lower()} is not supported: "
            "download its songs one by one",
        )
    song_id = parse(value, "so")
    found = await call.read(lambda: media.song_media(call.unit, song_id))
    filename = None
    if found.media is not None:
        filename = download_name(found.artist, found.title, found.media.suffix)
    response = await audio_response(
        call.settings,
        found.media,
        found.file_url,
        song_id=song_id,
        expires_at=call.user.expires_at,
        purpose="download",
        filename=filename,
    )
    return _head_only(call, response)


@method("getCoverArt", binary=True)
async def get_cover_art(call: Call) -> Response:
    """`id` (required): a coverArt id, `al-N`, `ar-N`, `so-N` or `pl-N`; `size`
    (px, optional): the longest side, snapped up to 64, 128, 256, 512 or 1024
    (above: 1024; none: 1024), never upscaled. The image (JPEG, or PNG with
    transparency) with a strong ETag and `Cache-Control: public, max-age=3600`
    (`private` for a private playlist), If-None-Match → 304; no local art but a
    cover_image_url → 307 there; nothing → a placeholder PNG, `no-store`. The
    sources are the REST /cover routes' (database.covers). A private playlist
    answers its owner and admins only, 70 to anyone else, as for an unknown id;
    `size` below 1 or not a number is error 0."""
    cover_id = call.params.require("id")
    size = call.params.int("size", None, low=1)
    snapped = snap_size(size)
    caller = call.user
    source = await call.read(
        lambda: media.cover_source(call.unit, cover_id, caller.user_id, caller.is_admin)
    )
    response = await cover_response(call.request, source, snapped, call.settings)
    return _head_only(call, response)
