from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.paging import (
    InvalidCursorError,
    decode_cursor,
    encode_cursor,
    parse_keyset_cursor,
    parse_rank_cursor,
)
from database.keyset import Sort


def test_cursor_round_trip() -> None:
    values = {"id": 42, "title": "Ünïcode ✓"}
    assert decode_cursor(encode_cursor(values)) == values


@pytest.mark.parametrize("cursor", ["%%%", "W10", "bnVsbA", "eyJ", "a" * 3, "😀"])
def test_malformed_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor)


# A cursor is client input that reaches the database: a value no database takes
# (beyond BIGINT, text with NUL, a timestamp before year 1 in UTC, `true` for an
# id) is the client's mistake, a 422, never the database's refusal as a 500.
BEYOND_BIGINT = 2**63


@pytest.mark.parametrize(
    ("sort", "kind", "values"),
    [
        ("id", int, {"value": 1, "id": True}),
        ("id", int, {"value": BEYOND_BIGINT, "id": 1}),
        ("id", int, {"value": 1, "id": BEYOND_BIGINT}),
        ("id", int, {"value": 1, "id": -1}),
        ("title", str, {"value": "a\x00b", "id": 1}),
        ("created_at", datetime, {"value": "0001-01-01T00:00:00+14:00", "id": 1}),
        ("created_at", datetime, {"value": "2026-01-01T00:00:00", "id": 1}),
    ],
    ids=[
        "bool id",
        "value beyond bigint",
        "id beyond bigint",
        "negative id",
        "NUL",
        "timestamp before year 1 in UTC",
        "timestamp without offset",
    ],
)
def test_keyset_cursors_carrying_values_no_database_takes_are_refused(
    sort: str, kind: type, values: dict[str, object]
) -> None:
    cursor = encode_cursor({"sort": sort, **values})
    with pytest.raises(InvalidCursorError):
        parse_keyset_cursor(cursor, Sort(sort), kind)


@pytest.mark.parametrize(
    "value",
    [[0, "a\x00"], [True, "a"], [BEYOND_BIGINT, "a"], [0, 1]],
    ids=["NUL", "bool bucket", "bucket beyond bigint", "key not text"],
)
def test_ranked_cursors_carrying_values_no_database_takes_are_refused(value: list[object]) -> None:
    with pytest.raises(InvalidCursorError):
        parse_rank_cursor(encode_cursor({"sort": "rank", "value": value, "id": 1}))


def test_a_cursor_timestamp_comes_back_in_utc() -> None:
    cursor = encode_cursor({"sort": "created_at", "value": "2026-01-01T02:00:00+02:00", "id": 1})
    after = parse_keyset_cursor(cursor, Sort("created_at"), datetime)
    assert after is not None
    assert after.value == datetime(2026, 1, 1, tzinfo=UTC)
    assert after.value.tzinfo is UTC
