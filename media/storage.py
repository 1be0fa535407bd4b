"""Where audio files live, and how one gets there safely.

Two roots (API.md, Media): "media" is MEDIA_DIR, where uploads are stored and the
service writes; "library" is LIBRARY_DIR, which a scan reads and nothing here ever
writes. A stored path is relative to its root, in POSIX form, so that the rows
mean the same on every replica and after the folders move.

An upload is spooled to a temporary file under MEDIA_DIR/.incoming (same file
system as its final place, so the move is an atomic rename), hashed while it is
written, and either placed or deleted: nothing half-written is ever at a path a
row names.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal

from common.settings import Settings, get_settings

Root = Literal["media", "library"]
ROOTS: tuple[Root, ...] = ("media", "library")
INCOMING = ".incoming"
CHUNK_BYTES = 1024 * 1024


class UnsafePathError(ValueError):
    """A relative path that would leave its root (`..`, absolute, NUL)."""


def root_dir(root: Root, settings: Settings | None = None) -> Path:
    """The absolute folder of `root` ("media" -> MEDIA_DIR, "library" -> LIBRARY_DIR)."""
    settings = settings or get_settings()
    folder = settings.media_dir if root == "media" else settings.library_dir
    return folder.resolve()


def resolve(root: Root, relative: str, settings: Settings | None = None) -> Path:
    """The file `relative` (POSIX, as stored) under `root`.

    Raises UnsafePathError for a path that is absolute, contains `..` or NUL, or
    resolves (through symlinks) outside the root."""
    if not relative or "\x00" in relative:
        raise UnsafePathError("empty path")
    parts = PurePosixPath(relative)
    if parts.is_absolute() or ".." in parts.parts:
        raise UnsafePathError("path leaves its root")
    base = root_dir(root, settings)
    path = (base / Path(*parts.parts)).resolve()
    if not path.is_relative_to(base):
        raise UnsafePathError("path leaves its root")
    return path


def relative_to(root: Root, path: Path, settings: Settings | None = None) -> str:
    """`path` as stored: relative to `root`, POSIX separators. Raises
    UnsafePathError when `path` is not under the root."""
    base = root_dir(root, settings)
    resolved = path.resolve()
    if not resolved.is_relative_to(base):
        raise UnsafePathError("path is outside its root")
    return resolved.relative_to(base).as_posix()


def sha256_file(path: Path) -> str:
    """The SHA-256 of the file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class TooLargeError(Exception):
    """More bytes than the cap (MAX_UPLOAD_MB)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


@contextmanager
def spooled(
    source: BinaryIO, max_bytes: int, suffix: str = "", settings: Settings | None = None
) -> Iterator[tuple[Path, str, int]]:
    """Copy `source` to a temporary file under MEDIA_DIR/.incoming, hashing it.

    Yields (temporary path, SHA-256 hex, size in bytes). The file is deleted when
    the block ends unless `place` moved it. Raises TooLargeError beyond
    `max_bytes` (the partial file is deleted)."""
    incoming = root_dir("media", settings) / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=incoming, suffix=suffix)
    path = Path(name)
    try:
        digest = hashlib.sha256()
        size = 0
        # Readable by the gateway's nginx (another user in the containers), which
        # sends the bytes; mkstemp makes the file owner-only.
        os.fchmod(handle, 0o644)
        with os.fdopen(handle, "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLargeError(max_bytes)
                digest.update(chunk)
                out.write(chunk)
        yield path, digest.hexdigest(), size
    finally:
        path.unlink(missing_ok=True)


def remove_stale_incoming(max_age_seconds: float, settings: Settings | None = None) -> int:
    """Delete spooled files older than `max_age_seconds` that a killed process left
    in MEDIA_DIR/.incoming (a live upload's file is younger); how many went."""
    incoming = root_dir("media", settings) / INCOMING
    if not incoming.is_dir():
        return 0
    cutoff = time.time() - max_age_seconds
    removed = 0
    for path in incoming.iterdir():
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def place(temporary: Path, relative: str, settings: Settings | None = None) -> Path:
    """Move a spooled file to `relative` under MEDIA_DIR without replacing anything:
    when the name is taken, ` (2)`, ` (3)`… is added before the suffix. Returns the
    final path. A hard link then unlink, so that two uploads racing for one name
    never overwrite each other (rename would)."""
    target = resolve("media", relative, settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    stem, suffix = target.stem, target.suffix
    for attempt in range(1, 1000):
        candidate = target if attempt == 1 else target.with_name(f"{stem} ({attempt}){suffix}")
        try:
            os.link(temporary, candidate)
        except FileExistsError:
            continue
        temporary.unlink()
        return candidate
    raise FileExistsError(f"no free name for {relative}")


def safe_component(text: str, fallback: str) -> str:
    """One folder or file name made from a tag: no separators, no leading dots,
    no control characters, at most 100 characters."""
    cleaned = "".join(" " if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in text)
    cleaned = " ".join(cleaned.split()).strip(". ")[:100].strip()
    return cleaned or fallback
