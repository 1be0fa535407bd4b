"""`python -m song_service.scan [DIR]` (`make import DIR=…`): a library scan from
the command line, with a progress bar — the same work as POST /library/scans,
under the same one-scan-at-a-time rule, recorded in the same scan history.

DIR is a folder under LIBRARY_DIR (absolute, or relative to the current folder);
without it the whole library is scanned. The services stream the imported songs
from LIBRARY_DIR, so set LIBRARY_DIR (in .env) to your music folder first.

Ctrl-C stops between two files: what was imported stays, the scan is marked
failed, and the next scan finishes the job without duplicating anything.
Exit status: 0 when the scan finished (files that could not be imported are
listed), 1 when it was stopped or failed, 2 when it could not start.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tqdm import tqdm

from common.errors import DomainError
from common.settings import get_settings
from database import Database
from database.media import SCAN_STALE_AFTER
from database.types import utcnow
from media import storage
from song_service.repos.sql import SqlSongUnitOfWork
from song_service.services.library import ScanProgress, audio_files, scan_folder


def _prefix(folder: str | None) -> str:
    """DIR as a scan path relative to LIBRARY_DIR; SystemExit(2) when outside it."""
    library = storage.root_dir("library")
    if folder is None:
        return ""
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise SystemExit(f"{folder} is not a folder")
    if not path.is_relative_to(library):
        raise SystemExit(
            f"{path} is not under LIBRARY_DIR ({library}): set LIBRARY_DIR in .env to your "
            "music folder (the services stream from there), then run this again"
        )
    return path.relative_to(library).as_posix().removeprefix(".")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", nargs="?", help="a folder under LIBRARY_DIR (default: all of it)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if not storage.root_dir("library").is_dir():
        print(f"LIBRARY_DIR ({settings.library_dir}) is not a folder", file=sys.stderr)
        return 2
    prefix = _prefix(args.dir)
    database = Database(settings.sqlalchemy_url)
    unit = functools.partial(SqlSongUnitOfWork, database)
    try:
        with unit(write=True) as uow:
            scan = uow.scans.start(prefix, None, utcnow() - SCAN_STALE_AFTER)
            uow.commit()
    except DomainError as exc:  # another scan is running
        print(exc.detail, file=sys.stderr)
        return 2
    stop = threading.Event()

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupt)
    total = sum(1 for _ in audio_files(prefix))
    with tqdm(total=total, unit="file", desc=f"scan {scan.id}", dynamic_ncols=True) as bar:

        def advance(progress: ScanProgress) -> None:
            bar.update(1)
            bar.set_postfix(
                added=progress.added, updated=progress.updated, errors=len(progress.errors)
            )

        progress = scan_folder(unit, scan.id, prefix, stop=stop, on_file=advance)
    database.dispose()
    print(
        f"scan {scan.id}: {progress.files_seen} files seen, {progress.added} added, "
        f"{progress.updated} updated, {progress.removed} removed, {progress.skipped} unchanged, "
        f"{len(progress.errors)} not imported"
    )
    for error in progress.errors:
        print(f"  {error['path']}: {error['detail']}")
    return 1 if stop.is_set() else 0


if __name__ == "__main__":
    raise SystemExit(main())
