"""Where audio files live, and how one gets there safely.

Two roots (API.md, Media): "media" is MEDIA_DIR, where uploads are stored and the
service writes; "library" is LIBRARY_DIR, which a scan reads and nothing here ever
writes. A stored path is relative to its root, in POSIX form, so that the rows
mean the same on every replica and after the folders move.

An upload is received into a temporary file under MEDIA_DIR/.incoming
(media.uploads; the same file system as its final place, so placing it is a
hard link), hashed while it is written, and either placed or deleted: nothing
half-written is ever at a path a row names.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path, PurePosixPath
from typing import Literal

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
    """Link a received file (media.uploads) at `relative` under MEDIA_DIR without
    replacing anything: when the name is taken, ` (2)`, ` (3)`… is added before
    the suffix. Returns the final path. A hard link, so that two uploads racing
    for one name never overwrite each other (rename would), and the received
    file stays for a re-run of the use case; its owner deletes it."""
    target = resolve("media", relative, settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    stem, suffix = target.stem, target.suffix
    for attempt in range(1, 1000):
        candidate = target if attempt == 1 else target.with_name(f"{stem} ({attempt}){suffix}")
        try:
            os.link(temporary, candidate)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free name for {relative}")


# A file name may have 255 bytes on common file systems; a component made from a
# tag keeps room for a track number, " (2)" and a suffix.
COMPONENT_BYTES = 200


def safe_component(text: str, fallback: str) -> str:
    """One folder or file name made from a tag: no separators, no leading dots,
    no control characters, at most COMPONENT_BYTES bytes of UTF-8 (100 CJK
    characters are 300 bytes), cut between characters."""
    cleaned = "".join(" " if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in text)
    cleaned = " ".join(cleaned.split()).strip(". ")
    cut = cleaned.encode()[:COMPONENT_BYTES].decode("utf-8", "ignore").strip(". ")
    return cut or fallback


def remove_empty_folders(path: Path, root: Root, settings: Settings | None = None) -> None:
    """Remove `path`'s folder and its parents while they are empty, up to (not
    including) `root`'s folder: what a refused upload created for its files."""
    base = root_dir(root, settings)
    folder = path.parent
    while folder != base and folder.is_relative_to(base):
        try:
            folder.rmdir()
        except OSError:  # not empty (another file, another upload), or gone
            return
        folder = folder.parent
