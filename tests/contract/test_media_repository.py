"""What the media and scan repositories and an import must do, asserted identically
on each backend: an imported file's rows (song, artists, album, track, media),
one song per file (checksum and path unique, also when threads race), the
incremental scan's view of known files, a song's media going with it, and one
scan at a time (also when threads race to start one)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from common.errors import DomainError
from database import Base
from database.types import utcnow
from database.unit_of_work import run_unit
from media.tags import AudioTags
from song_service.repos.media_base import (
    DuplicateMediaError,
    KnownFile,
    ScanCounts,
    ScanRunningError,
)
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.repos.sql import SqlSongUnitOfWork
from song_service.services.imports import AudioFile, record
from tests.contract.conftest import Backend

TAGS = AudioTags(
    title="Thunderstruck",
    artists=["AC/DC"],
    album="The Razors Edge",
    album_artists=[],
    track=1,
    track_total=12,
    disc=1,
    disc_total=1,
    genres=["Hard Rock"],
    date="1990-09-24",
    year=1990,
    duration=292.123,
    bitrate=320,
    sample_rate=44100,
    channels=2,
    content_type="audio/mpeg",
    suffix="mp3",
    compilation=False,
    has_picture=True,
    codec="mp3",
)


def units(backend: Backend) -> Any:
    return backend.units(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork)


def audio(n: int, **tags: Any) -> AudioFile:
    return AudioFile(
        root="library",
        path=f"AC_DC/The Razors Edge/{n:02d}.mp3",
        size=1000 + n,
        mtime_ns=1_700_000_000_000_000_000 + n,
        checksum=f"{n:064x}",
        tags=replace(TAGS, title=f"Track {n}", track=n, **tags),
        cover_path="AC_DC/The Razors Edge/cover.jpg",
    )


def rows(backend: Backend, table: str) -> list[dict[str, Any]]:
    """Every row of `table`, by its key, as mappings: what the import left."""
    if backend.memory is not None:
        found = getattr(backend.memory, table)
        return [dict(found[key]) for key in sorted(found)]
    assert backend.database is not None
    sql_table = Base.metadata.tables[table]
    with backend.database.connect() as connection:
        statement = select(sql_table).order_by(*sql_table.primary_key.columns)
        return [dict(row) for row in connection.execute(statement).mappings()]


def import_files(backend: Backend, *files: AudioFile) -> list[int]:
    """One use case, re-run when it lost a race, as the services run theirs
    (run_unit): racing inserts of one new artist deadlock on MariaDB."""

    def use_case() -> list[int]:
        with units(backend)(write=True) as uow:
            ids = [record(uow, file).id for file in files]
            uow.commit()
        return ids

    return run_unit(use_case)


def test_an_import_writes_the_song_its_album_and_its_media(backend: Backend) -> None:
    first, second = import_files(backend, audio(2), audio(1))
    with units(backend)() as uow:
        song = uow.songs.get(first)
        media = uow.media.get(first)
        found = uow.media.for_songs([first, second, 999])
    assert song is not None and media is not None
    assert (song.title, song.artist, song.genre, song.duration) == (
        "Track 2",
        "AC/DC",
        "Hard Rock",
        292,
    )
    assert song.file_url == f"/songs/{first}/stream"
    assert str(song.release_date) == "1990-09-24"
    assert media.duration == 292.123  # milliseconds survive every database
    assert (media.bitrate, media.sample_rate, media.channels) == (320, 44100, 2)
    assert (media.embedded_cover, media.cover_path) == (True, "AC_DC/The Razors Edge/cover.jpg")
    assert set(found) == {first, second}
    # One album, its tracks in track order, the artist shared.
    (album,) = rows(backend, "albums")
    assert (album["title"], album["artist"]) == ("The Razors Edge", "AC/DC")
    tracks = sorted(rows(backend, "album_songs"), key=lambda row: row["track_number"])
    assert [(row["album_id"], row["track_number"], row["song_id"]) for row in tracks] == [
        (album["id"], 1, second),
        (album["id"], 2, first),
    ]
    assert [row["name"] for row in rows(backend, "artists")] == ["AC/DC"]


def test_several_artists_link_the_first_and_a_compilation_is_one_album(backend: Backend) -> None:
    various = dict(album="Hits", album_artists=[], compilation=True)
    one = audio(1, artists=["Queen", "David Bowie"], **various)
    two = audio(2, artists=["Beyoncé"], **various)
    ids = import_files(backend, one, two)
    albums = [(row["title"], row["artist"]) for row in rows(backend, "albums")]
    assert albums == [("Hits", "Various Artists")]
    with units(backend)() as uow:
        song = uow.songs.get(ids[0])
    assert song is not None and song.artist == "Queen / David Bowie"
    names = {row["name"] for row in rows(backend, "artists")}
    assert names == {"Queen", "Beyoncé", "Various Artists"}


def test_one_song_per_file(backend: Backend) -> None:
    (song_id,) = import_files(backend, audio(1))
    for duplicate in (
        replace(audio(1), path="elsewhere.mp3"),
        replace(audio(2), path=audio(1).path),
    ):
        with pytest.raises(DuplicateMediaError) as refused:
            import_files(backend, duplicate)
        if duplicate.checksum == audio(1).checksum:
            assert refused.value.song_id == song_id
    assert len(rows(backend, "songs")) == 1


def test_racing_imports_of_one_file_make_one_song(backend: Backend) -> None:
    barrier = threading.Barrier(4)

    def attempt(n: int) -> str:
        barrier.wait()
        try:
            import_files(backend, replace(audio(1), path=f"copy{n}.mp3"))
        except DuplicateMediaError:
            return "duplicate"
        return "added"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))
    assert outcomes == ["added", "duplicate", "duplicate", "duplicate"]
    assert len(rows(backend, "albums")) == 1


def test_known_files_are_by_folder_and_go_with_their_song(backend: Backend) -> None:
    ids = import_files(backend, audio(1), replace(audio(2), path="Other/02.mp3"))
    with units(backend)() as uow:
        everything = uow.media.known_files("library", "")
        folder = uow.media.known_files("library", "AC_DC")
        none = uow.media.known_files("library", "AC")  # a prefix of a name is not a folder
        media = uow.media.known_files("media", "")
    assert set(everything) == {audio(1).path, "Other/02.mp3"}
    assert folder == {audio(1).path: KnownFile(ids[0], 1001, audio(1).mtime_ns, audio(1).checksum)}
    assert none == {} and media == {}
    with units(backend)(write=True) as uow:
        assert uow.songs.delete(ids[0])
        uow.commit()
    with units(backend)() as uow:
        assert uow.media.get(ids[0]) is None
        assert set(uow.media.known_files("library", "")) == {"Other/02.mp3"}


def test_one_scan_at_a_time(backend: Backend) -> None:
    scans = backend.repository(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork, name="scans")
    long_ago = utcnow() - timedelta(minutes=5)
    first = scans.start("", None, long_ago)
    assert (first.state, first.path) == ("running", "")
    with pytest.raises(ScanRunningError) as refused:
        scans.start("A", None, long_ago)
    assert refused.value.scan is not None and refused.value.scan.id == first.id
    counts = ScanCounts(3, 1, 1, 0, 1, ({"path": "x.mp3", "detail": "Not audio"},))
    scans.progress(first.id, counts)
    scans.finish(first.id, "done", counts)
    done = scans.get(first.id)
    assert done is not None and (done.state, done.counts) == ("done", counts)
    assert done.finished_at is not None
    second = scans.start("A", None, long_ago)
    # A running scan whose heartbeat stopped (its process died) gives way.
    third = scans.start("", None, utcnow() + timedelta(seconds=1))
    assert scans.get(second.id).state == "failed"
    assert [scan.id for scan in scans.recent(10, 0)] == [third.id, second.id, first.id]
    assert scans.active().id == third.id


def test_racing_scan_starts_let_one_run(backend: Backend) -> None:
    scans = backend.repository(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork, name="scans")
    barrier = threading.Barrier(4)
    long_ago = utcnow() - timedelta(minutes=5)

    def attempt(_: int) -> str:
        barrier.wait()
        try:
            scans.start("", None, long_ago)
        except ScanRunningError:
            return "409"
        except DomainError as exc:  # a re-run that lost (503) would show here
            return f"{exc.status_code}"
        return "202"

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(attempt, range(4))) == ["202", "409", "409", "409"]
