"""Database errors met while starting, said in one line with the cause and the fix.

A bad DATABASE_URL, a server that is not there or a SQLite folder this user may
not write otherwise surface as a page of driver traceback; the setup steps
(`python -m database migrate`, `python -m user_service.admin`) print this line
instead (common.startup)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

CONFIGURATION = "README, Configuration"
EXAMPLES = (
    "sqlite:///data/musicplayer.db, postgresql+psycopg://user:password@host:5432/musicplayer, "
    "mysql+pymysql://user:password@host:3306/musicplayer or mssql+pyodbc://..."
)


def describe(exc: BaseException, url: str | URL | None) -> str | None:
    """One line for an error a bad configuration or environment causes at start-up;
    None for anything else (a bug keeps its traceback)."""
    if isinstance(exc, ValidationError):
        return invalid_setting(exc)
    if isinstance(exc, NoSuchModuleError):
        scheme = _scheme(url)
        return (
            f"DATABASE_URL names an unknown database or driver ({scheme}): write it like "
            f"{EXAMPLES} ({CONFIGURATION})"
        )
    if isinstance(exc, ArgumentError):  # NoSuchModuleError is one too
        # The URL may hold a password: it is not repeated.
        return f"DATABASE_URL is not a database URL: write it like {EXAMPLES} ({CONFIGURATION})"
    if isinstance(exc, ImportError) and _scheme(url) is not None:
        return (
            f"the database driver for {_scheme(url)} cannot be loaded ({exc}): name an "
            f"installed one in DATABASE_URL (postgresql+psycopg, mysql+pymysql, mssql+pyodbc; "
            f"SQL Server also needs unixODBC and an ODBC driver: README, SQL Server)"
        )
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and _cannot_write(exc):
        return _not_writable(sqlite_file)
    if isinstance(exc, OperationalError | DBAPIError) and sqlite_file is None and url is not None:
        where = _server(url)
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return (
            f"cannot reach the database at {where} ({reason}): start it, or correct "
            f"DATABASE_URL / DB_HOST ({CONFIGURATION})"
        )
    return None


def invalid_setting(exc: ValidationError) -> str:
    """The first invalid setting, by its environment name, and why."""
    error = exc.errors()[0]
    name = "_".join(str(part) for part in error.get("loc", ())).upper()
    where = f"setting {name}" if name else "settings"
    return f"invalid {where}: {error['msg']} (fix it in .env or the environment; see .env.example)"


def _cannot_write(exc: BaseException) -> bool:
    if isinstance(exc, OSError):  # creating the folder: permission, read-only, not a folder
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, OperationalError) and (
        "unable to open database file" in text or "readonly database" in text
    )


def _not_writable(path: Path) -> str:
    folder = path.parent
    return (
        f"cannot open the SQLite database {path}: {folder} (or the file) is not writable "
        f"by {_user()}; make it writable for that user, or point DATA_DIR (or "
        f"DATABASE_URL) at a folder it may write ({CONFIGURATION})"
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _parsed(url: str | URL | None) -> URL | None:
    if url is None:
        return None
    try:
        return make_url(url)
    except ArgumentError:
        return None


def _scheme(url: str | URL | None) -> str | None:
    parsed = _parsed(url)
    return parsed.drivername if parsed is not None else None


def _sqlite_file(url: str | URL | None) -> Path | None:
    parsed = _parsed(url)
    if parsed is None or parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _server(url: str | URL) -> str:
    parsed = _parsed(url)
    if parsed is None:
        return "DATABASE_URL"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host or 'localhost'}{port} ({parsed.get_backend_name()})"
