"""Cover images: which source a cover comes from, the resized and cached image,
and the HTTP answer (`GET`/`HEAD /songs|albums|artists|playlists/{id}/cover`, and
the Subsonic facade's getCoverArt). Which rows a cover comes from is
database.covers' (its records, AudioArt and CoverSource, are re-exported here).

A cover comes from the first of these that works (API.md, Media):

1. the picture embedded in the audio file (`media.tags.embedded_picture`);
2. a `cover.*` / `folder.*` image beside the audio file (`media_files.cover_path`);
3. a 307 redirect to the row's `cover_image_url` (http/https only);
4. a generated placeholder, `Cache-Control: no-store` (so a cover added later shows).

A damaged, truncated, unsupported or oversized image (more than
MAX_SOURCE_PIXELS, well below Pillow's decompression-bomb limit, or more than
MAX_SOURCE_BYTES) never makes a 500: the next source is tried.

Sizes snap to SIZES (px, the longest side): a size between two snaps goes up to
the next, above 1024 is 1024, and no size is 1024. An image is never upscaled: a
400 px picture asked for at 512 comes back at 400 px (the browser scales; upscaling
would only add bytes). Photos are re-encoded as JPEG, images with transparency as
PNG; EXIF orientation is applied.

Resized images are cached on disk under `<cache_dir>/covers/`, keyed by the
source's identity and the snapped size: an embedded picture by its audio file's
sha256 checksum, a sidecar image by (root, path, size in bytes, mtime in ns). A
rescan that changes the art changes the key, so a stale image is never served
from the cache; the ETag (strong, RFC 9110 8.8.3) is a hash of the key, and
`If-None-Match` answers 304 (RFC 9110 13.1.2). The `Cache-Control` is public with a
max-age but not `immutable`: the URL stays, the art behind it may change.

Every file and image operation here blocks: `find_cover` runs in a worker thread
(`cover_response` sends it there), never on the event loop.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import anyio
import anyio.to_thread
from fastapi import Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from common.schemas import PathNumber, error_responses
from common.settings import Settings

# The records of where a cover comes from live with the reads that find them
# (database.covers); re-exported here, where the services have always found them.
from database.covers import NO_COVER as NO_COVER
from database.covers import AudioArt as AudioArt
from database.covers import CoverSource as CoverSource
from media.storage import ROOTS, Root, UnsafePathError, resolve

if TYPE_CHECKING:
    from PIL.Image import Image as PilImage

logger = logging.getLogger(__name__)

# The sizes served (px, the longest side); anything asked for snaps up to one.
SIZES = (64, 128, 256, 512, 1024)
DEFAULT_SIZE = SIZES[-1]
# A browser may keep a cover this long (seconds) before revalidating with its
# ETag; a revalidation costs one stat. Not `immutable`: a rescan can change art.
MAX_AGE_SECONDS = 3600
# Decoding a source costs ~4 bytes per pixel and up to a few seconds: a cover
# beyond 25 Mpx (5000 x 5000, more than any print scan needs) is refused before
# decoding, far below Pillow's own decompression-bomb limit (~89 Mpx), which let
# one 9400 x 9400 PNG take 2.9 GB across four concurrent sizes.
MAX_SOURCE_PIXELS = 25_000_000
CACHE_CONTROL = f"public, max-age={MAX_AGE_SECONDS}"
# A private playlist's cover: only its owner's browser may keep it.
PRIVATE_CACHE_CONTROL = f"private, max-age={MAX_AGE_SECONDS}"
# The bytes of a source image read at most: cover art is tens of KB to a few MB;
# a bigger "picture" is a bogus tag or the wrong file, and is skipped.
MAX_SOURCE_BYTES = 32 * 1024 * 1024
# The formats decoded: what cover art comes in. Pillow's rarer decoders (PSD,
# TIFF, ICO, ...) are left out, so a hostile file cannot reach them.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
JPEG_QUALITY = 85
# Bumped when the encoding changes, so old cache entries are no longer found.
CACHE_VERSION = "v1"
# A source that failed to decode is remembered (an empty marker file) so the next
# request does not decode it again; its key changes with the source.
FAILED_SUFFIX = ".failed"
MEDIA_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}
# Image work at once per process: resizing is CPU-bound, and this keeps a burst of
# cover requests from taking every worker thread the database work needs.
RENDER_CONCURRENCY = 2


# The `size` query parameter of every cover route (digits only, >= 1: else 422).
CoverSize = Annotated[
    int | None,
    PathNumber,
    Query(
        ge=1,
        description=(
            f"Longest side in px, snapped up to one of {', '.join(map(str, SIZES))} "
            "(above 1024: 1024; default 1024). Never upscaled beyond the source."
        ),
    ),
]

COVER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The cover (image/jpeg, or image/png when it has transparency) with a strong "
            "`ETag` and `Cache-Control: public, max-age=3600`; or, when there is no cover, "
            "a placeholder image/png with `Cache-Control: no-store`"
        ),
        "content": {"image/jpeg": {}, "image/png": {}},
    },
    304: {"description": "`If-None-Match` names the current ETag: no body"},
    307: {"description": "No local image: redirect (`Location`) to the row's cover_image_url"},
    **error_responses(404, 503),
}


class CoverSizeError(ValueError):
    """A size that is not a whole number of pixels >= 1."""


def snap_size(size: int | None) -> int:
    """The served size (px) for an asked one: the smallest of SIZES >= `size`,
    1024 above it and for None. CoverSizeError below 1."""
    if size is None:
        return DEFAULT_SIZE
    if size < 1:
        raise CoverSizeError(size)
    return next((snap for snap in SIZES if snap >= size), DEFAULT_SIZE)


@dataclass(frozen=True, slots=True)
class CoverImage:
    """A resized cover (from the disk cache, or just rendered into it)."""

    etag: str  # quoted, strong
    media_type: str  # image/jpeg | image/png
    content: bytes


class BadImageError(Exception):
    """A source image that cannot be used (damaged, unsupported, too big)."""


def cache_key(identity: str, size: int) -> str:
    """The cache file name stem (hex) for a source identity and a snapped size."""
    return hashlib.sha256(f"{CACHE_VERSION}\0{identity}\0{size}".encode()).hexdigest()


def etag_of(key: str) -> str:
    """The strong ETag for a cache key: the same key always means the same bytes."""
    return f'"{key[:32]}"'


def resize(data: bytes, size: int) -> tuple[bytes, str]:
    """`data` (an encoded image) scaled to fit `size` x `size` px, aspect kept and
    never upscaled, re-encoded: (bytes, ".png") when it has transparency, else
    (bytes, ".jpg"). BadImageError for anything that is not a usable image."""
    # Pillow is imported on the first miss, not at start-up: ~4 MB of every
    # service process that may never resize a cover.
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_SOURCE_BYTES:
        raise BadImageError(f"over {MAX_SOURCE_BYTES} bytes")
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
            # Checked here, before any pixel is decoded: Pillow only warns up to
            # twice its limit, and a warning filter is not thread-safe.
            if width < 1 or height < 1 or width * height > MAX_SOURCE_PIXELS:
                raise BadImageError(f"{width}x{height} px is over the pixel limit")
            # JPEG decodes straight at a power-of-two reduction: a 3000 px photo
            # for a 256 px cover decodes 8x faster.
            image.draft(None, (size, size))
            image.load()
            transparent = _has_alpha(image)
            upright = ImageOps.exif_transpose(image)
            picture = upright.convert("RGBA" if transparent else "RGB")
        picture.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if transparent:
            picture.save(out, "PNG", optimize=True)
            return out.getvalue(), ".png"
        picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        return out.getvalue(), ".jpg"
    except BadImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        # OSError: truncated or damaged data; ValueError: Pillow's refusals of
        # impossible headers. Either way this source is unusable.
        raise BadImageError(str(exc) or type(exc).__name__) from exc
    except (MemoryError, SyntaxError, IndexError, TypeError, EOFError) as exc:
        # Decoders of malformed files have raised each of these.
        raise BadImageError(type(exc).__name__) from exc


def _has_alpha(image: PilImage) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    return image.mode == "P" and "transparency" in image.info


class CoverCache:
    """Resized covers on disk under `<cache_dir>/covers/<2 hex>/<key>.jpg|.png`.
    Files are written to a temporary name in the same folder and renamed into
    place (atomic on POSIX), so concurrent requests and several worker processes
    never see half a file; two rendering the same key write the same bytes."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = Path(cache_dir) / "covers"

    def _folder(self, key: str) -> Path:
        return self.root / key[:2]

    def get(self, key: str) -> CoverImage | None:
        """The cached cover for `key`, or None."""
        folder = self._folder(key)
        for suffix, media_type in MEDIA_TYPES.items():
            path = folder / f"{key}{suffix}"
            try:
                content = path.read_bytes()
            except OSError:  # absent, or a cache folder that cannot be read: a miss
                continue
            return CoverImage(etag_of(key), media_type, content)
        return None

    def failed(self, key: str) -> bool:
        """Whether this source was found unusable before."""
        return (self._folder(key) / f"{key}{FAILED_SUFFIX}").exists()

    def put(self, key: str, content: bytes, suffix: str) -> CoverImage:
        """Store a rendered cover; the stored entry."""
        self._write(key, suffix, content)
        return CoverImage(etag_of(key), MEDIA_TYPES[suffix], content)

    def mark_failed(self, key: str) -> None:
        self._write(key, FAILED_SUFFIX, b"")

    def _write(self, key: str, suffix: str, content: bytes) -> Path:
        folder = self._folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{key}{suffix}"
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return final


