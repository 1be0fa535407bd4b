"""Migration 0004 (the library) on rows, not on an empty schema: every distinct
folded artist name of the existing songs and albums becomes one artist, every
song and album points at it, and down and up again restore both ends, on
SQLite, PostgreSQL and MariaDB (SQL Server's offline script: tests/sqlserver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect

from database import Base, Database
from database.backfill import link_artists
from database.migrate import downgrade, upgrade
from database.search import search_terms
from database.tables import folded_key
from database.tests.schema import schema_diff
from database.types import UTCDateTime, utcnow
from tests.databases import require_server, scratch_database

BEFORE = "0003"
# (title, artist) of the songs, then of the albums, in id order. Case and accents
# differ inside one artist; the first song names it.
SONGS = [
    ("Halo", "Beyoncé"),
    ("Single Ladies", "BEYONCÉ"),
    ("Schrei nach Liebe", "Die Ärzte"),
    ("Hells Bells", "AC/DC"),
    ("Crazy in Love", "beyonce"),
]
ALBUMS = [
    ("Lemonade", "BEYONCÉ"),
    ("Die Bestie in Menschengestalt", "DIE ÄRZTE"),
    ("Kind of Blue", "Miles Davis"),  # an artist only an album names
]
# The artist each folded name becomes, named by its first song, else first album.
EXPECTED_ARTISTS = {"beyonce": "Beyoncé", "die arzte": "Die Ärzte", "ac/dc": "AC/DC",
                    "miles davis": "Miles Davis"}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'library.db'}"
        return
    with scratch_database(require_server(request.param), "library") as server:
        yield server.render_as_string(hide_password=False)


def insert_before_the_migration(url: str) -> None:
    """Songs and albums as revision 0003 stores them: keys, no artist ids."""
    now = utcnow()
    columns = ("title", "artist", "genre", "title_key", "artist_key", "genre_key")

    def row(title: str, artist: str) -> dict[str, object]:
        return {"title": title, "artist": artist, "genre": "Pop",
                "title_key": folded_key("title", title), "artist_key": folded_key("artist", artist),
                "genre_key": "pop", "created_at": now, "updated_at": now}  # fmt: skip

    database = Database(url)
    try:
        with database.engine.begin() as connection:
            for name, rows, extra in (("songs", SONGS, ("file_url",)), ("albums", ALBUMS, ())):
                table = sa.table(
                    name,
                    *(sa.column(column) for column in (*columns, *extra)),
                    sa.column("created_at", UTCDateTime()),
                    sa.column("updated_at", UTCDateTime()),
                )
                values = [row(*pair) | dict.fromkeys(extra, "/a.mp3") for pair in rows]
                connection.execute(sa.insert(table), values)
    finally:
        database.dispose()


def assert_linked(url: str) -> None:
    artists = Base.metadata.tables["artists"]
    terms = Base.metadata.tables["artist_terms"]
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            found = {
                row.name_key: row
                for row in connection.execute(sa.select(artists).order_by(artists.c.id))
            }
            assert {key: row.name for key, row in found.items()} == EXPECTED_ARTISTS
            for row in found.values():
                assert (row.sort_name, row.sort_name_key) == (row.name, row.name_key)
                of_artist = sa.select(terms.c.term).where(terms.c.artist_id == row.id)
                stored = connection.scalars(of_artist.order_by(terms.c.term)).all()
                assert stored == search_terms(row.name, "")
            for name in ("songs", "albums"):
                table = Base.metadata.tables[name]
                for artist, artist_id in connection.execute(
                    sa.select(table.c.artist, table.c.artist_id)
                ):
                    assert artist_id == found[folded_key("artist", artist)].id, (name, artist)
    finally:
        database.dispose()


def test_upgrade_creates_and_links_artists_and_down_and_up_restore_both_ends(url: str) -> None:
    upgrade(url, BEFORE)
    insert_before_the_migration(url)

    upgrade(url)
    assert_linked(url)
    assert schema_diff(url) == []

    downgrade(url, BEFORE)
    database = Database(url)
    try:
        inspector = inspect(database.engine)
        gone = {"artists", "artist_terms", "playlists", "playlist_songs", "plays", "album_likes"}
        assert not gone & set(inspector.get_table_names())
        assert "artist_id" not in {column["name"] for column in inspector.get_columns("songs")}
        with database.engine.connect() as connection:  # the rows themselves stay
            assert connection.scalar(sa.text("SELECT COUNT(*) FROM songs")) == len(SONGS)
            assert connection.scalar(sa.text("SELECT COUNT(*) FROM albums")) == len(ALBUMS)
    finally:
        database.dispose()

    upgrade(url)
    assert_linked(url)
    assert schema_diff(url) == []


def test_the_backfill_links_songs_and_albums_written_without_an_artist(url: str) -> None:
    """Rows an import wrote straight into the tables, without `artist_id`, are linked
    by `python -m database.backfill` (link_artists), artists created as needed."""
    upgrade(url)
    insert_before_the_migration(url)  # the same rows, now without artist ids
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            assert link_artists(connection, batch_size=2) == len(SONGS) + len(ALBUMS)
            assert link_artists(connection) == 0  # nothing left to link
    finally:
        database.dispose()
    assert_linked(url)
