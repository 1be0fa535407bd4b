from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from database import Database
from database.seed import (
    DEMO_EMAIL,
    HISTORY_DAYS,
    PLAYLISTS,
    REPEATS_FIRST,
    demo_albums,
    seed,
)
from database.seed_audio import CLIP_SECONDS, seed_audio
from database.tables import (
    album_likes,
    album_songs,
    albums,
    artist_likes,
    artist_terms,
    artists,
    folded_key,
    media_files,
    playlist_songs,
    playlists,
    plays,
    songs,
    user_likes,
    users,
)
from database.types import utcnow
from media.storage import sha256_file
from media.tags import embedded_picture, read_tags


def count(connection, table, *where) -> int:  # type: ignore[no-untyped-def]
    return connection.scalar(select(func.count()).select_from(table).where(*where))


def test_seed_loads_a_linked_library_once(database: Database) -> None:
    added = seed(database)
    assert added.albums >= 45 and added.songs >= 450
    assert added.artists == 16
    assert added.playlists == len(PLAYLISTS)
    assert added.plays >= 300
    assert added.likes == 12 + 5 + 4
    assert tuple(seed(database)) == (0, 0, 0, 0, 0, 0)
    with database.connect() as connection:
        assert count(connection, albums) == added.albums
        assert count(connection, songs) == added.songs
        assert count(connection, album_songs) == added.songs
        assert count(connection, album_songs, album_songs.c.disc_number != 1) == 0
        tracks = connection.scalars(
            select(album_songs.c.track_number)
            .where(album_songs.c.album_id == 1)
            .order_by(album_songs.c.track_number)
        ).all()
        assert tracks == list(range(1, len(tracks) + 1))
        assert count(connection, songs, songs.c.duration.is_(None)) == 0

        # Every album and song points at the artist row of its display name.
        assert count(connection, albums, albums.c.artist_id.is_(None)) == 0
        assert count(connection, songs, songs.c.artist_id.is_(None)) == 0
        assert count(connection, albums, albums.c.release_date.is_(None)) == 0
        for table in (albums, songs):
            mismatched = connection.scalar(
                select(func.count())
                .select_from(table.join(artists, artists.c.id == table.c.artist_id))
                .where(artists.c.name_key != table.c.artist_key)
            )
            assert mismatched == 0
        assert count(connection, artists) == 16
        for name in ("Beyoncé", "Die Ärzte"):
            assert count(connection, artists, artists.c.name == name) == 1
        # Found by search: artists have their terms ("arzte" for Die Ärzte).
        assert count(connection, artist_terms, artist_terms.c.term == "arzte") == 1
        assert (
            connection.scalar(
                select(artists.c.sort_name).where(artists.c.name == "The Velvet Hours")
            )
            == "Velvet Hours, The"
        )

        # Public playlists of the demo owner (no admin here: the demo account),
        # entries at positions 0..n-1.
        owner = connection.scalar(select(users.c.id).where(users.c.email == DEMO_EMAIL))
        assert owner is not None
        rows = connection.execute(select(playlists).order_by(playlists.c.id)).all()
        assert [row.name for row in rows] == list(PLAYLISTS)
        assert all(row.public and row.owner_id == owner for row in rows)
        for row in rows:
            entries = connection.execute(
                select(playlist_songs.c.position, playlist_songs.c.song_id)
                .where(playlist_songs.c.playlist_id == row.id)
                .order_by(playlist_songs.c.position)
            ).all()
            assert len(entries) >= 10
            assert [entry.position for entry in entries] == list(range(len(entries)))
            if row.name == REPEATS_FIRST:
                assert entries[-1].song_id == entries[0].song_id

        # Listening history: the owner's, spread over the last months, some this week.
        assert count(connection, plays) == added.plays
        assert count(connection, plays, plays.c.user_id != owner) == 0
        now = utcnow()
        oldest, newest = connection.execute(
            select(func.min(plays.c.played_at), func.max(plays.c.played_at))
        ).one()
        assert now - oldest > timedelta(days=90)
        assert now - oldest <= timedelta(days=HISTORY_DAYS + 1)
        assert now - newest < timedelta(days=7)
        week = count(connection, plays, plays.c.played_at >= now - timedelta(days=7))
        assert 0 < week < added.plays
        distinct = connection.scalar(select(func.count(func.distinct(plays.c.song_id))))
        assert 10 < distinct < added.plays

        # Something in each liked list.
        for likes, expected in ((user_likes, 12), (album_likes, 5), (artist_likes, 4)):
            assert count(connection, likes, likes.c.user_id == owner) == expected


