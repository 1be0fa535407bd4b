"""The one place that knows table layouts, engines and migrations."""

from __future__ import annotations

from typing import Any

from database.engine import Database

__all__ = ["Base", "Database"]


def __getattr__(name: str) -> Any:
    # The ORM base on demand: importing it loads sqlalchemy.orm, which services
    # (Core tables only, database.tables) never need.
    if name == "Base":
        from database.models import Base

        return Base
    raise AttributeError(f"module 'database' has no attribute {name!r}")
