"""Paging shared by every list endpoint: limit/offset or an opaque keyset cursor,
and an RFC 8288 `Link: rel="next"` header when more rows exist."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

import orjson
from fastapi import Query, Request, Response
from starlette.datastructures import URL

from common.errors import InvalidInputError
from database.catalogue import sort_value
from database.keyset import (
    After,
    Sort,
    is_cursor_text,
    is_row_id,
    sort_value_from_json,
    sort_value_to_json,
)
from database.search import SearchRank, search_rank

BY_ID = Sort("id")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_OFFSET = 10_000_000


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and the cursor of the next, if there is one."""

    items: list[T]
    next_cursor: str | None


class InvalidCursorError(InvalidInputError):
    def __init__(self) -> None:
        super().__init__(("query", "cursor"), "Invalid cursor: use the one from a Link header")


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursorError from exc
    if not isinstance(values, dict):
        raise InvalidCursorError
    return values


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            pattern=r"^[A-Za-z0-9_-]*$",
            description="Opaque cursor from a `Link` header",
        ),
    ] = None,
) -> PageParams:
    # async although it awaits nothing: a plain def dependency costs every list
    # request a round trip through the threadpool.
    return PageParams(limit=limit, offset=offset, cursor=cursor)


def set_next_link(request: Request, response: Response, next_cursor: str | None) -> None:
    """Point `Link: rel="next"` at the same query with the next cursor (offset dropped).

    The link starts with PUBLIC_BASE_URL when it is set, else with the address the
    connection came in on; never with the Host header, which a client can forge
    to plant links (and poisoned cache entries) pointing at another site."""
    if next_cursor is None:
        return
    query = [
        (name, value)
        for name, value in request.query_params.multi_items()
        if name not in ("cursor", "offset")
    ]
    query.append(("cursor", next_cursor))
    # Without headers, Starlette builds the URL from the socket's own address
    # (or a relative one when there is none).
    url = URL(scope={**request.scope, "headers": []}).replace(query=urlencode(query))
    base = request.app.state.settings.public_base_url
    link = f"{base}{url.path}?{url.query}" if base else str(url)
    response.headers["Link"] = f'<{link}>; rel="next"'


RANK = "rank"  # the cursor's sort name for relevance-ranked search pages


def rank_cursor(rank: SearchRank) -> str:
    """The cursor for the page after a row of a ranked search (database.search)."""
    return encode_cursor({"sort": RANK, "value": [rank.bucket, rank.key], "id": rank.id})


def parse_rank_cursor(cursor: str | None) -> SearchRank | None:
    """A ranked search's cursor back as its SearchRank; InvalidCursorError for any
    other cursor (one from a sorted list, say)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    value, row_id = values.get("value"), values.get("id")
    if (
        values.get("sort") != RANK
        or not is_row_id(row_id)
        or not isinstance(value, list)
        or len(value) != 2
        or not is_row_id(value[0])  # the bucket: a small non-negative integer
        or not is_cursor_text(value[1])
    ):
        raise InvalidCursorError
    return SearchRank(value[0], value[1], row_id)


def page_start(
    page: PageParams, sort: Sort | None, *, ranked: bool, sortable: Mapping[str, type]
) -> tuple[Sort | None, After | SearchRank | None]:
    """Where a catalogue page starts: (None, its SearchRank) for a page ranked by
    relevance, else (the sort, id by default; the After of its keyset cursor).
    `sortable` maps each sort field to its Python type. InvalidCursorError for a
    cursor of another order."""
    if ranked:
        return None, parse_rank_cursor(page.cursor)
    order = sort or BY_ID
    return order, parse_keyset_cursor(page.cursor, order, sortable[order.field])


def cursor_after(row: Mapping[str, Any], sort: Sort | None, q: str | None) -> str:
    """The cursor of the page after catalogue row `row` (its fields by name):
    its SearchRank under `q` when ranked (sort None), else its (sort key, id)."""
    if sort is None:
        rank = search_rank(row, q or "")
        if rank is None:
            raise ValueError("a ranked row that does not match its query")
        return rank_cursor(rank)
    return keyset_cursor(sort, sort_value(sort.field, row[sort.field]), row["id"])


def keyset_cursor(sort: Sort, value: Any, row_id: int) -> str:
    """The cursor for the page after a row; it names its sort, so it cannot be
    replayed against another one."""
    return encode_cursor({"sort": str(sort), "value": sort_value_to_json(value), "id": row_id})


R = TypeVar("R")


def keyset_page(
    rows: Sequence[R], limit: int, sort: Sort, key: Callable[[R], tuple[Any, int]]
) -> tuple[Sequence[R], str | None]:
    """Split `rows`, read with `limit + 1` (one more tells whether a next page
    exists, without a COUNT), into the page shown and the cursor of the next page
    (None on the last). `key(row)` is the row's (sort value, id)."""
    shown = rows[:limit]
    if len(rows) <= limit:
        return shown, None
    value, row_id = key(shown[-1])
    return shown, keyset_cursor(sort, value, row_id)


def parse_keyset_cursor(cursor: str | None, sort: Sort, kind: type) -> After | None:
    """`kind` is the Python type of the sort column (str, int, date, datetime)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    row_id = values.get("id")
    if values.get("sort") != str(sort) or not is_row_id(row_id):
        raise InvalidCursorError
    try:
        return After(sort_value_from_json(values.get("value"), kind), row_id)
    except (TypeError, ValueError) as exc:
        raise InvalidCursorError from exc


# Offset paging with an opaque cursor, for lists whose order has no stable keyset
# (top songs by play count, genres). The cursor holds the next page's offset and
# names its list, so it cannot be replayed against another.


def offset_cursor(name: str, offset: int) -> str:
    """The cursor of the page of list `name` that starts at row `offset`."""
    return encode_cursor({"sort": name, "offset": offset})


def page_offset(page: PageParams, name: str) -> int:
    """Where the page starts: its cursor's offset (none: 0) plus `offset`, which
    skips rows after the cursor as it does for keyset cursors."""
    if page.cursor is None:
        return page.offset
    values = decode_cursor(page.cursor)
    start = values.get("offset")
    if values.get("sort") != name or not is_row_id(start) or start > MAX_OFFSET:
        raise InvalidCursorError
    return start + page.offset
