from __future__ import annotations

import pytest

from common.paging import InvalidCursorError, decode_cursor, encode_cursor


def test_cursor_round_trip() -> None:
    values = {"id": 42, "title": "Ünïcode ✓"}
    assert decode_cursor(encode_cursor(values)) == values


@pytest.mark.parametrize("cursor", ["%%%", "W10", "bnVsbA", "eyJ", "a" * 3, "😀"])
def test_malformed_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor)
