"""Keyset paging over a sort allow-list, the same for SQL and in-memory repositories.

A page is "rows after (value, id) in (sort column, id) order", so its cost does
not grow with how deep it is. The cursor carries that pair; the id breaks ties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
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


def sort_value_to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def sort_value_from_json(value: Any, kind: type) -> Any:
    """Bring a cursor's value back to the column's Python type; ValueError when it cannot."""
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("cursor timestamps carry an offset")
        return parsed
    if kind is date:
        return date.fromisoformat(value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("not an integer")
    if kind is str and not isinstance(value, str):
        raise ValueError("not a string")
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