def test_the_admin_owns_the_demo_playlists(database: Database) -> None:
    now = utcnow()
    with database.connect(write=True) as connection:
        admin = connection.execute(
            insert(users).values(
                username="root", email="root@example.com", password_hash="!",
                first_name="Root", role="admin", created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
        connection.commit()
    added = seed(database, admin_email=" ROOT@example.com ")
    assert added.playlists == len(PLAYLISTS)
    with database.connect() as connection:
        assert count(connection, users) == 1  # no demo account
        assert count(connection, playlists, playlists.c.owner_id != admin) == 0
        assert count(connection, plays, plays.c.user_id != admin) == 0
        key = folded_key("name", "cafe focus")
        assert count(connection, playlists, playlists.c.name_key == key) == 1


def test_a_catalogue_seeded_before_artists_is_completed_not_duplicated(
    database: Database,
) -> None:
    # An album an older seed wrote: no release date, no artist row.
    first = demo_albums(random.Random(20260117))[0]
    now = utcnow()
    fields = {"title": first["title"], "artist": first["artist"], "genre": first["genre"],
              "created_at": now, "updated_at": now}  # fmt: skip
    with database.connect(write=True) as connection:
        connection.execute(insert(albums).values(**fields))
        connection.execute(insert(songs).values(**fields, file_url="https://x.example/1.mp3"))
        connection.commit()
    added = seed(database)
    with database.connect() as connection:
        assert count(connection, albums) == added.albums + 1
        assert count(connection, albums, albums.c.release_date.is_(None)) == 0
        assert count(connection, albums, albums.c.artist_id.is_(None)) == 0
        assert count(connection, songs, songs.c.artist_id.is_(None)) == 0


def test_seed_audio_gives_demo_songs_real_tagged_files(database: Database, tmp_path: Path) -> None:
    seed(database)
    with database.connect() as connection:
        album_id, album_title, artist = connection.execute(
            select(albums.c.id, albums.c.title, albums.c.artist).order_by(albums.c.id).limit(1)
        ).one()
        track_count = connection.scalar(
            select(func.count()).select_from(album_songs).where(album_songs.c.album_id == album_id)
        )
    media_dir = tmp_path / "media"
    assert seed_audio(database, media_dir, album_ids=[album_id]) == track_count
    assert seed_audio(database, media_dir, album_ids=[album_id]) == 0  # idempotent
    with database.connect() as connection:
        rows = connection.execute(
            select(media_files, songs.c.file_url, songs.c.duration, songs.c.title,
                   album_songs.c.track_number)
            .join(songs, songs.c.id == media_files.c.song_id)
            .join(album_songs, album_songs.c.song_id == songs.c.id)
            .order_by(album_songs.c.track_number)
        ).mappings().all()  # fmt: skip
    assert len(rows) == track_count
    for row in rows:
        path = media_dir / row["path"]
        tags = read_tags(path)
        assert (tags.title, tags.artists, tags.album) == (row["title"], [artist], album_title)
        assert (tags.track, tags.track_total) == (row["track_number"], track_count)
        assert tags.has_picture and embedded_picture(path) is not None
        assert tags.duration == pytest.approx(CLIP_SECONDS, abs=0.1)
        assert row["file_url"] == f"/songs/{row['song_id']}/stream"
        assert row["duration"] == round(CLIP_SECONDS)
        assert (row["size"], row["checksum"]) == (path.stat().st_size, sha256_file(path))
        assert row["content_type"] == "audio/ogg"
