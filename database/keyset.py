"""Keyset paging over a sort allow-list, the same for SQL and in-memory repositories.

A page is "rows after (value, id) in (sort column, id) order", so its cost does
not grow with how deep it is. The cursor carries that pair; the id breaks ties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.sql.elements import UnaryExpression


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = False

    @classmethod
    def parse(cls, value: str) -> Sort:
        return cls(value.removeprefix("-"), value.startswith("-"))

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else self.field


@dataclass(frozen=True)
class After:
    """The last row of the previous page: its sort value and its id."""

    value: Any
    id: int


# A cursor is client input: what it carries must be a value every database takes
# (a BIGINT, text without NUL, a timestamp that exists in UTC) or the database's
# own refusal would be the answer.
MAX_BIGINT = 2**63 - 1


def is_row_id(value: Any) -> bool:
    """Whether a cursor's id can be a row id (JSON `true` is not 1 here)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_BIGINT


def is_cursor_text(value: Any) -> bool:
    """Whether a cursor's text can be compared by every database (no NUL)."""
    return isinstance(value, str) and "\x00" not in value


def sort_value_to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def sort_value_from_json(value: Any, kind: type) -> Any:
    """Bring a cursor's value back to the column's Python type; ValueError when it
    cannot, or when the database could not take it (see MAX_BIGINT)."""
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("cursor timestamps carry an offset")
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:  # 0001-01-01T00:00+14:00 is before year 1 in UTC
            raise ValueError("cursor timestamp out of range") from exc
    if kind is date:
        return date.fromisoformat(value)
    if kind is int and not is_row_id(value):
        raise ValueError("not a row id")
    if kind is str and not is_cursor_text(value):
        raise ValueError("not a string without NUL")
    return value


# SQL ------------------------------------------------------------------------


def sql_order(column: Any, id_column: Any, sort: Sort) -> list[UnaryExpression[Any]]:
    if column is id_column:
        return [id_column.desc() if sort.descending else id_column.asc()]
    if sort.descending:
        return [column.desc(), id_column.desc()]
    return [column.asc(), id_column.asc()]


def sql_after(column: Any, id_column: Any, sort: Sort, after: After) -> ColumnElement[bool]:
    if column is id_column:
        return id_column < after.id if sort.descending else id_column > after.id
    # Written as "col >= v AND (col > v OR id > x)" rather than the textbook
    # "col > v OR (col = v AND id > x)": the leading range lets every planner seek
    # the (col, id) index instead of scanning it. Row values, "(col, id) > (v, x)",
    # would say the same but SQL Server has none.
    if sort.descending:
        return and_(column <= after.value, or_(column < after.value, id_column < after.id))
    return and_(column >= after.value, or_(column > after.value, id_column > after.id))


# In memory ------------------------------------------------------------------


def memory_page(
    rows: Iterable[Mapping[str, Any]],
    sort: Sort,
    after: After | None,
    offset: int,
    limit: int,
    key: Callable[[Mapping[str, Any]], Any] | None = None,
) -> list[Mapping[str, Any]]:
    """What the SQL query returns, computed over plain rows."""
    value_of = key or (lambda row: row[sort.field])
    ordered = sorted(rows, key=lambda row: (value_of(row), row["id"]), reverse=sort.descending)
    if after is not None:
        boundary = (after.value, after.id)
        if sort.descending:
            ordered = [row for row in ordered if (value_of(row), row["id"]) < boundary]
        else:
            ordered = [row for row in ordered if (value_of(row), row["id"]) > boundary]
    return ordered[offset : offset + limit]
