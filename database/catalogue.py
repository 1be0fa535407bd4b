"""What `q`, `genre`, `artist` and the text sorts mean for albums and songs, for
SQL and in memory side by side, so both repositories of both services agree
(API.md, "Text: one meaning on every database").

Exact filters and sorts compare the folded keys (`title_key`, `artist_key`,
`genre_key`: database.text.fold, cut to size), never the raw columns, so
`genre=jazz` finds "Jazz" and titles sort alpha, Ärger, beta, Zebra everywhere.
A ranked search page comes from database.search.sql_search / memory_search.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Subquery, Table, func, select, union

from database.search import search_rank, sql_matches
from database.tables import KEY_LENGTHS, albums, folded_key, songs

# The fields whose sorts and exact filters use a folded key.
KEY_FIELDS = frozenset(KEY_LENGTHS)


def catalogue_keys(values: Mapping[str, Any]) -> dict[str, str]:
    """The key columns for the text fields among `values`: {"title": "Ärger"} gives
    {"title_key": "arger"}. Repositories add them to every update (`changes |
    catalogue_keys(changes)`); inserts get them from the column defaults, and
    passing them there as well is harmless."""
    return {
        f"{field}_key": folded_key(field, values[field])
        for field in KEY_FIELDS
        if values.get(field) is not None
    }


def sort_column(table: Table, field: str) -> Any:
    """The column that ORDER BY and keyset cursors use for sort `field`."""
    return table.c[f"{field}_key"] if field in KEY_FIELDS else table.c[field]


def sort_value(field: str, value: Any) -> Any:
    """The cursor value of a row whose `field` holds `value`: its key for text
    fields, the value itself otherwise (pairs with `sort_column`)."""
    return folded_key(field, value) if field in KEY_FIELDS else value


def memory_sort_key(field: str) -> Callable[[Mapping[str, Any]], Any]:
    """The in-memory twin of `sort_column`, for keyset.memory_page(key=...)."""
    if field in KEY_FIELDS:
        return lambda row: folded_key(field, row[field])
    return lambda row: row[field]


def sql_filters(
    table: Table,
    *,
    q: str | None,
    genre: str | None,
    artist: str | None,
    residual: bool = False,
) -> list[ColumnElement[bool]]:
    """WHERE conditions for the exact filters and, for lists sorted by a column
    rather than ranked, for q (see search.sql_matches).

    `residual`: the filters only check rows that another index found (a ranked
    search's buckets). Their keys are then wrapped in COALESCE, which no planner
    can seek on: otherwise SQLite and PostgreSQL drive a search for "love" in
    Jazz from the genre's index and sort every Jazz song, where walking the
    term's index in rank order stops after one page."""
    conditions: list[ColumnElement[bool]] = []

    def key(field: str) -> ColumnElement[Any]:
        column = table.c[f"{field}_key"]
        return func.coalesce(column, column) if residual else column

    if genre is not None:
        conditions.append(key("genre") == folded_key("genre", genre))
    if artist is not None:
        conditions.append(key("artist") == folded_key("artist", artist))
    if q is not None and (matches := sql_matches(table, q)) is not None:
        conditions.append(matches)
    return conditions


def memory_matches(
    row: Mapping[str, Any], *, q: str | None, genre: str | None, artist: str | None
) -> bool:
    """The in-memory twin of `sql_filters` for a row with title, artist, genre, id."""
    if genre is not None and folded_key("genre", row["genre"]) != folded_key("genre", genre):
        return False
    if artist is not None and folded_key("artist", row["artist"]) != folded_key("artist", artist):
        return False
    return q is None or search_rank(row, q) is not None


def genre_keys() -> Subquery:
    """The distinct folded genres (`genre_key`) of songs and albums, as a derived
    table with one column, `genre_key` (a UNION removes the duplicates)."""
    return union(select(songs.c.genre_key.label("genre_key")), select(albums.c.genre_key)).subquery(
        "genre_keys"
    )


def genre_figures(key: Any) -> tuple[Any, Any, Any]:
    """For a folded genre `key` (a column of the enclosing statement): its display
    name, the genre of the lowest-id song (else album) with that key, and its song
    and album counts, as scalar subqueries over the (genre_key, id) indexes."""

    def first_name(table: Table) -> Any:
        return (
            select(table.c.genre)
            .where(table.c.genre_key == key)
            .order_by(table.c.id)
            .limit(1)
            .scalar_subquery()
        )

    def count(table: Table) -> Any:
        return select(func.count()).where(table.c.genre_key == key).scalar_subquery()

    name = func.coalesce(first_name(songs), first_name(albums))
    return name, count(songs), count(albums)
