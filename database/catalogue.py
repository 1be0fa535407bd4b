"""What `q`, `genre` and `artist` mean for albums and songs, for SQL and in memory
side by side, so both repositories of both services search alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Table, or_


def sql_filters(
    table: Table, *, q: str | None, genre: str | None, artist: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if genre is not None:
        conditions.append(table.c.genre == genre)
    if artist is not None:
        conditions.append(table.c.artist == artist)
    if q is not None:
        # autoescape: %, _ and the escape character typed by a user match themselves.
        conditions.append(
            or_(
                table.c.title.icontains(q, autoescape=True),
                table.c.artist.icontains(q, autoescape=True),
            )
        )
    return conditions


def memory_matches(
    row: Mapping[str, Any], *, q: str | None, genre: str | None, artist: str | None
) -> bool:
    if genre is not None and row["genre"] != genre:
        return False
    if artist is not None and row["artist"] != artist:
        return False
    if q is None:
        return True
    needle = q.lower()
    return needle in row["title"].lower() or needle in row["artist"].lower()
