"""Uploads and library scans (API.md, Media): the use cases that bring audio
files into the catalogue.

An upload is one unit of work for all its files: every file is received into
MEDIA_DIR/.incoming and hashed as it arrives (media.uploads), then tag-read;
then the files are linked into place under MEDIA_DIR and the rows written in one
transaction. Any refusal (not audio, damaged, too large, a duplicate)
refuses the whole request and leaves nothing behind, on disk or in the database.

A scan walks a folder under LIBRARY_DIR in a background thread. Each changed
file is its own unit of work, so a scan stopped halfway keeps what it finished,
and the next scan (which skips every file whose path, size and mtime are
recorded) finishes the job without duplicating anything.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from stat import S_ISREG

from common import metrics
from common.errors import (
    InvalidInputError,
    NotFoundError,
    UnsupportedMediaTypeError,
)
from common.paging import Page, PageParams, offset_cursor, page_offset
from common.settings import Settings, get_settings
from common.tokens import Principal
from database.media import SCAN_STALE_AFTER
from database.types import utcnow
from database.unit_of_work import run_unit
from media import storage
from media.tags import MediaError, UnsupportedMediaError, read_tags
from media.uploads import FILES, ReceivedFile
from song_service.repos.base import SongUnitOfWork
from song_service.repos.media_base import (
    DuplicateMediaError,
    KnownFile,
    ScanCounts,
    ScanNotFoundError,
    ScanRecord,
    ScanRunningError,
)
from song_service.schemas import ScanOut, SongOut
from song_service.services.imports import AudioFile, discard_files, record, refresh
from song_service.services.songs import view_fields

logger = logging.getLogger(__name__)
# Library scans (common.metrics), by song_service and `make import` alike.
SCANS_STARTED = metrics.SCANS_STARTED.labels("song_service")
SCAN_FILES_SEEN = metrics.SCAN_FILES_SEEN.labels("song_service")

AUDIO_SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".wav"})
# A folder's cover image: cover.* or folder.* (API.md, Media), any case.
COVER_STEMS = ("cover", "folder")
COVER_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif"})
MAX_FILES_PER_UPLOAD = 20
# A scan lists at most this many per-file errors; the count goes on.
MAX_ERRORS = 200
# Counts and the heartbeat are written this often; a scan whose heartbeat is
# older than SCAN_STALE_AFTER died with its process and no longer blocks a new one.
PROGRESS_EVERY_FILES = 200
PROGRESS_EVERY_SECONDS = 2.0
# A spooled upload older than this belongs to no live request.
STALE_INCOMING_SECONDS = 24 * 3600
SCAN_CURSOR = "scans"

Unit = Callable[..., SongUnitOfWork]


class ScanPathError(NotFoundError):
    detail = "No such folder under the library"


@dataclass
class ScanProgress:
    """A scan's counts as it goes (ScanCounts when written)."""

    files_seen: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def fail(self, path: str, detail: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"path": path, "detail": detail})

    def counts(self) -> ScanCounts:
        return ScanCounts(
            self.files_seen, self.added, self.updated, self.removed, self.skipped,
            tuple(self.errors),
        )  # fmt: skip