def _resolve(root: str, path: str, settings: Settings) -> Path:
    # media.storage knows the roots and refuses paths that leave them.
    if root not in ROOTS:
        raise UnsafePathError(f"unknown root {root!r}")
    return resolve(cast(Root, root), path, settings)


def _embedded_bytes(art: AudioArt, settings: Settings) -> bytes | None:
    # Imported on use: the tag reader (mutagen) is only needed on a cache miss.
    from media.tags import embedded_picture

    picture = embedded_picture(_resolve(art.root, art.path, settings))
    return None if picture is None else picture.data


def _candidates(art: AudioArt, settings: Settings) -> list[tuple[str, Callable[[], bytes | None]]]:
    """(identity, how to read the bytes) for each local source of `art`, in order.
    A sidecar's identity includes its size and mtime, so one stat tells whether
    the cached image is still its image; a missing sidecar is skipped."""
    found: list[tuple[str, Callable[[], bytes | None]]] = []
    if art.embedded:
        read = functools.partial(_embedded_bytes, art, settings)
        found.append((f"embedded\0{art.checksum}", read))
    if art.cover_path:
        try:
            path = _resolve(art.root, art.cover_path, settings)
            stat = path.stat()
        except Exception as exc:  # a bad path is a missing cover, never a 500
            logger.info("cover image %s/%s unusable: %s", art.root, art.cover_path, exc)
        else:
            identity = f"sidecar\0{art.root}\0{art.cover_path}\0{stat.st_size}\0{stat.st_mtime_ns}"
            found.append((identity, functools.partial(_file_bytes, path, stat.st_size)))
    return found


