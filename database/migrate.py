"""Run Alembic programmatically, so no working directory or ini path is assumed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None, output: TextIO | None = None) -> Config:
    config = Config(output_buffer=output)
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        # ConfigParser treats % as interpolation; URLs may carry %-escapes.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def offline_sql(url: str, revision: str = "head") -> str:
    """The migration as a SQL script for `url`'s dialect, without connecting: for a
    DBA who applies scripts by hand (SQL Server's `GO` batches included)."""
    output = io.StringIO()
    command.upgrade(alembic_config(url, output), revision, sql=True)
    return output.getvalue()
