"""Migration 0003 (folded keys, search terms, exact identities) on SQLite,
PostgreSQL and MariaDB: rows written before it get their keys and terms from
database.text.fold, the schema ends as the models describe it (collations
included), and down and up again restore both ends exactly.
(SQL Server's offline script is checked in tests/sqlserver/.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, text

from database import Base, Database
from database.backfill import BATCH_SIZE
from database.migrate import downgrade, upgrade
from database.search import search_terms
from database.tables import CATALOGUE_FIELDS, folded_key
from database.tests.schema import schema_diff
from database.tests.text_cases import CATALOGUE
from database.types import UTCDateTime, utcnow
from tests.databases import require_server, scratch_database

BEFORE = "0002"
# More songs than one backfill batch, so the batching is exercised.
SONGS = BATCH_SIZE + 37
CODE_POINT_COLLATED = (
    {("songs", f"{field}_key") for field in CATALOGUE_FIELDS}
    | {("albums", f"{field}_key") for field in CATALOGUE_FIELDS}
    | {
        ("song_terms", "term"),
        ("album_terms", "term"),
    }
)
COLLATIONS = {
    "postgresql": "SELECT table_name, column_name, collation_name FROM information_schema.columns"
    " WHERE table_schema = current_schema()",
    "mysql": "SELECT table_name, column_name, collation_name FROM information_schema.columns"
    " WHERE table_schema = DATABASE()",
}
TYPES = {"created_at": UTCDateTime(), "updated_at": UTCDateTime()}
EXACT = {("users", "email"), ("users", "username"), ("login_failures", "throttle_key")}


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'text.db'}"
        return
    with scratch_database(require_server(request.param), "text") as server:
        yield server.render_as_string(hide_password=False)


def old_rows() -> dict[str, list[dict[str, object]]]:
    now = utcnow()
    songs = [
        {"title": title, "artist": artist, "genre": genre, "file_url": "/a.mp3",
         "created_at": now, "updated_at": now}
        for title, artist, genre in (CATALOGUE * (SONGS // len(CATALOGUE) + 1))[:SONGS]
    ]  # fmt: skip
    albums = [
        {"title": title, "artist": artist, "genre": genre, "created_at": now, "updated_at": now}
        for title, artist, genre in CATALOGUE
    ]
    return {"songs": songs, "albums": albums}


def insert_before_the_migration(url: str) -> None:
    """Rows as revision 0002 stores them: no keys, no terms."""
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            for name, rows in old_rows().items():
                table = sa.table(
                    name,
                    *(sa.column(column, TYPES.get(column)) for column in rows[0]),
                )
                connection.execute(sa.insert(table), rows)
    finally:
        database.dispose()


def assert_backfilled(url: str) -> None:
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            for name, owner in (("songs", "song_id"), ("albums", "album_id")):
                table = Base.metadata.tables[name]
                rows = connection.execute(sa.select(table).order_by(table.c.id)).all()
                assert len(rows) == len(old_rows()[name])
                for row in rows:
                    for field in CATALOGUE_FIELDS:
                        assert getattr(row, f"{field}_key") == folded_key(
                            field, getattr(row, field)
                        )
                terms = Base.metadata.tables[f"{name.removesuffix('s')}_terms"]
                stored: dict[int, list[str]] = {}
                for term, row_id in connection.execute(
                    sa.select(terms.c.term, terms.c[owner]).order_by(terms.c[owner], terms.c.term)
                ):
                    stored.setdefault(row_id, []).append(term)
                assert stored == {row.id: search_terms(row.title, row.artist) for row in rows}
    finally:
        database.dispose()


def collations(url: str) -> dict[tuple[str, str], str | None]:
    """(table, column) → collation, for the columns 0003 collates."""
    database = Database(url)
    try:
        if database.backend == "sqlite":
            return {}
        query = COLLATIONS[database.backend]
        with database.engine.connect() as connection:
            found = connection.execute(text(query)).all()
        return {(table, column): collation for table, column, collation in found}
    finally:
        database.dispose()


def assert_collations(url: str) -> None:
    found = collations(url)
    if not found:
        return  # SQLite compares by code point, and has no collations to show
    if "postgresql" in url:
        assert {found[column] for column in CODE_POINT_COLLATED} == {"C"}
    else:
        assert {found[column] for column in CODE_POINT_COLLATED | EXACT} == {"utf8mb4_bin"}


def index_columns(url: str, table: str) -> set[tuple[str, ...]]:
    database = Database(url)
    try:
        return {
            tuple(index["column_names"]) for index in inspect(database.engine).get_indexes(table)
        }
    finally:
        database.dispose()


def test_upgrade_backfills_and_down_and_up_restore_both_ends(url: str) -> None:
    upgrade(url, BEFORE)
    insert_before_the_migration(url)
    old_indexes = index_columns(url, "songs")

    upgrade(url)
    assert_backfilled(url)
    assert schema_diff(url) == []
    assert_collations(url)
    assert ("title_key", "id") in index_columns(url, "songs")

    downgrade(url, BEFORE)
    database = Database(url)
    try:
        inspector = inspect(database.engine)
        assert not {"song_terms", "album_terms"} & set(inspector.get_table_names())
        assert "title_key" not in {column["name"] for column in inspector.get_columns("songs")}
    finally:
        database.dispose()
    assert index_columns(url, "songs") == old_indexes
    if "mysql" in url:
        assert collations(url)[("users", "email")] != "utf8mb4_bin"

    upgrade(url)
    assert_backfilled(url)
    assert schema_diff(url) == []
    assert_collations(url)


def test_a_new_row_gets_its_keys_from_the_column_defaults(url: str) -> None:
    upgrade(url)
    database = Database(url)
    songs = Base.metadata.tables["songs"]
    try:
        with database.engine.begin() as connection:
            connection.execute(
                sa.insert(songs),
                [
                    {"title": "Ärger", "artist": "DIE ÄRZTE", "genre": "Punk", "file_url": "/a",
                     "created_at": utcnow(), "updated_at": utcnow()},
                    {"title": "Halo", "artist": "Beyoncé", "genre": "Pop", "file_url": "/b",
                     "created_at": utcnow(), "updated_at": utcnow()},
                ],
            )  # fmt: skip
            keys = connection.execute(
                sa.select(songs.c.title_key, songs.c.artist_key, songs.c.genre_key).order_by(
                    songs.c.id
                )
            ).all()
    finally:
        database.dispose()
    assert [tuple(row) for row in keys] == [
        ("arger", "die arzte", "punk"),
        ("halo", "beyonce", "pop"),
    ]
