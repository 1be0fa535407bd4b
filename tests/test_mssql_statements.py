"""Everything the product sends to a database also compiles for SQL Server.

The contract tests already compile each statement they cause on SQLite for SQL
Server (tests/contract/conftest.py). This module drives one representative
round of every SQL repository of the four services through the same check, so
the T-SQL coverage does not hinge on which contract tests were selected, and
compiles the whole schema's DDL for SQL Server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.schema import CreateIndex, CreateTable

from album_service.repos.base import AlbumQuery
from album_service.repos.sql import SqlAlbumRepository
from auth_service.repos.base import NewRefreshToken
from auth_service.repos.sql import (
    SqlCredentialRepository,
    SqlLoginFailureRepository,
    SqlRefreshTokenRepository,
)
from database import Base, Database
from database.keyset import After, Sort
from database.types import utcnow
from song_service.repos.base import SongQuery
from song_service.repos.sql import SqlLikeRepository, SqlSongRepository
from tests.contract.conftest import MssqlStatementCheck, mssql_dialect
from user_service.repos.base import DuplicateUserError, NewUser
from user_service.repos.sql import SqlUserRepository

# A floor, not an exact count: it only has to notice the check silently
# compiling nothing (a listener that no longer fires) or the round below losing
# most of its calls. It issues 67 distinct statements today.
MIN_DISTINCT_STATEMENTS = 50


@pytest.fixture
def checked(database: Database) -> Iterator[MssqlStatementCheck]:
    check = MssqlStatementCheck()
    check.attach(database)
    yield check
    check.detach(database)


def test_every_repository_statement_compiles_for_sql_server(
    database: Database, checked: MssqlStatementCheck
) -> None:
    now = utcnow()
    users = SqlUserRepository(database)
    alice = users.add(
        NewUser(
            username="alice",
            email="alice@example.com",
            password_hash="$bcrypt-sha256$hash",
            first_name="Alice",
            last_name=None,
        )
    )
    users.get(alice.id)
    users.get_by_email(alice.email)
    users.list(after_id=None, offset=0, limit=10)
    users.list(after_id=alice.id, offset=1, limit=10)
    users.update(alice.id, {"first_name": "Al", "role": "admin"})
    with pytest.raises(DuplicateUserError):
        users.add(
            NewUser(
                username="bob",
                email=alice.email,
                password_hash="x",
                first_name="Bob",
                last_name=None,
            )
        )

    credentials = SqlCredentialRepository(database)
    credentials.get_by_email(alice.email)
    credentials.get(alice.id)
    credentials.update_password_hash(alice.id, "$bcrypt-sha256$new")

    tokens = SqlRefreshTokenRepository(database)
    token = tokens.add(
        NewRefreshToken(alice.id, "a" * 64, "f" * 32, now + timedelta(days=1)), now=now
    )
    tokens.get_by_hash(token.token_hash)
    tokens.consume(token.id, now=now)
    tokens.revoke(token.token_hash, user_id=alice.id, now=now)
    tokens.revoke_family(token.family_id, now=now)

    failures = SqlLoginFailureRepository(database)
    failures.add(["email:alice", "ip:127.0.0.1"], at=now, prune_before=now - timedelta(hours=1))
    failures.recent(["email:alice", "ip:127.0.0.1"], since=now - timedelta(minutes=15))
    failures.clear("email:alice")

    songs = SqlSongRepository(database)
    song = songs.add(
        {
            "title": "one",
            "artist": "artist",
            "genre": "rock",
            "file_url": "https://cdn.example.com/one.mp3",
        }
    )
    songs.get(song.id)
    songs.update(song.id, {"title": "uno"})

    albums = SqlAlbumRepository(database)
    record = albums.add({"title": "a", "artist": "artist", "genre": "rock"})
    albums.get(record.id)
    albums.update(record.id, {"description": "d"})
    albums.link(record.id, song.id, None)
    albums.link(record.id, song.id, 4)
    albums.tracks(record.id, after=None, offset=0, limit=10)
    albums.tracks(record.id, after=After(1, song.id), offset=1, limit=10)

    # Every filter, sort and keyset combination pages differently.
    for sort in (Sort("id"), Sort("title", descending=True), Sort("created_at")):
        for after in (None, After(getattr(record, sort.field), record.id)):
            albums.list(AlbumQuery(q="a%_", genre="rock", artist="artist", sort=sort))
            albums.list(AlbumQuery(sort=sort, after=after, offset=2, limit=5))
            songs.list(SongQuery(q="u", genre="rock", sort=sort, after=after))
            songs.list(SongQuery(album_id=record.id, sort=sort, after=after))

    likes = SqlLikeRepository(database)
    likes.like(alice.id, song.id)
    likes.like(alice.id, song.id)
    likes.counts([song.id, 404])
    likes.liked_among(alice.id, [song.id])
    likes.liked_songs(alice.id, after=None, offset=0, limit=10)
    likes.liked_songs(alice.id, after=After(now, song.id), offset=1, limit=10)
    likes.unlike(alice.id, song.id)

    albums.unlink(record.id, song.id)
    albums.delete(record.id)
    songs.delete(song.id)
    users.delete(alice.id)

    assert checked.failures == []
    assert len(checked.statements) >= MIN_DISTINCT_STATEMENTS, sorted(checked.statements)


def test_the_schema_ddl_compiles_for_sql_server() -> None:
    dialect = mssql_dialect()
    for table in Base.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=dialect))
        # IDENTITY is how SQL Server numbers rows; without it inserts need ids.
        if "id" in table.c and table.c.id.autoincrement is True:
            assert "IDENTITY" in ddl, ddl
        for index in table.indexes:
            assert index.name, f"{table.name}: an unnamed index cannot be dropped by name"
            CreateIndex(index).compile(dialect=dialect)
