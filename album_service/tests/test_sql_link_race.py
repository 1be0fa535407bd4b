"""The SQL link's insert race: a rival links the same song while our link is on
its way. The album's row lock (and on SQLite the one writer's lock) makes the two
take turns, so ours waits for the rival's commit, finds its link and keeps it."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from album_service.repos.base import LinkRecord
from album_service.repos.sql import SqlAlbumRepository, SqlAlbumUnitOfWork, album_songs
from album_service.tests.conftest import SongFactory
from database import Database

# Long enough for an unblocked link to finish; a blocked one is still waiting.
BLOCKED_FOR_SECONDS = 0.3


def test_a_link_committed_by_a_rival_meanwhile_is_taken_as_done(
    database: Database, add_sql_song: SongFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    song_id = add_sql_song()
    with SqlAlbumUnitOfWork(database, write=True) as uow:
        album_id = uow.albums.add({"title": "a", "artist": "b", "genre": "c"}).id
        uow.commit()
    numbered: list[int] = []
    real_next = SqlAlbumRepository._next_track_number

    def spy_next(repo: SqlAlbumRepository, album: int) -> int:
        numbered.append(album)
        return real_next(repo, album)

    monkeypatch.setattr(SqlAlbumRepository, "_next_track_number", spy_next)

    def our_link() -> LinkRecord:
        with SqlAlbumUnitOfWork(database, write=True) as uow:
            link = uow.albums.link(album_id, song_id, None)
            uow.commit()
        return link

    started = threading.Event()

    def our_link_once_started() -> LinkRecord:
        started.set()
        return our_link()

    with ThreadPoolExecutor(max_workers=1) as pool:
        with SqlAlbumUnitOfWork(database, write=True) as rival:
            rival.albums.link(album_id, song_id, 4)  # holds the album until it ends
            ours: Future[LinkRecord] = pool.submit(our_link_once_started)
            assert started.wait(5)
            with pytest.raises(TimeoutError):
                ours.result(timeout=BLOCKED_FOR_SECONDS)  # waits for the rival
            rival.commit()
        link = ours.result(timeout=30)
    assert (link.song_id, link.track_number) == (song_id, 4)  # the rival's number stands
    assert numbered == []  # ours found the link: it neither numbered nor inserted one
    with database.connect() as connection:
        rows = connection.scalar(
            select(func.count()).select_from(album_songs).where(album_songs.c.album_id == album_id)
        )
    assert rows == 1
