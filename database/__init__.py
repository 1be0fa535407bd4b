"""The one place that knows table layouts, engines and migrations."""

from database.engine import Database
from database.models import Base

__all__ = ["Base", "Database"]
