"""database.text and the in-memory side of database.search / database.catalogue,
on the shared table of cases (text_cases.py); tests/contract/test_text.py holds
every database to the same table."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from database.catalogue import catalogue_keys, memory_matches, memory_sort_key, sort_value
from database.keyset import After, Sort, memory_page
from database.search import SearchRank, memory_search, parse_query, search_rank, search_terms
from database.tests.text_cases import CATALOGUE, EMAILS, FILTERS, FOLDS, SEARCHES, TITLE_ORDER
from database.text import canonical_email, fit, fold, fold_words, nfc, prefix_end


@pytest.mark.parametrize(("spellings", "folded"), FOLDS)
def test_spellings_fold_alike(spellings: list[str], folded: str) -> None:
    assert [fold(spelling) for spelling in spellings] == [folded] * len(spellings)


@pytest.mark.parametrize(("given_email", "stored"), EMAILS)
def test_emails_are_trimmed_nfc_lower_cased(given_email: str, stored: str) -> None:
    assert canonical_email(given_email) == stored


def test_accented_and_plain_emails_stay_two_addresses() -> None:
    assert canonical_email("josé@example.com") != canonical_email("jose@example.com")


def test_nfc() -> None:
    assert nfc("e\u0301") == "é" == nfc("é")


def test_titles_sort_by_their_folded_key() -> None:
    titles, expected = TITLE_ORDER
    assert sorted(titles, key=fold) == expected
    rows = [{"id": i, "title": title} for i, title in enumerate(titles, 1)]
    ordered = memory_page(rows, Sort("title"), None, 0, 10, key=memory_sort_key("title"))
    assert [row["title"] for row in ordered] == expected


@given(st.text())
def test_fold_is_idempotent_and_leaves_no_padding(value: str) -> None:
    folded = fold(value)
    assert fold(folded) == folded
    assert folded == folded.strip() and "  " not in folded
    assert all(char >= " " for char in folded)  # MariaDB PAD SPACE sees no difference


def test_words_split_on_punctuation_and_join_apostrophes() -> None:
    assert fold_words("Guns N' Roses") == ["guns", "n", "roses"]
    assert fold_words("Don't stop, DON\u2019T!") == ["dont", "stop"]
    assert fold_words("AC/DC — 100% Live") == ["ac", "dc", "100", "live"]
    assert fold_words("!!!") == []


def test_fit_counts_utf16_units_and_drops_a_trailing_space() -> None:
    assert fit("abc", 3) == "abc"
    assert fit("ab c", 3) == "ab"
    assert fit("a\U0001f600b", 2) == "a"  # the emoji takes two units on SQL Server
    assert fit("a\U0001f600b", 3) == "a\U0001f600"


@given(st.text(min_size=1), st.text(), st.booleans())
def test_prefix_range_means_starts_with(prefix: str, other: str, extend: bool) -> None:
    value = prefix + other if extend else other
    end = prefix_end(prefix)
    assert (prefix <= value and (end is None or value < end)) == value.startswith(prefix)


def test_prefix_end_edges() -> None:
    assert prefix_end("ab") == "ac"
    assert prefix_end("") is None
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\ud7ff") == "\ue000"  # no surrogate is ever bound


def test_parse_query_keeps_the_words_no_other_word_implies() -> None:
    parsed = parse_query("Lo LOVE ghost g")
    assert parsed.words == ("ghost", "love")
    assert parsed.driver == "ghost"
    assert parsed.folded == "lo love ghost g"


def test_keys_and_terms_of_a_row() -> None:
    assert catalogue_keys({"title": "Ärger", "genre": "JAZZ", "file_url": "x"}) == {
        "title_key": "arger",
        "genre_key": "jazz",
    }
    assert catalogue_keys({"title": "x" * 100 + "\ufdfa" * 10})["title_key"] == fit(
        fold("x" * 100 + "\ufdfa" * 10), 200
    )
    assert search_terms("Die Ärzte", "die ÄRZTE") == ["arzte", "die"]
    assert sort_value("title", "Ärger") == "arger"
    assert sort_value("created_at", 5) == 5


def catalogue_rows() -> list[dict[str, Any]]:
    return [
        {"id": number, "title": title, "artist": artist, "genre": genre}
        for number, (title, artist, genre) in enumerate(CATALOGUE, 1)
    ]


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_memory_search_ranks(q: str, expected: list[int]) -> None:
    rows = catalogue_rows()
    assert [row["id"] for row in memory_search(rows, q)] == expected
    assert [row["id"] for row in rows if memory_matches(row, q=q, genre=None, artist=None)] == (
        sorted(expected)
    )


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_memory_search_pages_alike_by_offset_and_by_rank(q: str, expected: list[int]) -> None:
    rows = catalogue_rows()
    by_offset = [
        row["id"]
        for start in range(0, 20, 3)
        for row in memory_search(rows, q, offset=start, limit=3)
    ]
    by_rank: list[int] = []
    after: SearchRank | None = None
    while page := memory_search(rows, q, limit=3, after=after):
        by_rank += [row["id"] for row in page]
        after = search_rank(page[-1], q)
    assert by_offset == by_rank == expected


@pytest.mark.parametrize(("genre", "artist", "expected"), FILTERS)
def test_memory_exact_filters(genre: str | None, artist: str | None, expected: list[int]) -> None:
    rows = catalogue_rows()
    found = [row["id"] for row in rows if memory_matches(row, q=None, genre=genre, artist=artist)]
    assert found == expected


def test_memory_keyset_by_title_resumes_after_the_key() -> None:
    rows = catalogue_rows()
    ordered = memory_page(rows, Sort("title"), None, 0, 100, key=memory_sort_key("title"))
    middle = ordered[5]
    after = After(sort_value("title", middle["title"]), middle["id"])
    rest = memory_page(rows, Sort("title"), after, 0, 100, key=memory_sort_key("title"))
    assert rest == ordered[6:]
