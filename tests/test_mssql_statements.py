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
from sqlalchemy import insert, select
from sqlalchemy.schema import CreateIndex, CreateTable

from album_service.repos.base import AlbumQuery
from album_service.repos.sql import SqlAlbumUnitOfWork
from auth_service.repos.base import NewRefreshToken
from auth_service.repos.sql import SqlAuthUnitOfWork
from database import Base, Database
from database.backfill import backfill_text
from database.catalogue import sort_column, sql_filters
from database.keyset import After, Sort, sql_after, sql_order
from database.search import SearchRank, sql_search, sql_search_page, sync_terms
from database.types import utcnow
from song_service.repos.base import SongQuery
from song_service.repos.sql import SqlSongUnitOfWork
from tests.contract.conftest import MssqlStatementCheck, mssql_dialect
from user_service.repos.base import DuplicateUserError, NewUser
from user_service.repos.sql import SqlUserUnitOfWork

# A floor, not an exact count: it only has to notice the check silently
# compiling nothing (a listener that no longer fires) or the round below losing
# most of its calls. It issues 83 distinct statements today.
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
    """One unit of work per service, committed, as the service methods run them."""
    now = utcnow()
    with SqlUserUnitOfWork(database, write=True) as uow:
        users = uow.users
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
        users.update(alice.id, {"last_name": "L"}, revoke_sessions=True)
        users.update(
            alice.id, {"password_hash": "$bcrypt-sha256$h2"}, if_password_hash=alice.password_hash
        )
        uow.commit()
    # A unique-key refusal rolls back its whole unit, so it gets one of its own.
    with pytest.raises(DuplicateUserError), SqlUserUnitOfWork(database, write=True) as uow:
        uow.users.add(
            NewUser(
                username="bob",
                email=alice.email,
                password_hash="x",
                first_name="Bob",
                last_name=None,
            )
        )

    with SqlAuthUnitOfWork(database, write=True) as uow:
        uow.credentials.get_by_email(alice.email)
        uow.credentials.get(alice.id)
        uow.credentials.update_password_hash(alice.id, "$bcrypt-sha256$new")
        tokens = uow.refresh_tokens
        token = tokens.add(
            NewRefreshToken(alice.id, "a" * 64, "f" * 32, now + timedelta(days=1), 1), now=now
        )
        tokens.prune_expired(alice.id, now=now)
        tokens.get_for_update(token.token_hash)
        tokens.mark_used(token.id, now=now)
        tokens.revoke(token.token_hash, user_id=alice.id, now=now)
        tokens.revoke_family(token.family_id, now=now)
        tokens.revoke_user(alice.id, now=now)
        failures = uow.login_failures
        row_ids = failures.add(["email:alice", "ip:127.0.0.1"], at=now)
        failures.recent(["email:alice", "ip:127.0.0.1"], since=now - timedelta(minutes=15))
        failures.discard(row_ids[:1])
        failures.prune(before=now - timedelta(hours=1), limit=100)
        failures.clear("email:alice")
        uow.commit()

    with SqlSongUnitOfWork(database, write=True) as uow:
        song = uow.songs.add(
            {
                "title": "one",
                "artist": "artist",
                "genre": "rock",
                "file_url": "https://cdn.example.com/one.mp3",
            }
        )
        uow.songs.get(song.id)
        uow.songs.get_view(song.id, alice.id)
        uow.songs.get_view(song.id, None)
        uow.songs.update(song.id, {"title": "uno"})
        uow.commit()

    with SqlAlbumUnitOfWork(database, write=True) as uow:
        albums = uow.albums
        record = albums.add({"title": "a", "artist": "artist", "genre": "rock"})
        albums.get(record.id)
        albums.update(record.id, {"description": "d"})
        albums.link(record.id, song.id, None)
        albums.link(record.id, song.id, 4)
        albums.tracks(record.id, after=None, offset=0, limit=10)
        albums.tracks(record.id, after=After(1, song.id), offset=1, limit=10)
        uow.commit()

    # Every filter, sort and keyset combination pages differently.
    with SqlAlbumUnitOfWork(database) as album_uow, SqlSongUnitOfWork(database) as song_uow:
        for sort in (Sort("id"), Sort("title", descending=True), Sort("created_at")):
            for after in (None, After(getattr(record, sort.field), record.id)):
                album_uow.albums.list(AlbumQuery(q="a%_", genre="rock", artist="artist", sort=sort))
                album_uow.albums.list(AlbumQuery(sort=sort, after=after, offset=2, limit=5))
                for viewer in (None, alice.id):
                    song_uow.songs.list_views(
                        SongQuery(q="u", genre="rock", sort=sort, after=after), viewer
                    )
                    song_uow.songs.list_views(
                        SongQuery(album_id=record.id, sort=sort, after=after), viewer
                    )
                    song_uow.songs.list_views(SongQuery(sort=sort, after=after), viewer)

    with SqlSongUnitOfWork(database, write=True) as uow:
        likes = uow.likes
        likes.like(alice.id, song.id)
        likes.like(alice.id, song.id)
        likes.counts([song.id, 404])
        likes.liked_songs(alice.id, after=None, offset=0, limit=10)
        likes.liked_songs(alice.id, after=After(now, song.id), offset=1, limit=10)
        likes.unlike(alice.id, song.id)
        uow.commit()

    with SqlAlbumUnitOfWork(database, write=True) as uow:
        uow.albums.unlink(record.id, song.id)
        uow.albums.delete(record.id)
        uow.commit()
    with SqlSongUnitOfWork(database, write=True) as uow:
        uow.songs.delete(song.id)
        uow.commit()
    with SqlUserUnitOfWork(database, write=True) as uow:
        uow.users.delete(alice.id)
        uow.commit()

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