def _file_bytes(path: Path, size: int) -> bytes:
    if size > MAX_SOURCE_BYTES:
        raise BadImageError(f"over {MAX_SOURCE_BYTES} bytes")
    return path.read_bytes()


def find_cover(art: AudioArt | None, size: int, settings: Settings) -> CoverImage | None:
    """The first usable local cover of `art` at `size` (a snapped size), from the
    cache (settings.cache_dir) or rendered into it; None when `art` has none that
    works (the caller then redirects or sends the placeholder). Files are found
    under settings' media and library folders. Blocks: run it in a worker thread."""
    if art is None:
        return None
    cache = CoverCache(settings.cache_dir)
    for identity, read in _candidates(art, settings):
        key = cache_key(identity, size)
        cached = cache.get(key)
        if cached is not None:
            return cached
        if cache.failed(key):
            continue
        try:
            data = read()
        except Exception as exc:  # an unreadable source falls to the next
            # Not remembered: a file that is away (a remount, a rescan) may come back.
            logger.info("cover source %r unreadable: %s", _shown(identity), exc)
            continue
        try:
            if data is None:  # the tags no longer hold a picture
                raise BadImageError("no embedded picture")
            content, suffix = resize(data, size)
        except BadImageError as exc:
            logger.info("cover source %r unusable: %s", _shown(identity), exc)
            _remember_failure(cache, key)
            continue
        try:
            return cache.put(key, content, suffix)
        except OSError as exc:  # a full or read-only cache still serves the image
            logger.warning("cover cache not written (%s): %s", cache.root, exc)
            return CoverImage(etag_of(key), MEDIA_TYPES[suffix], content)
    return None


