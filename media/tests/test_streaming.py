"""media.streaming: the Range parser (RFC 9110, 14) and Content-Disposition
(RFC 6266). The responses themselves are tested over HTTP with real files in
song_service/tests/test_stream_api.py and through nginx in tests/deploy."""

from __future__ import annotations

import pytest

from media.streaming import Unsatisfiable, content_disposition, parse_ranges, strong_etag

SIZE = 10_000


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        ("bytes=0-0", [(0, 1)]),
        ("bytes=0-1", [(0, 2)]),
        ("bytes=9999-9999", [(9999, 10000)]),
        ("bytes=9999-", [(9999, 10000)]),
        ("bytes=-500", [(9500, 10000)]),
        ("bytes=-20000", [(0, 10000)]),
        ("bytes=100-199", [(100, 200)]),
        ("bytes=0-99999", [(0, 10000)]),
        ("bytes=5000-,-10", [(5000, 10000)]),  # merged: the suffix lies inside
        ("bytes=0-9, 20-29", [(0, 10), (20, 30)]),
        ("bytes=20-29,0-9", [(0, 10), (20, 30)]),
        ("bytes=0-9,10-19", [(0, 20)]),  # adjacent: coalesced
        ("bytes=0-9,,20-29,", [(0, 10), (20, 30)]),  # empty list elements are allowed
        ("bytes=0-9, 10000-", [(0, 10)]),  # the unsatisfiable range is dropped
        ("Bytes = 1-2", [(1, 3)]),
        ("bytes=\t1-2 ", [(1, 3)]),
    ],
)
def test_ranges(header: str, ranges: list[tuple[int, int]]) -> None:
    assert parse_ranges(header, SIZE) == ranges


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc", "bytes=5-3", "bytes=", "bytes=-", "bytes=,", "items=0-1", "0-1", "bytes 0-1",
        "bytes=1-2-3", "bytes=+1-2", "bytes=1 -2", "bytes=0x10-", "bytes=1-2,5-3",
        "bytes=\u0661-\u0662",
        "bytes=" + ",".join(["0-1"] * 101),
    ],
)  # fmt: skip
def test_malformed_or_invalid_range_headers_are_ignored(header: str) -> None:
    assert parse_ranges(header, SIZE) is None


@pytest.mark.parametrize(
    "header", ["bytes=10000-", "bytes=20000-30000", "bytes=-0", "bytes=-0,99999-"]
)
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(Unsatisfiable) as caught:
        parse_ranges(header, SIZE)
    assert caught.value.max_size == SIZE


def test_an_empty_file_satisfies_no_range() -> None:
    for header in ("bytes=0-", "bytes=-5", "bytes=0-0"):
        with pytest.raises(Unsatisfiable):
            parse_ranges(header, 0)


def test_content_disposition() -> None:
    assert content_disposition("Band - Song.ogg") == 'attachment; filename="Band - Song.ogg"'
    assert content_disposition('a"b\\c.mp3', "inline") == 'inline; filename="a_b_c.mp3"; ' + (
        "filename*=UTF-8''a%22b%5Cc.mp3"
    )
    assert content_disposition("Björk \u2013 Jóga.flac") == (
        'attachment; filename="Bj_rk _ J_ga.flac"; '
        "filename*=UTF-8''Bj%C3%B6rk%20%E2%80%93%20J%C3%B3ga.flac"
    )
    assert content_disposition("日本") == (
        "attachment; filename=\"__\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"
    )


def test_strong_etag() -> None:
    assert strong_etag("ab" * 32) == f'"{"ab" * 32}"'
    assert strong_etag("ab" * 32, "mp3-128") == f'"{"ab" * 32}-mp3-128"'
