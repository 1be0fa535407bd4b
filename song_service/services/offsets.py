"""Offset paging with an opaque `Link: rel="next"` cursor, for lists whose order
has no stable keyset (top songs by play count, genres). The cursor holds the next
page's offset and names its list, so it cannot be replayed against another."""

from __future__ import annotations

from common.paging import MAX_OFFSET, InvalidCursorError, PageParams, decode_cursor, encode_cursor
from database.keyset import is_row_id


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
