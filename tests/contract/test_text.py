"""Text means the same on every backend (API.md, "Text: one meaning on every
database"): the table of cases in database/tests/text_cases.py, run through
database.search and database.catalogue on memory, SQLite, PostgreSQL and MariaDB,
must give the same ids in the same order everywhere.

Rows are written as a repository will write them: an insert (whose column
defaults store the keys), then `sync_terms` in the same transaction.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError

from database.catalogue import (
    catalogue_keys,
    memory_matches,
    memory_sort_key,
    sort_column,
    sort_value,
    sql_filters,
)
from database.keyset import After, Sort, memory_page, sql_after, sql_order
from database.models import Base
from database.search import (
    SearchRank,
    memory_search,
    search_rank,
    sql_search,
    sql_search_page,
    sync_terms,
)
from database.tests.text_cases import CATALOGUE, FILTERS, SEARCHES, TITLE_ORDER
from database.writes import insert_stamped
from tests.contract.conftest import Backend

CATALOGUE_TABLES = ["songs", "albums"]


def add(backend: Backend, table_name: str, title: str, artist: str, genre: str) -> int:
    values: dict[str, Any] = {"title": title, "artist": artist, "genre": genre}
    if table_name == "songs":
        values["file_url"] = "https://cdn.example.com/a.mp3"
    if backend.memory is not None:
        return backend.insert(table_name, **values)
    assert backend.database is not None
    table = Base.metadata.tables[table_name]
    with backend.database.connect(write=True) as connection:
        row_id = insert_stamped(connection, table, values)
        sync_terms(connection, table, row_id, title, artist)
        connection.commit()
    return row_id


@pytest.fixture(params=CATALOGUE_TABLES)
def catalogue(request: pytest.FixtureRequest, backend: Backend) -> str:
    for title, artist, genre in CATALOGUE:
        add(backend, request.param, title, artist, genre)
    return request.param


def rows(backend: Backend, table_name: str) -> list[dict[str, Any]]:
    assert backend.memory is not None
    return list(getattr(backend.memory, table_name).values())


def search(
    backend: Backend,
    table_name: str,
    q: str,
    *,
    offset: int = 0,
    limit: int = 100,
    after: SearchRank | None = None,
    genre: str | None = None,
) -> list[SearchRank]:
    if backend.memory is not None:
        found = [
            row
            for row in rows(backend, table_name)
            if memory_matches(row, q=None, genre=genre, artist=None)
        ]
        page = memory_search(found, q, offset=offset, limit=limit, after=after)
        return [rank for row in page if (rank := search_rank(row, q)) is not None]
    assert backend.database is not None
    table = Base.metadata.tables[table_name]
    where = sql_filters(table, q=None, genre=genre, artist=None)
    statement = sql_search(table, q, offset=offset, limit=limit, after=after, where=where)
    with backend.database.connect() as connection:
        found = connection.execute(statement).all()
    return [SearchRank(row.bucket, row.rank_key, row.id) for row in found]


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_search_ranks_alike_everywhere(
    backend: Backend, catalogue: str, q: str, expected: list[int]
) -> None:
    found = search(backend, catalogue, q)
    assert [rank.id for rank in found] == expected
    # The ranks themselves are the cursors, so they must agree too.
    memory = [search_rank(row, q) for row in _catalogue_rows()]
    assert found == sorted(rank for rank in memory if rank is not None)


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_search_pages_by_offset_and_by_rank(
    backend: Backend, catalogue: str, q: str, expected: list[int]
) -> None:
    by_offset = [
        rank.id
        for start in range(0, 20, 3)
        for rank in search(backend, catalogue, q, offset=start, limit=3)
    ]
    by_rank: list[int] = []
    after: SearchRank | None = None
    while page := search(backend, catalogue, q, limit=3, after=after):
        by_rank += [rank.id for rank in page]
        after = page[-1]
    assert by_offset == by_rank == expected


def test_search_within_an_exact_filter(backend: Backend, catalogue: str) -> None:
    assert [rank.id for rank in search(backend, catalogue, "ghost", genre="JAZZ")] == [6, 5, 7]


@pytest.mark.parametrize(("genre", "artist", "expected"), FILTERS)
def test_exact_filters_compare_folded_keys(
    backend: Backend, catalogue: str, genre: str | None, artist: str | None, expected: list[int]
) -> None:
    assert filtered(backend, catalogue, q=None, genre=genre, artist=artist) == expected


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_q_as_a_filter_finds_what_search_ranks(
    backend: Backend, catalogue: str, q: str, expected: list[int]
) -> None:
    assert filtered(backend, catalogue, q=q, genre=None, artist=None) == sorted(expected)


def filtered(
    backend: Backend, table_name: str, *, q: str | None, genre: str | None, artist: str | None
) -> list[int]:
    if backend.memory is not None:
        return [
            row["id"]
            for row in rows(backend, table_name)
            if memory_matches(row, q=q, genre=genre, artist=artist)
        ]
    assert backend.database is not None
    table = Base.metadata.tables[table_name]
    statement = select(table.c.id).where(*sql_filters(table, q=q, genre=genre, artist=artist))
    with backend.database.connect() as connection:
        return list(connection.scalars(statement.order_by(table.c.id)))


@pytest.mark.parametrize("field", ["title", "artist", "genre"])
@pytest.mark.parametrize("descending", [False, True])
def test_text_sorts_and_cursors_use_the_folded_key(
    backend: Backend, catalogue: str, field: str, descending: bool
) -> None:
    sort = Sort(field, descending)
    everything = sorted_page(backend, catalogue, sort, None, limit=100)
    key = memory_sort_key(field)
    expected = sorted(_catalogue_rows(), key=lambda row: (key(row), row["id"]), reverse=descending)
    assert everything == [row["id"] for row in expected]
    pages: list[int] = []
    after: After | None = None
    while page := sorted_page(backend, catalogue, sort, after, limit=4):
        pages += page
        last = expected[pages.index(page[-1])]
        after = After(sort_value(field, last[field]), last["id"])
    assert pages == everything


def sorted_page(
    backend: Backend, table_name: str, sort: Sort, after: After | None, *, limit: int
) -> list[int]:
    if backend.memory is not None:
        page = memory_page(
            rows(backend, table_name), sort, after, 0, limit, key=memory_sort_key(sort.field)
        )
        return [row["id"] for row in page]
    assert backend.database is not None
    table = Base.metadata.tables[table_name]
    column = sort_column(table, sort.field)
    statement = select(table.c.id)
    if after is not None:
        statement = statement.where(sql_after(column, table.c.id, sort, after))
    statement = statement.order_by(*sql_order(column, table.c.id, sort)).limit(limit)
    with backend.database.connect() as connection:
        return list(connection.scalars(statement))


def test_the_title_order_of_the_brief(backend: Backend) -> None:
    titles, expected = TITLE_ORDER
    for title in titles:
        add(backend, "albums", title, "artist", "genre")
    ids = sorted_page(backend, "albums", Sort("title"), None, limit=10)
    assert [titles[row_id - 1] for row_id in ids] == expected


def test_updates_rewrite_keys_and_terms(backend: Backend) -> None:
    song = add(backend, "songs", "Ghost", "Nobody", "Jazz")
    changes = {"title": "Ärger im Paradies", "genre": "Punk"}
    if backend.memory is not None:
        backend.memory.songs[song].update(changes)
    else:
        assert backend.database is not None
        table: Table = Base.metadata.tables["songs"]
        with backend.database.connect(write=True) as connection:
            connection.execute(
                update(table).where(table.c.id == song).values(changes | catalogue_keys(changes))
            )
            sync_terms(connection, table, song, changes["title"], "Nobody")
            connection.commit()
    assert [rank.id for rank in search(backend, "songs", "ghost")] == []
    assert [rank.id for rank in search(backend, "songs", "arger para")] == [song]
    assert [rank.id for rank in search(backend, "songs", "nobody")] == [song]
    assert filtered(backend, "songs", q=None, genre="PUNK", artist=None) == [song]


def test_deleting_a_row_deletes_its_terms(backend: Backend) -> None:
    song = add(backend, "songs", "Ghost", "Nobody", "Jazz")
    backend.delete("songs", song)
    assert search(backend, "songs", "ghost") == []
    if backend.database is not None:
        terms = Base.metadata.tables["song_terms"]
        with backend.database.connect() as connection:
            assert connection.scalars(select(terms.c.term)).all() == []


@pytest.mark.parametrize(
    ("first", "second"),
    [("josé@example.com", "jose@example.com"), ("Alice", "alice"), ("Beyonce", "Beyoncé")],
)
def test_identities_that_differ_stay_two_accounts(
    backend: Backend, first: str, second: str
) -> None:
    column = "email" if "@" in first else "username"
    other = "username" if column == "email" else "email"
    ids = [
        backend.insert(
            "users", **{column: value, other: f"u{i}@example.com" if other == "email" else f"u{i}"},
            password_hash="x", first_name="F", role="user",
        )
        for i, value in enumerate((first, second))
    ]  # fmt: skip
    assert len(set(ids)) == 2
    if backend.database is None:
        return
    users = Base.metadata.tables["users"]
    with backend.database.connect() as connection:
        for row_id, value in zip(ids, (first, second), strict=True):
            found = connection.scalars(select(users.c.id).where(users.c[column] == value)).all()
            assert found == [row_id]
        # The binary collation holds the unique constraint to exact strings only.
    with pytest.raises(IntegrityError):
        backend.insert(
            "users", **{column: first, other: "again@example.com" if other == "email" else "again"},
            password_hash="x", first_name="F", role="user",
        )  # fmt: skip


def test_sql_search_page_returns_the_rows_in_rank_order(backend: Backend, catalogue: str) -> None:
    if backend.database is None:
        pytest.skip("a SQL statement")
    table = Base.metadata.tables[catalogue]
    statement = sql_search_page(select(table.c.id, table.c.title), table, "ghost", limit=3)
    with backend.database.connect() as connection:
        found = connection.execute(statement).all()
    expected = [(6, "Ghost"), (14, "ghost"), (5, "Ghost Love")]
    assert [(row.id, row.title) for row in found] == expected
    assert SearchRank(found[-1].bucket, found[-1].rank_key, found[-1].id) == SearchRank(
        1, "ghost love", 5
    )


def _catalogue_rows() -> list[dict[str, Any]]:
    return [
        {"id": number, "title": title, "artist": artist, "genre": genre}
        for number, (title, artist, genre) in enumerate(CATALOGUE, 1)
    ]
