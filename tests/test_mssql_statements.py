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
from song_service.repos.playlists_base import PlaylistQuery
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


def test_playlist_statements_compile_for_sql_server(
    database: Database, checked: MssqlStatementCheck
) -> None:
    """Every statement of song_service's playlists, as the service runs them: the
    figures' correlated subqueries (TOP 1 ... ORDER BY for the cover), the locks,
    the two-step renumbering, the song delete that closes gaps, every list shape."""
    with SqlUserUnitOfWork(database, write=True) as uow:
        owner = uow.users.add(
            NewUser(
                username="lister",
                email="lister@example.com",
                password_hash="$bcrypt-sha256$hash",
                first_name="L",
                last_name=None,
            )
        )
        uow.commit()
    with SqlSongUnitOfWork(database, write=True) as uow:
        song = {"artist": "a", "genre": "g", "file_url": "/p.mp3"}
        song_ids = [uow.songs.add({**song, "title": f"p{i}"}).id for i in range(3)]
        playlists = uow.playlists
        playlist_id = playlists.add(owner.id, {"name": "Mix 100%", "public": False})
        playlists.lock(playlist_id)
        playlists.access(playlist_id)
        playlists.missing_songs([*song_ids, 404])
        playlists.insert(playlist_id, song_ids, 0)
        playlists.insert(playlist_id, song_ids[:1], playlists.length(playlist_id))
        playlists.move(playlist_id, 0, 2)
        playlists.move(playlist_id, 3, 1)
        playlists.remove(playlist_id, 1)
        playlists.replace(playlist_id, [song_ids[0], song_ids[1], song_ids[0]])
        playlists.touch(playlist_id)
        playlists.update(playlist_id, {"name": "Mix [1]", "description": "d", "public": True})
        playlists.get(playlist_id)
        playlists.entries(playlist_id, after=None, offset=0, limit=10, viewer_id=owner.id)
        playlists.entries(playlist_id, after=1, offset=1, limit=10, viewer_id=owner.id)
        for query in (
            PlaylistQuery(viewer_id=owner.id),
            PlaylistQuery(viewer_id=owner.id, own_only=True, q="mix [1", after_id=1, offset=2),
            PlaylistQuery(viewer_id=owner.id, q="100% _x/"),
        ):
            playlists.list(query)
        playlists.remove_song(song_ids[0])
        uow.songs.delete(song_ids[0])
        playlists.delete(playlist_id)
        uow.commit()
    assert checked.failures == []
    # The cover: the first entry's, as TOP n ... ORDER BY inside a correlated subquery.
    assert any("(SELECT TOP " in sql and "cover_image_url" in sql for sql in checked.statements)


def test_listening_and_search_statements_compile_for_sql_server(
    database: Database, checked: MssqlStatementCheck
) -> None:
    """Every statement of song_service's plays and search, as the services run them:
    the play insert in a savepoint and its duplicate, the views' play state, the
    history's keyset pages, top songs with and without a period, the three ranked
    searches and the genre page (TOP 1 ... ORDER BY for a genre's display name)."""
    with SqlUserUnitOfWork(database, write=True) as uow:
        listener = uow.users.add(
            NewUser(
                username="listener",
                email="listener@example.com",
                password_hash="$bcrypt-sha256$hash",
                first_name="L",
                last_name=None,
            )
        )
        uow.commit()
    now = utcnow()
    with SqlSongUnitOfWork(database, write=True) as uow:
        song = {"artist": "Beyoncé", "genre": "Pop", "file_url": "/p.mp3"}
        song_ids = [uow.songs.add({**song, "title": f"Halo {i}"}).id for i in range(2)]
        plays = uow.plays
        plays.record(listener.id, song_ids[0], now)
        plays.record(listener.id, song_ids[0], now)  # the duplicate
        plays.record(listener.id, song_ids[1], now - timedelta(days=8))
        plays.history(listener.id, after=None, offset=0, limit=10)
        plays.history(listener.id, after=After(now, song_ids[1]), offset=1, limit=10)
        plays.top(listener.id, since=now - timedelta(days=7), offset=0, limit=10)
        plays.top(listener.id, since=None, offset=1, limit=10)
        plays.states(song_ids, listener.id)
        uow.songs.get_view(song_ids[0], listener.id)
        search = uow.search
        for q in ("beyonce", "", "halo 1", "zzz"):
            search.artists(q, offset=0, limit=10)
            search.albums(q, offset=1, limit=10)
            search.songs(q, offset=0, limit=10, viewer_id=listener.id)
        search.genres(offset=0, limit=10)
        search.genres(offset=5, limit=10)
        uow.commit()
    assert checked.failures == []
    assert any("(SELECT TOP " in sql and "genre_key" in sql for sql in checked.statements)
    assert any("my_play_count" in sql for sql in checked.statements)


