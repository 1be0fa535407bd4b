"""The SQL link's insert race, made deterministic: SQLite serialises writers, so the
losing side of two concurrent PUTs is staged on one connection."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, insert

from album_service.repos.sql import SqlAlbumRepository, album_songs
from album_service.tests.conftest import SongFactory
from database import Database


def test_a_link_inserted_between_read_and_insert_is_taken_as_done(
    database: Database, add_sql_song: SongFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    song_id = add_sql_song()
    repo = SqlAlbumRepository(database)
    album_id = repo.add({"title": "a", "artist": "b", "genre": "c"}).id
    real_next = repo._next_track_number
    calls: list[int] = []

    def rival_links_first(connection: Connection, album: int) -> int:
        # Another request commits the same link after our existence check (on our
        # connection: SQLite would make a second writer wait for our lock).
        if not calls:
            connection.execute(
                insert(album_songs).values(album_id=album, song_id=song_id, track_number=4)
            )
            connection.commit()
        calls.append(album)
        return real_next(connection, album)

    monkeypatch.setattr(repo, "_next_track_number", rival_links_first)
    link = repo.link(album_id, song_id, None)
    assert (link.song_id, link.track_number) == (song_id, 4)  # the rival's number stands
    assert calls == [album_id]  # the second pass found the link and did not insert