def _shown(identity: str) -> str:
    return identity.replace("\0", " ")


def _remember_failure(cache: CoverCache, key: str) -> None:
    # Only an optimisation: if the marker cannot be written the source is tried again.
    with contextlib.suppress(OSError):
        cache.mark_failed(key)


@functools.lru_cache(maxsize=len(SIZES))
def placeholder(size: int) -> bytes:
    """A neutral PNG (`size` px square, a record on grey) for a resource without a
    cover; generated once per size per process."""
    from PIL import Image, ImageDraw

    scale = 4  # drawn large and scaled down: smooth edges without antialiasing support
    side = size * scale
    image = Image.new("RGB", (side, side), (224, 224, 228))
    draw = ImageDraw.Draw(image)
    centre = side / 2
    for radius, colour in ((0.36, (96, 96, 104)), (0.14, (200, 200, 206)), (0.03, (96, 96, 104))):
        r = side * radius
        draw.ellipse((centre - r, centre - r, centre + r, centre + r), fill=colour)
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def is_web_url(url: str | None) -> bool:
    """Whether `url` may be a redirect target: http or https with a host."""
    if not url:
        return False
    scheme, _, rest = url.partition("://")
    return scheme.lower() in ("http", "https") and bool(rest) and not rest.startswith("/")


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: If-None-Match compares weakly; `*` matches any current
    representation; the header is a comma-separated list."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _render_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's limiter of image work, made on first use inside its event loop
    (an anyio limiter belongs to the loop it was made in)."""
    state = request.app.state
    limiter = getattr(state, "cover_render_limiter", None)
    if limiter is None:
        limiter = state.cover_render_limiter = anyio.CapacityLimiter(RENDER_CONCURRENCY)
    return limiter


async def cover_response(
    request: Request, source: CoverSource, size: int, settings: Settings
) -> Response:
    """The HTTP answer for a resource's cover at `size` (a snapped size):

    - 200 image/jpeg or image/png with `ETag` and `Cache-Control: public,
      max-age=3600`; 304 (no body) when `If-None-Match` names its ETag;
    - 307 to `source.url` when no local image works and the URL is http(s);
    - 200 image/png placeholder with `Cache-Control: no-store` otherwise.

    The file and image work runs in a worker thread under RENDER_CONCURRENCY."""
    cover = None
    if source.art is not None:
        cover = await anyio.to_thread.run_sync(
            find_cover, source.art, size, settings, limiter=_render_limiter(request)
        )
    cache_control = PRIVATE_CACHE_CONTROL if source.private else CACHE_CONTROL
    if cover is not None:
        headers = {"ETag": cover.etag, "Cache-Control": cache_control}
        if etag_matches(request.headers.get("if-none-match"), cover.etag):
            return Response(status_code=304, headers=headers)
        return Response(cover.content, media_type=cover.media_type, headers=headers)
    if source.url is not None and is_web_url(source.url):
        return RedirectResponse(
            source.url, status_code=307, headers={"Cache-Control": cache_control}
        )
    return Response(
        placeholder(size), media_type="image/png", headers={"Cache-Control": "no-store"}
    )
