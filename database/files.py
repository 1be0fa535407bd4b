"""Files only this user may read, whatever the umask: the SQLite database and its
-wal and -shm files, the signing keys (0600), and the folders that hold them (0700).
The database holds password hashes and the private key signs every token."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def private_folder(path: Path) -> None:
    """Create `path` and any missing parents as 0700 (mkdir's mode is cut by the
    umask, so each new folder is chmod-ed). Folders that exist stay as they are."""
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        try:
            new.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(new, PRIVATE_FOLDER)


def tighten_folder(path: Path) -> None:
    """Make an existing folder of ours 0700 (an older version left 0755). Never a
    shared one: not a sticky folder such as /tmp, not the working folder or one of
    its parents, not the home folder."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    resolved = path.resolve()
    shared = {Path.cwd().resolve(), *Path.cwd().resolve().parents, Path.home().resolve()}
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_mode & stat.S_ISVTX
        or resolved in shared
        or info.st_uid != os.geteuid()
    ):
        return
    if stat.S_IMODE(info.st_mode) != PRIVATE_FOLDER:
        os.chmod(path, PRIVATE_FOLDER)


def private_file(path: Path) -> None:
    """`path` as 0600: created empty if missing, tightened if it is ours and looser."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        tighten_file(path)
        return
    try:
        os.fchmod(descriptor, PRIVATE_FILE)  # the umask may have cut the mode further
    finally:
        os.close(descriptor)


def tighten_file(path: Path) -> None:
    """0600 for an existing file of ours; anything else is left alone."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != PRIVATE_FILE:
        os.chmod(path, PRIVATE_FILE)


def sqlite_sidecars(database: Path) -> tuple[Path, Path]:
    """The -wal and -shm files SQLite keeps beside a database in WAL mode."""
    return database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")
