"""Audio file responses: byte ranges, validators and conditional requests, or an
X-Accel-Redirect that hands the bytes to nginx.

`AudioFileResponse` is Starlette's FileResponse (which already answers single and
multiple ranges, 416 and If-Range) with what it lacks for audio:

- a Range header that is malformed, names another unit, or holds an invalid range
  (`bytes=5-3`) is ignored and the whole file is sent with 200 (RFC 9110, 14.2:
  "a server MUST ignore a Range header field received with a request method that
  is unrecognized..." and MAY ignore any it cannot parse; Starlette answers a plain
  400, which an audio element treats as a broken source);
- a range set is satisfiable when any one of its ranges is (RFC 9110, 14.1.1); the
  unsatisfiable ones are dropped, not the whole request (Starlette: 416);
- If-None-Match / If-Modified-Since answer 304 (RFC 9110, 13.1.2 and 13.1.3), and
  If-Match / If-Unmodified-Since 412 (13.1.1, 13.1.4);
- the ETag is strong and the same on every replica: it comes from the file's
  SHA-256 (media_files.checksum), not from the mtime and size of one disk; the
  Last-Modified comes from the row's mtime_ns, also the same everywhere;
- Cache-Control `private, no-cache`: the audio is per user (behind a token or a
  signed URL), so no shared cache may keep it, and the browser revalidates with
  the ETag (a cheap 304) rather than trusting a copy of a file a rescan replaced.

Behind the gateway (settings.media_accel_redirect) `accel_redirect_response` sends
no bytes at all: an empty 200 with `X-Accel-Redirect: <prefix>/<root>/<path>` makes
nginx serve the file from its internal location over the same volume, and nginx
then does Range, If-Range, 304 and 416 itself (its static module). Of the
upstream's headers nginx keeps only Content-Type, Content-Disposition,
Cache-Control, Expires, Accept-Ranges and Set-Cookie on such a redirect; ETag and
Last-Modified are nginx's own (mtime and size of the shared volume's file, so again
the same on every gateway replica). tests/deploy/test_gateway_media.py checks this.
The answer carries `X-Accel-Expires: <seconds>` (ACCEL_CACHE_SECONDS, never past
the caller's token or signed URL's expiry): the gateway keeps it that long, keyed
by URL and Authorization, and sends the next Range requests of the same URL
without asking the service (gateway/nginx.conf).

Served here, a Range answer (or a small whole file) whose bytes are in the page
cache is read in one non-blocking call on the event loop (`read_if_cached`)
instead of FileResponse's thread hop per 64 KiB; anything else is FileResponse's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import quote

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import FileResponse, JSONResponse, RangeNotSatisfiable, Response
from starlette.types import Receive, Scope, Send

CACHE_CONTROL = "private, no-cache"
# How long the gateway may repeat an X-Accel-Redirect answer without asking the
# service again (accel_redirect_response): also how long a revoked access (a song
# deleted, a file replaced by a rescan) may still play through the gateway.
ACCEL_CACHE_SECONDS = 5
# An answer of at most this many bytes (one range, or a small whole file) is read
# in one call on the event loop when the page cache holds all of it (see
# `read_if_cached`); others, or bytes still on disk, go through Starlette's
# FileResponse, which reads 64 KiB at a time in worker threads. A player's Range
# requests are a few hundred KiB, and a thread hop per 64 KiB (plus the GIL
# hand-offs around it) cost more than the read itself.
INLINE_READ_MAX_BYTES = 1024 * 1024
# Linux >= 4.14: preadv fails with EAGAIN instead of waiting on the disk.
_RWF_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)
# RFC 9110, 14.1.2: first-pos "-" [last-pos] | "-" suffix-length, digits only.
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")  # ASCII digits only, not \d
_OWS = " \t"


class Unsatisfiable(RangeNotSatisfiable):
    """No range of the set is satisfiable: 416 with `Content-Range: bytes */size`."""


def parse_ranges(header: str, size: int, max_ranges: int = 100) -> list[tuple[int, int]] | None:
    """The byte ranges of a Range header for a representation of `size` bytes, as
    half-open (start, end) pairs, sorted and with overlapping or adjacent ones
    merged (RFC 9110, 14.3 allows coalescing).

    None: the header is to be ignored (not `bytes`, syntactically invalid, a range
    whose last-pos is below its first-pos, or more than `max_ranges` ranges: RFC
    9110, 14.2 and 14.3 on denial of service). Raises `Unsatisfiable` when no range
    is satisfiable (a first-pos at or past the end, a zero suffix, an empty file):
    a 416 with `Content-Range: bytes */size` (RFC 9110, 15.5.17)."""
    unit, equals, range_set = header.partition("=")
    if not equals or unit.strip(_OWS).lower() != "bytes":
        return None
    specs = [part.strip(_OWS) for part in range_set.split(",")]
    specs = [spec for spec in specs if spec]  # 1#element lists allow empty elements
    if not specs or len(specs) > max_ranges:
        return None
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None or spec == "-":
            return None
        first, last = match.groups()
        if first:
            start = int(first)
            if last and int(last) < start:
                return None  # an invalid int-range makes the whole set invalid
            if start >= size:
                continue  # unsatisfiable; others may still be
            end = min(int(last) + 1, size) if last else size
        else:
            suffix = int(last)
            if suffix == 0 or size == 0:
                continue
            start, end = max(size - suffix, 0), size
        ranges.append((start, end))
    if not ranges:
        raise Unsatisfiable(size)
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def strong_etag(checksum: str, variant: str = "") -> str:
    """A strong entity tag for a file's SHA-256 (hex), optionally for one encoding of
    it (`variant`, e.g. "mp3-128"): equal bytes, equal tag, on every replica."""
    tag = checksum if not variant else f"{checksum}-{variant}"
    return f'"{tag}"'


def _etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    """Whether an If-None-Match (weak comparison) or If-Match (strong comparison)
    list names `etag` (RFC 9110, 8.8.3.2)."""
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            if not weak:
                continue
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def _http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # an invalid date is ignored (RFC 9110, 13.1.3)


def read_if_cached(path: str | os.PathLike[str], start: int, length: int) -> bytes | None:
    """The `length` bytes of `path` at offset `start` when the page cache holds all
    of them, else None; never waits on the disk (preadv with RWF_NOWAIT, Linux),
    so it may run on the event loop. None too where RWF_NOWAIT is missing (other
    systems, or file systems without it) or the file is shorter than asked."""
    if _RWF_NOWAIT is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        buffer = bytearray(length)
        read = os.preadv(fd, [buffer], start, _RWF_NOWAIT)
    except OSError:  # BlockingIOError: not (all) cached; EOPNOTSUPP: no RWF_NOWAIT here
        return None
    finally:
        os.close(fd)
    return bytes(buffer) if read == length else None


class AudioFileResponse(FileResponse):
    """A file on disk with ranges, a strong ETag, Last-Modified and conditional
    requests (see the module docstring).

    `etag` is a quoted strong tag (`strong_etag`); `last_modified` is a POSIX time
    in seconds (whole seconds are what HTTP dates carry); `stat_result` is the
    file's os.stat (its size is the Content-Length). A `filename` with
    `disposition="attachment"` makes it a download (RFC 6266, with `filename*`
    for names outside ASCII); inline answers carry no Content-Disposition."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        media_type: str,
        etag: str,
        last_modified: float,
        stat_result: os.stat_result,
        filename: str | None = None,
        disposition: str = "inline",
        headers: Mapping[str, str] | None = None,
        accept_ranges: bool = True,
    ) -> None:
        own = {
            "etag": etag,
            "last-modified": formatdate(int(last_modified), usegmt=True),
            "cache-control": CACHE_CONTROL,
            **(headers or {}),
        }
        if filename is not None:
            own["content-disposition"] = content_disposition(filename, disposition)
        if not accept_ranges:
            own["accept-ranges"] = "none"
        self.accept_ranges = accept_ranges
        super().__init__(path, headers=own, media_type=media_type, stat_result=stat_result)

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        # Starlette calls this and treats [] as "no Range": the whole file, 200.
        # Its exceptions are its own; ours is turned into its 416 in __call__.
        return parse_ranges(http_range, file_size, cls.max_ranges) or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET").upper()
        if scope["type"] == "http" and method in ("GET", "HEAD"):
            request_headers = Headers(scope=scope)
            status = self._precondition(request_headers)
            if status is not None:
                await self._bare(status)(scope, receive, send)
                return
            size: int = self.stat_result.st_size  # type: ignore[union-attr]
            ranges = None
            if not self.accept_ranges and "range" in request_headers:
                # Accept-Ranges: none (a transcoded stream): Range is ignored.
                scope = {
                    **scope,
                    "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"range"],
                }
            elif "range" in request_headers and self._range_applies(request_headers):
                try:
                    ranges = parse_ranges(request_headers["range"], size)
                except Unsatisfiable as exc:
                    response = JSONResponse(
                        {"detail": f"Range not satisfiable: the file has {exc.max_size} bytes"},
                        status_code=416,
                        headers={
                            "content-range": f"bytes */{exc.max_size}",
                            "accept-ranges": "bytes",
                            "cache-control": CACHE_CONTROL,
                        },
                    )
                    await response(scope, receive, send)
                    return
            if (
                method == "GET"
                and self.status_code == 200
                and await self._send_cached(send, ranges, size)
            ):
                return
        await super().__call__(scope, receive, send)

    async def _send_cached(
        self, send: Send, ranges: list[tuple[int, int]] | None, size: int
    ) -> bool:
        """Send a GET's answer whole from the page cache when it is one range (206)
        or the whole file (200) of at most INLINE_READ_MAX_BYTES and every byte is
        cached (`read_if_cached`): one read and one body message, no thread. The
        headers are those FileResponse sends. False, having sent nothing, when it
        does not apply; FileResponse then answers."""
        if ranges is not None and len(ranges) != 1:
            return False
        start, end = ranges[0] if ranges else (0, size)
        if end - start > INLINE_READ_MAX_BYTES or size == 0:
            return False
        body = read_if_cached(self.path, start, end - start)
        if body is None:
            return False
        if ranges:
            headers = MutableHeaders(raw=list(self.raw_headers))
            headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
            headers["content-length"] = str(end - start)
            raw, status = headers.raw, 206
        else:
            raw, status = self.raw_headers, 200
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return True

    def _range_applies(self, headers: Headers) -> bool:
        if_range = headers.get("if-range")
        return if_range is None or self._should_use_range(if_range)

    def _precondition(self, headers: Headers) -> int | None:
        """304 or 412 when a conditional header says so, else None (RFC 9110, 13.2.2:
        If-Match, then If-Unmodified-Since, then If-None-Match, then
        If-Modified-Since)."""
        etag = self.headers["etag"]
        modified = _http_date(self.headers["last-modified"]) or 0.0
        if_match = headers.get("if-match")
        if if_match is not None:
            if not _etag_matches(if_match, etag, weak=False):
                return 412
        else:
            since = headers.get("if-unmodified-since")
            stamp = _http_date(since) if since is not None else None
            if stamp is not None and modified > stamp:
                return 412
        if_none_match = headers.get("if-none-match")
        if if_none_match is not None:
            return 304 if _etag_matches(if_none_match, etag, weak=True) else None
        since = headers.get("if-modified-since")
        stamp = _http_date(since) if since is not None else None
        if stamp is not None and modified <= stamp:
            return 304
        return None

    def _bare(self, status: int) -> Response:
        """A 304 with the validators and caching headers a 200 would carry (RFC
        9110, 15.4.5), or a 412; neither has a body."""
        keep = ("etag", "last-modified", "cache-control", "content-location", "vary")
        headers = {name: self.headers[name] for name in keep if name in self.headers}
        if status == 412:
            return JSONResponse({"detail": "Precondition failed"}, status_code=412, headers=headers)
        return Response(status_code=status, headers=headers)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A Content-Disposition value (RFC 6266): an ASCII `filename` fallback (non-ASCII
    characters become `_`, quotes and backslashes dropped) and, when the name is not
    plain ASCII, `filename*=UTF-8''<percent-encoded>` (RFC 8187) that clients
    prefer."""
    ascii_name = "".join(
        ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename
    ).strip()
    value = f'{disposition}; filename="{ascii_name or "download"}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def accel_redirect_response(
    prefix: str,
    root: str,
    path: str,
    *,
    media_type: str,
    filename: str | None = None,
    disposition: str = "inline",
    cache_seconds: int = 0,
) -> Response:
    """An empty 200 telling nginx to send `<root>/<path>` itself from its internal
    location `prefix` (X-Accel-Redirect). The path is percent-encoded per segment
    (nginx decodes it once before it maps the URI to a file; `?` and `%` in a name
    must not become a query or an escape). Content-Type, Content-Disposition and
    Cache-Control survive the redirect (see the module docstring).

    `cache_seconds` > 0 adds `X-Accel-Expires: <seconds>`: the gateway may keep
    this answer that long and repeat the redirect for the same URL and
    Authorization without asking again (gateway/nginx.conf). nginx reads it
    before Cache-Control (whose `private, no-cache` is for browsers and would
    forbid storing it), never passes it on, and nginx before 1.23 honours it only
    when it comes first: it is the first header here."""
    location = f"{prefix.rstrip('/')}/{root}/{quote(path, safe='/')}"
    headers = {}
    if cache_seconds > 0:
        headers["x-accel-expires"] = str(cache_seconds)
    headers |= {"x-accel-redirect": location, "cache-control": CACHE_CONTROL}
    if filename is not None:
        headers["content-disposition"] = content_disposition(filename, disposition)
    return Response(status_code=200, media_type=media_type, headers=headers)