def test_text_search_and_key_statements_compile_for_sql_server(
    database: Database, checked: MssqlStatementCheck
) -> None:
    """database.search and database.catalogue: every shape a repository will send
    (each bucket as the keyset position, filters, a wordless q, an empty q), the
    terms upkeep and the backfill, executed on SQLite under the check."""
    for name in ("songs", "albums"):
        table = Base.metadata.tables[name]
        values = {"title": "Ghost Love", "artist": "Beyoncé", "genre": "Jazz"}
        if name == "songs":
            values["file_url"] = "https://cdn.example.com/a.mp3"
        with database.connect(write=True) as connection:
            row_id = connection.execute(insert(table).values(values)).inserted_primary_key[0]
            sync_terms(connection, table, row_id, "Ghost Love", "Beyoncé")
            sync_terms(connection, name, row_id, "Ghost Story", "Beyoncé")
            backfill_text(connection)
            connection.commit()
        where = sql_filters(table, q=None, genre="jazz", artist="beyonce")
        with database.connect() as connection:
            for q in ("ghost lo", "love", "/", "", "ghost zzzqx"):
                connection.execute(sql_search(table, q, offset=0, limit=20))
                connection.execute(sql_search(table, q, offset=5, limit=20, where=where))
                for bucket in (0, 1, 2):
                    after = SearchRank(bucket, "ghost", row_id)
                    connection.execute(sql_search(table, q, limit=20, after=after))
                page = sql_search_page(select(table.c.id, table.c.title), table, q, limit=10)
                connection.execute(page)
                connection.execute(
                    select(table.c.id)
                    .where(*sql_filters(table, q=q, genre="Jazz", artist=None))
                    .order_by(table.c.id)
                    .offset(2)
                    .limit(10)
                )
            for field in ("title", "artist", "genre", "created_at"):
                sort = Sort(field, descending=field == "artist")
                column = sort_column(table, field)
                after = After("ghost" if field != "created_at" else utcnow(), row_id)
                connection.execute(
                    select(table.c.id)
                    .where(sql_after(column, table.c.id, sort, after))
                    .order_by(*sql_order(column, table.c.id, sort))
                    .limit(10)
                )
    assert checked.failures == []