def test_album_library_statements_compile_for_sql_server(
    database: Database, checked: MssqlStatementCheck
) -> None:
    """Every statement of album_service's artists, album and artist likes, album
    views and disc-numbered tracks, as the services run them: the views' correlated
    subqueries (TOP 1 ... ORDER BY for an artist's cover), the row locks, the
    ranked and sorted artist pages, the liked pages' keysets and the refused delete."""
    from album_service.repos.artists_base import ArtistInUseError, ArtistQuery

    with SqlUserUnitOfWork(database, write=True) as uow:
        fan = uow.users.add(
            NewUser(
                username="albumfan",
                email="albumfan@example.com",
                password_hash="$bcrypt-sha256$hash",
                first_name="F",
                last_name=None,
            )
        )
        uow.commit()
    with SqlSongUnitOfWork(database, write=True) as uow:
        song_id = uow.songs.add(
            {"title": "lib", "artist": "Library Artist", "genre": "g", "file_url": "/l.mp3"}
        ).id
        uow.commit()
    with SqlAlbumUnitOfWork(database, write=True) as uow:
        released = utcnow().date()
        record = uow.albums.add(
            {"title": "lib", "artist": "Library Artist", "genre": "g", "release_date": released}
        )
        uow.albums.link(record.id, song_id, None, 2)
        uow.albums.link(record.id, song_id, None, 1)
        uow.albums.link(record.id, song_id, 3, None)
        uow.albums.tracks(record.id, after=After((1, 3), song_id), offset=0, limit=10)
        uow.albums.get_view(record.id, fan.id)
        uow.albums.get_view(record.id, None)
        for viewer in (None, fan.id):
            uow.albums.list_views(AlbumQuery(q="lib", sort=None), viewer)
            uow.albums.list_views(AlbumQuery(sort=Sort("title"), offset=1, limit=5), viewer)
        likes = uow.album_likes
        likes.like(fan.id, record.id)
        likes.like(fan.id, record.id)
        likes.liked(fan.id, after=None, offset=0, limit=10)
        likes.liked(fan.id, after=After(utcnow(), record.id), offset=1, limit=10)
        likes.unlike(fan.id, record.id)

        artists = uow.artists
        artist = artists.add("Brand New", "New, Brand")
        artists.get(artist.id)
        artists.get_view(artist.id, fan.id)
        artists.update(artist.id, {"name": "Brand Newer"})
        artists.update(artist.id, {"sort_name": None})
        named = record.artist_id
        assert named is not None
        for viewer in (None, fan.id):
            artists.list_views(ArtistQuery(q="brand", sort=None), viewer)
            artists.list_views(ArtistQuery(q="brand", sort=Sort("name")), viewer)
            for sort in (Sort("id"), Sort("name", descending=True), Sort("created_at")):
                after = After(utcnow() if sort.field == "created_at" else 1, artist.id)
                artists.list_views(ArtistQuery(sort=sort, after=after, offset=1, limit=5), viewer)
            artists.albums(named, viewer, after=None, offset=0, limit=10)
            artists.albums(named, viewer, after=After(released, record.id), offset=1, limit=10)
            artists.albums(named, viewer, after=After(None, record.id), offset=0, limit=10)
        artists.songs(named, after=None, offset=0, limit=10)
        artists.songs(named, after=After("lib", song_id), offset=1, limit=10)
        artist_likes = uow.artist_likes
        artist_likes.like(fan.id, artist.id)
        artist_likes.liked(fan.id, after=None, offset=0, limit=10)
        artist_likes.liked(fan.id, after=After(utcnow(), artist.id), offset=1, limit=10)
        artist_likes.unlike(fan.id, artist.id)
        with pytest.raises(ArtistInUseError):
            artists.delete(named)
        artists.delete(artist.id)
        uow.commit()
    assert checked.failures == []
    # The cover: the newest album's, as TOP 1 ... ORDER BY inside a correlated subquery.
    covers = [sql for sql in checked.statements if "(SELECT TOP " in sql and "AS cover" in sql]
    assert covers, sorted(checked.statements)


def test_cover_statements_compile_for_sql_server(
    database: Database, checked: MssqlStatementCheck
) -> None:
    """The covers' lookups of both services (song, playlist, album, artist), each
    a TOP 1 ... ORDER BY over an index, with the media file's BIT compared as 1."""
    with SqlSongUnitOfWork(database, write=True) as uow:
        song_id = uow.songs.add(
            {"title": "c", "artist": "Cover Artist", "genre": "g", "file_url": "/c.mp3"}
        ).id
        uow.covers.song_cover(song_id)
        uow.covers.playlist_cover(1)
        uow.commit()
    with SqlAlbumUnitOfWork(database, write=True) as uow:
        record = uow.albums.add({"title": "c", "artist": "Cover Artist", "genre": "g"})
        uow.albums.link(record.id, song_id, 1, 1)
        uow.covers.album_cover(record.id)
        assert record.artist_id is not None
        uow.covers.artist_cover(record.artist_id)
        uow.commit()
    assert checked.failures == []
    tops = [sql for sql in checked.statements if "SELECT TOP " in sql and "media_files" in sql]
    assert len(tops) == 3, sorted(checked.statements)  # playlist, album's track, artist's album
