"""Statements every SQL repository writes the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from database.types import utcnow


def insert_stamped(connection: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert a row with `created_at` and `updated_at` set to now; its new id.
    No RETURNING: MySQL lacks it on INSERT, so callers read the row back in the
    same transaction when they need it."""
    now = utcnow()
    result = connection.execute(insert(table).values(**values, created_at=now, updated_at=now))
    return result.inserted_primary_key[0]


def prune_oldest(connection: Connection, table: Table, *, before: datetime, limit: int) -> int:
    """Delete, of the `limit` lowest-id rows, those created before `before`; how
    many went. In an append-only table the lowest ids are the oldest rows, so this
    reads `limit` primary-key entries however big the table, with no index on
    created_at. Two statements, since MariaDB refuses LIMIT inside IN (...)."""
    oldest = connection.execute(
        select(table.c.id, table.c.created_at).order_by(table.c.id).limit(limit)
    ).all()
    stale = [row_id for row_id, created_at in oldest if created_at < before]
    if not stale:
        return 0
    return connection.execute(delete(table).where(table.c.id.in_(stale))).rowcount
