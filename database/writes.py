"""Statements every SQL repository writes the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert

from database.types import utcnow


def insert_stamped(connection: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert a row with `created_at` and `updated_at` set to now; its new id.
    No RETURNING: MySQL lacks it on INSERT, so callers read the row back in the
    same transaction when they need it."""
    now = utcnow()
    result = connection.execute(insert(table).values(**values, created_at=now, updated_at=now))
    return result.inserted_primary_key[0]