class LibraryService:
    def __init__(self, unit: Unit, settings: Settings | None = None) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit
        self._settings = settings or get_settings()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # What a process killed mid-upload left behind (nothing names it).
        storage.remove_stale_incoming(STALE_INCOMING_SECONDS, self._settings)

    # --- uploads -----------------------------------------------------------------

    def upload(self, files: list[ReceivedFile]) -> list[SongOut]:
        """Import received files (media.uploads) as songs, all or none; the songs
        in the order sent.

        Raises UnsupportedMediaTypeError (415) for a file that is not audio,
        InvalidInputError (422, FastAPI's list form) for a damaged or empty one,
        DuplicateMediaError (409, with `song_id`) for a file already in the
        library or sent twice. Each detail names the file. The received files
        stay where they are (their owner deletes them): a re-run of this use
        case after a lost race reads them again."""
        ready = [(file, self._audio(file)) for file in files]
        self._refuse_duplicates(ready)
        placed: list[Path] = []
        try:
            audio = []
            for received, file in ready:
                final = storage.place(
                    received.path, upload_path(file, received.name), self._settings
                )
                placed.append(final)
                relative = storage.relative_to("media", final, self._settings)
                audio.append((received.name, replace(file, path=relative)))
            # Numbered tracks first (see FolderScan.run); answered in the order sent.
            order = sorted(range(len(audio)), key=lambda i: _unnumbered(audio[i][1]))
            with self._unit(write=True) as uow:
                recorded = {i: _record_named(uow, audio[i][1], audio[i][0]) for i in order}
                song_ids = [recorded[i] for i in range(len(audio))]
                views = [uow.songs.get_view(song_id, None) for song_id in song_ids]
                media = uow.media.for_songs(song_ids)
                uow.commit()
        except BaseException:
            # Refused or failed: the files placed for this request go too, and the
            # folders made for them.
            for path in placed:
                path.unlink(missing_ok=True)
                storage.remove_empty_folders(path, "media", self._settings)
            raise
        return [SongOut.model_validate(view_fields(view, media)) for view in views if view]

    def _audio(self, received: ReceivedFile) -> AudioFile:
        """What a received file is, from its tags: 415 not audio, 422 damaged."""
        name = received.name
        try:
            tags = read_tags(received.path, relative=name)
        except UnsupportedMediaError as exc:
            raise UnsupportedMediaTypeError(f"{name}: {exc.detail}") from exc
        except MediaError as exc:
            raise InvalidInputError(FILES, f"{name}: {exc.detail}") from exc
        mtime_ns = received.path.stat().st_mtime_ns
        return AudioFile("media", name, received.size, mtime_ns, received.checksum, tags)

    def _refuse_duplicates(self, ready: list[tuple[ReceivedFile, AudioFile]]) -> None:
        """409 before anything is placed: a file sent twice, or already a song's."""
        seen: set[str] = set()
        for received, file in ready:
            if file.checksum in seen:
                raise DuplicateMediaError(None, received.name, sent_twice=True)
            seen.add(file.checksum)
        with self._unit() as uow:
            for received, file in ready:
                if (existing := uow.media.by_checksum(file.checksum)) is not None:
                    raise DuplicateMediaError(existing.song_id, received.name)

    # --- scans -------------------------------------------------------------------

    def start_scan(self, path: str | None, caller: Principal) -> ScanOut:
        """Start a scan of `path` (relative to LIBRARY_DIR; the whole library when
        None) in the background. Raises ScanPathError (404) for a folder that is
        not there or leaves the library, ScanRunningError (409, `{"detail",
        "scan"}` with the running scan) while another scan runs, in any process."""
        prefix = _scan_prefix(path, self._settings)
        try:
            with self._unit(write=True) as uow:
                scan = uow.scans.start(prefix, caller.user_id, utcnow() - SCAN_STALE_AFTER)
                uow.commit()
            SCANS_STARTED.inc()
        except ScanRunningError as exc:
            if exc.scan is not None:  # the body says which scan to follow instead
                exc.extra = {"scan": scan_out(exc.scan).model_dump(mode="json")}
            raise
        self._thread = threading.Thread(
            target=self._run_in_background, args=(scan.id, prefix), name=f"scan-{scan.id}",
            daemon=True,
        )  # fmt: skip
        self._thread.start()
        return scan_out(scan)

    def get_scan(self, scan_id: int) -> ScanOut:
        """A scan's state and counts. Raises ScanNotFoundError (404)."""
        with self._unit() as uow:
            scan = uow.scans.get(scan_id)
        if scan is None:
            raise ScanNotFoundError
        return scan_out(scan)

    def scans(self, page: PageParams) -> Page[ScanOut]:
        """Scans, newest first, offset-paged."""
        offset = page_offset(page, SCAN_CURSOR)
        with self._unit() as uow:
            rows = uow.scans.recent(page.limit + 1, offset)
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = offset_cursor(SCAN_CURSOR, offset + page.limit)
        return Page([scan_out(scan) for scan in rows[: page.limit]], next_cursor)

    def close(self) -> None:
        """At shutdown: stop a running scan between two files (it is marked failed
        and the next scan finishes its work)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run_in_background(self, scan_id: int, prefix: str) -> None:
        try:
            scan_folder(self._unit, scan_id, prefix, stop=self._stop, settings=self._settings)
        except Exception:  # a thread's error has nobody to go to but the log
            logger.exception("library scan %s failed", scan_id)


def scan_folder(
    unit: Unit,
    scan_id: int,
    prefix: str,
    *,
    stop: threading.Event | None = None,
    on_file: Callable[[ScanProgress], None] | None = None,
    settings: Settings | None = None,
) -> ScanProgress:
    """Bring the catalogue in line with the files under `prefix` (relative to
    LIBRARY_DIR, "" for all), then write the scan's final state and counts.

    A file whose (path, size, mtime) is recorded is skipped unopened; a changed
    one is re-read (`updated`); a new one is added, unless its bytes are a
    recorded song's whose file is gone: a rename, so that song is kept, with its
    likes, plays and playlist entries (`updated`); a recorded file no longer on
    disk loses its song, and the song its likes, plays and playlist entries
    (`removed`). A file that cannot be read or recorded is listed in `errors` and
    the scan goes on. `on_file` sees the counts after each file (the command
    line's progress bar). A stop (`stop` set) ends the scan as failed."""
    scan = FolderScan(
        unit, scan_id, prefix, stop or threading.Event(), on_file, settings or get_settings()
    )
    return scan.run()


class FolderScan:
    """One run of scan_folder: its counts and what it has seen so far."""

    def __init__(
        self,
        unit: Unit,
        scan_id: int,
        prefix: str,
        stop: threading.Event,
        on_file: Callable[[ScanProgress], None] | None,
        settings: Settings,
    ) -> None:
        self._unit = unit
        self._settings = settings
        self._scan_id = scan_id
        self._prefix = prefix
        self._stop = stop
        self._on_file = on_file
        self.progress = ScanProgress()
        self._known: dict[str, KnownFile] = {}
        self._moved: set[int] = set()  # songs whose file was found at a new path

    def run(self) -> ScanProgress:
        state = "failed"
        try:
            with self._unit() as uow:
                self._known = uow.media.known_files("library", self._prefix)
            seen: set[str] = set()
            unnumbered: list[AudioFile] = []
            unreadable: list[str] = []
            last_write = time.monotonic()
            for relative, path, cover_path in audio_files(self._prefix, self._settings, unreadable):
                if self._stop.is_set():
                    self.progress.fail(relative, "The scan was stopped before this file")
                    return self.progress
                seen.add(relative)
                self.progress.files_seen += 1
                SCAN_FILES_SEEN.inc()
                file = self._read(relative, path, cover_path)
                if file is not None and _unnumbered(file) and relative not in self._known:
                    # Recorded after every numbered file: its track number is the
                    # disc's next free one, which must not take a number that a
                    # file later in the walk says is its own.
                    unnumbered.append(file)
                elif file is not None:
                    self._write(file)
                if self._on_file is not None:
                    self._on_file(self.progress)
                if (
                    self.progress.files_seen % PROGRESS_EVERY_FILES == 0
                    or time.monotonic() - last_write > PROGRESS_EVERY_SECONDS
                ):
                    self._write_progress()
                    last_write = time.monotonic()
            for file in unnumbered:
                if self._stop.is_set():
                    self.progress.fail(file.path, "The scan was stopped before this file")
                    return self.progress
                self._write(file)
            self._remove_gone(seen, unreadable)
            state = "done"
            return self.progress
        finally:
            with self._unit(write=True) as uow:
                uow.scans.finish(self._scan_id, state, self.progress.counts())
                uow.commit()
            metrics.SCANS_FINISHED.labels("song_service", state).inc()

    def _remove_gone(self, seen: set[str], unreadable: list[str]) -> None:
        """Remove the songs of recorded files that are gone, but never on the word
        of a walk that could not look: nothing under a folder it could not read,
        and nothing at all when it found no audio file while songs are recorded
        (an unmounted drive looks like an empty library)."""
        for folder in unreadable:
            self.progress.fail(folder, "This folder could not be read: its songs were kept")
        if not seen and self._known:
            self.progress.fail(
                self._prefix or ".",
                "No audio file was found, so no song was removed: is the library mounted?",
            )
            return
        for relative, gone in self._known.items():
            if relative in seen or gone.song_id in self._moved:
                continue
            if any(relative.startswith(f"{folder}/") for folder in unreadable):
                continue
            self._remove(gone.song_id)

    def _read(self, relative: str, path: Path, cover_path: str | None) -> AudioFile | None:
        """The file to record, or None: unchanged (skipped, not opened), or not
        one to read (listed in errors): unreadable, not a regular file (a device
        or a pipe would be read forever), or a link out of LIBRARY_DIR (it could
        never be streamed)."""
        progress = self.progress
        try:
            stat = path.stat()
            if not S_ISREG(stat.st_mode):
                progress.fail(relative, "Not a regular file")
                return None
            if path.is_symlink() and not path.resolve().is_relative_to(
                storage.root_dir("library", self._settings)
            ):
                progress.fail(relative, "A link to a file outside LIBRARY_DIR")
                return None
            known = self._known.get(relative)
            if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                if known.song_id not in self._moved:  # else its bytes moved elsewhere
                    progress.skipped += 1
                return None
            checksum = storage.sha256_file(path)
            tags = read_tags(path, relative=relative)
        except MediaError as exc:
            progress.fail(relative, exc.detail)
            return None
        except OSError as exc:
            progress.fail(relative, f"Could not be read: {exc.strerror or 'I/O error'}")
            return None
        return AudioFile(
            "library", relative, stat.st_size, stat.st_mtime_ns, checksum, tags, cover_path
        )

    def _write(self, file: AudioFile) -> None:
        """Record one file in a unit of its own, counting the outcome. A unit that
        lost a race (a deadlock with an upload naming the same new artist, say)
        runs again, as a request's would (database.unit_of_work.run_unit)."""
        progress, relative = self.progress, file.path

        def record_file() -> str | None:
            with self._unit(write=True) as uow:
                outcome = self._record(uow, file, self._known.get(relative))
                if outcome is not None:
                    uow.commit()
                return outcome

        try:
            outcome = run_unit(record_file)
            if outcome is None:
                return
        except DuplicateMediaError as exc:
            progress.fail(relative, f"The same audio as song {exc.song_id}")
            return
        except Exception:  # one file must not end the scan of thousands
            logger.exception("library scan: %s could not be recorded", relative)
            progress.fail(relative, "Could not be recorded (see the service log)")
            return
        if outcome == "added":
            progress.added += 1
        else:
            progress.updated += 1

    def _record(self, uow: SongUnitOfWork, file: AudioFile, known: KnownFile | None) -> str | None:
        """Write one file; "added" or "updated", None when refused (listed)."""
        if known is not None:
            refresh(uow, known.song_id, file)
            return "updated"
        existing = uow.media.by_checksum(file.checksum)
        if existing is None:
            record(uow, file)
            return "added"
        if existing.root == "library" and not _exists(existing.path, self._settings):
            refresh(uow, existing.song_id, file)  # renamed or moved
            self._moved.add(existing.song_id)
            return "updated"
        self.progress.fail(file.path, f"The same audio as song {existing.song_id}")
        return None

    def _remove(self, song_id: int) -> None:
        """The song of a file that is gone, as DELETE /songs/{id} removes it: its
        playlist entries first (positions close up), then the song with its likes,
        plays and media row."""
        with self._unit(write=True) as uow:
            uow.playlists.remove_song(song_id)
            media = uow.media.get(song_id)
            deleted = uow.songs.delete(song_id)
            uow.commit()
        if deleted:
            self.progress.removed += 1
            discard_files(song_id, media, self._settings)

    def _write_progress(self) -> None:
        with self._unit(write=True) as uow:
            uow.scans.progress(self._scan_id, self.progress.counts())
            uow.commit()


def audio_files(
    prefix: str, settings: Settings | None = None, unreadable: list[str] | None = None
) -> Iterator[tuple[str, Path, str | None]]:
    """(relative path, path, the folder's cover image or None) of every audio file
    under `prefix` in LIBRARY_DIR, by suffix, in path order; hidden files and
    folders (a leading dot) are passed over. A folder that cannot be listed is
    added to `unreadable` (relative path)."""
    base = storage.root_dir("library", settings)
    top = base / prefix if prefix else base

    def could_not_list(error: OSError) -> None:
        if unreadable is not None and error.filename:
            unreadable.append(Path(error.filename).relative_to(base).as_posix())

    for folder, folders, names in os.walk(top, onerror=could_not_list):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        here = Path(folder)
        cover = _cover_in(names)
        cover_path = (here / cover).relative_to(base).as_posix() if cover else None
        for name in sorted(names):
            if name.startswith(".") or Path(name).suffix.lower() not in AUDIO_SUFFIXES:
                continue
            path = here / name
            yield path.relative_to(base).as_posix(), path, cover_path


def _cover_in(names: list[str]) -> str | None:
    """The folder's cover image: cover.* before folder.*, then by name."""
    found = [
        name
        for name in names
        if Path(name).stem.lower() in COVER_STEMS and Path(name).suffix.lower() in COVER_SUFFIXES
    ]
    return min(
        found, key=lambda name: (COVER_STEMS.index(Path(name).stem.lower()), name), default=None
    )


def _unnumbered(file: AudioFile) -> bool:
    """An album track whose file names no track number."""
    return file.tags.album is not None and file.tags.track is None


def _exists(relative: str, settings: Settings) -> bool:
    """Whether the library file `relative` is still there."""
    try:
        return storage.resolve("library", relative, settings).is_file()
    except storage.UnsafePathError:
        return False


def _scan_prefix(path: str | None, settings: Settings) -> str:
    """A scan's folder as stored: relative to LIBRARY_DIR, POSIX, "" for all.
    Raises ScanPathError (404) unless it is a folder inside the library."""
    if path is None or path.strip("/") == "":
        if not storage.root_dir("library", settings).is_dir():
            raise ScanPathError("LIBRARY_DIR is not a folder")
        return ""
    try:
        folder = storage.resolve("library", path.strip("/"), settings)
    except storage.UnsafePathError as exc:
        raise ScanPathError from exc
    if not folder.is_dir():
        raise ScanPathError
    return storage.relative_to("library", folder, settings)


def _record_named(uow: SongUnitOfWork, file: AudioFile, name: str) -> int:
    try:
        return record(uow, file).id
    except DuplicateMediaError as exc:  # lost a race with another upload of it
        raise DuplicateMediaError(exc.song_id, name) from exc


def upload_path(file: AudioFile, name: str) -> str:
    """Where an upload is kept under MEDIA_DIR: `Album artist/Album/NN - Title.ext`
    (`Artist/Title.ext` without an album), each part made safe for a file name."""
    tags = file.tags
    suffix = f".{tags.suffix}" if tags.suffix else Path(name).suffix.lower()
    artist = tags.album_artists[0] if tags.album_artists else (tags.artists or ["Unknown"])[0]
    title = storage.safe_component(tags.title, "Untitled")
    if not tags.album:
        return f"{storage.safe_component(artist, 'Unknown Artist')}/{title}{suffix}"
    number = f"{tags.track:02d} - " if tags.track else ""
    if tags.disc and tags.disc > 1:
        number = f"{tags.disc}-{number}"
    album = storage.safe_component(tags.album, "Unknown Album")
    return f"{storage.safe_component(artist, 'Unknown Artist')}/{album}/{number}{title}{suffix}"


def scan_out(scan: ScanRecord) -> ScanOut:
    counts = scan.counts
    return ScanOut(
        id=scan.id,
        state=scan.state,
        path=scan.path,
        files_seen=counts.files_seen,
        added=counts.added,
        updated=counts.updated,
        removed=counts.removed,
        skipped=counts.skipped,
        errors=list(counts.errors),
        started_at=scan.started_at,
        finished_at=scan.finished_at,
    )
