"""Uploads and library scans over HTTP, on real audio files (API.md, Media).

The app runs on a migrated SQLite file (sql_client), MEDIA_DIR and LIBRARY_DIR
in the test's tmp folder; files are made by media.synth with known tags."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from common.settings import Settings
from conftest import TokenFactory, hold_role
from database import Database
from database.tables import album_songs, albums, artists, media_files, playlist_songs, songs
from media.synth import cover_image, write_song
from song_service.main import create_app
from song_service.services import library as library_module

Headers = dict[str, str]


@pytest.fixture
def media_app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(media_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(media_app) as test_client:
        yield test_client


@pytest.fixture
def admin(database: Database, make_token: TokenFactory) -> Headers:
    hold_role(database, 1, "admin")
    return {"Authorization": f"Bearer {make_token(sub='1', role='admin')}"}


@pytest.fixture
def library(settings: Settings) -> Path:
    assert settings.library_dir is not None
    settings.library_dir.mkdir(parents=True)
    return settings.library_dir


def album_files(
    folder: Path, *, tracks: int = 3, artist: str = "AC/DC", seed: int = 0
) -> list[Path]:
    """An album of `tracks` Ogg files with full tags and an embedded cover."""
    cover = cover_image("Live", seed=seed)
    return [
        write_song(
            folder / f"{n:02d} - Track {n}.ogg",
            title=f"Track {n}",
            artists=[artist],
            album="Live at Donington",
            track=n,
            track_total=tracks,
            genres=["Rock"],
            date="1992-10-26",
            seconds=1.5,
            cover=cover,
            seed=seed * 100 + n,
        )
        for n in range(1, tracks + 1)
    ]


def upload(client: TestClient, headers: Headers, *paths: Path) -> Any:
    files = [
        ("files", (path.name, path.read_bytes(), "application/octet-stream")) for path in paths
    ]
    return client.post("/songs/upload", files=files, headers=headers)


def count(database: Database, table: Any) -> int:
    with database.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table))


def stored_files(settings: Settings) -> list[Path]:
    assert settings.media_dir is not None
    return sorted(path for path in settings.media_dir.rglob("*") if path.is_file())


# --- uploads -------------------------------------------------------------------------


def test_upload_makes_songs_album_and_artist_from_the_tags(
    client: TestClient, admin: Headers, tmp_path: Path, database: Database, settings: Settings
) -> None:
    files = album_files(tmp_path / "in")
    response = upload(client, admin, *reversed(files))
    assert response.status_code == 201, response.text
    created = response.json()
    assert [song["title"] for song in created] == ["Track 3", "Track 2", "Track 1"]
    first = created[2]
    assert first["artist"] == "AC/DC"  # not split on a slash without spaces
    assert first["genre"] == "Rock"
    assert first["release_date"] == "1992-10-26"
    assert first["file_url"] == f"/songs/{first['id']}/stream"
    assert first["media"]["content_type"] == "audio/ogg"
    assert first["media"]["suffix"] == "ogg"
    assert first["media"]["size"] == files[0].stat().st_size
    assert first["media"]["duration"] == pytest.approx(1.5, abs=0.05)
    assert first["media"]["sample_rate"] == 22050
    assert first["media"]["channels"] == 1
    # One album, one artist, tracks linked in track order whatever the upload order.
    with database.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(albums)) == 1
        assert connection.scalars(select(artists.c.name)).all() == ["AC/DC"]
        linked = connection.execute(
            select(album_songs.c.track_number, songs.c.title)
            .join(songs, songs.c.id == album_songs.c.song_id)
            .order_by(album_songs.c.track_number)
        ).all()
    assert [tuple(row) for row in linked] == [(1, "Track 1"), (2, "Track 2"), (3, "Track 3")]
    # The bytes are kept under MEDIA_DIR, where the rows say.
    kept = stored_files(settings)
    assert [path.name for path in kept] == [
        "01 - Track 1.ogg",
        "02 - Track 2.ogg",
        "03 - Track 3.ogg",
    ]
    assert kept[0].read_bytes() == files[0].read_bytes()
    # GET shows the same media.
    assert client.get(f"/songs/{first['id']}", headers=admin).json()["media"] == first["media"]


def test_a_second_upload_of_the_album_joins_it_and_a_duplicate_is_409(
    client: TestClient, admin: Headers, tmp_path: Path, database: Database, settings: Settings
) -> None:
    first, second = album_files(tmp_path / "in", tracks=2)
    song_id = upload(client, admin, first).json()[0]["id"]
    assert upload(client, admin, second).status_code == 201
    assert count(database, albums) == 1
    again = upload(client, admin, first)
    assert again.status_code == 409
    assert again.json()["song_id"] == song_id
    assert first.name in again.json()["detail"]
    assert count(database, songs) == 2
    assert len(stored_files(settings)) == 2


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("notes.mp3", b"this is not audio at all\n" * 20, 415),
        ("empty.ogg", b"", 422),
    ],
)
def test_refused_files_leave_nothing(
    client: TestClient,
    admin: Headers,
    tmp_path: Path,
    database: Database,
    settings: Settings,
    name: str,
    content: bytes,
    status: int,
) -> None:
    good = album_files(tmp_path / "in", tracks=1)[0]
    bad = tmp_path / name
    bad.write_bytes(content)
    response = upload(client, admin, good, bad)
    assert response.status_code == status, response.text
    assert name in str(response.json()["detail"])
    assert count(database, songs) == 0
    assert count(database, media_files) == 0
    assert stored_files(settings) == []


def test_a_truncated_file_is_422(
    client: TestClient, admin: Headers, tmp_path: Path, database: Database, settings: Settings
) -> None:
    whole = album_files(tmp_path / "in", tracks=1)[0]
    cut = tmp_path / "cut.ogg"
    cut.write_bytes(whole.read_bytes()[:300])
    response = upload(client, admin, cut)
    assert response.status_code == 422, response.text
    assert count(database, songs) == 0
    assert stored_files(settings) == []


def test_upload_over_the_cap_is_413(
    settings: Settings, database: Database, admin: Headers, tmp_path: Path
) -> None:
    small = settings.model_copy(update={"max_upload_mb": 1})
    big = write_song(
        tmp_path / "big.wav", title="Big", artists=["A"], album=None, seconds=30.0,
        sample_rate=44100, channels=1,
    )  # fmt: skip
    assert big.stat().st_size > 1024 * 1024
    with TestClient(create_app(small, database)) as client:
        response = upload(client, admin, big)
    assert response.status_code == 413, response.text
    assert count(database, songs) == 0
    assert stored_files(settings) == []


def test_upload_needs_an_admin(
    client: TestClient, make_token: TokenFactory, tmp_path: Path
) -> None:
    song = album_files(tmp_path, tracks=1)[0]
    assert upload(client, {}, song).status_code == 401
    user = {"Authorization": f"Bearer {make_token(sub='2', role='user')}"}
    assert upload(client, user, song).status_code == 403
    assert client.post("/songs/upload", headers={}).status_code == 401


# --- scans ---------------------------------------------------------------------------


def wait_for_scan(client: TestClient, admin: Headers, scan_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        scan = client.get(f"/library/scans/{scan_id}", headers=admin).json()
        if scan["state"] in ("done", "failed"):
            return scan
        time.sleep(0.05)
    raise AssertionError(f"scan {scan_id} did not finish")


def scan(client: TestClient, admin: Headers, path: str | None = None) -> dict[str, Any]:
    body = {} if path is None else {"path": path}
    started = client.post("/library/scans", json=body, headers=admin)
    assert started.status_code == 202, started.text
    return wait_for_scan(client, admin, started.json()["id"])


def test_scan_is_incremental(
    client: TestClient, admin: Headers, library: Path, database: Database
) -> None:
    folder = library / "AC_DC" / "Live"
    tracks = album_files(folder, tracks=4)
    (folder / "cover.jpg").write_bytes(cover_image("sidecar"))
    first = scan(client, admin)
    assert (first["state"], first["files_seen"], first["added"]) == ("done", 4, 4)
    assert first["errors"] == []
    with database.connect() as connection:
        covers = set(connection.scalars(select(media_files.c.cover_path)))
    assert covers == {"AC_DC/Live/cover.jpg"}
    # Nothing changed: nothing opened.
    again = scan(client, admin)
    assert (again["skipped"], again["added"], again["updated"], again["removed"]) == (4, 0, 0, 0)
    # Touch one, rename one, delete one, add one.
    os.utime(tracks[0], ns=(time.time_ns(), time.time_ns() + 10**9))
    renamed = tracks[1].with_name("02 - Renamed.ogg")
    tracks[1].rename(renamed)
    with database.connect() as connection:
        moved_id = connection.scalar(
            select(media_files.c.song_id).where(media_files.c.path == "AC_DC/Live/02 - Track 2.ogg")
        )
    tracks[2].unlink()
    write_song(folder / "05 - New.ogg", title="New", artists=["AC/DC"], album="Live at Donington",
               track=5, seconds=1.0, seed=99)  # fmt: skip
    changed = scan(client, admin)
    counts = {key: changed[key] for key in ("files_seen", "added", "updated", "removed", "skipped")}
    assert counts == {"files_seen": 4, "added": 1, "updated": 2, "removed": 1, "skipped": 1}
    with database.connect() as connection:
        paths = dict(connection.execute(select(media_files.c.song_id, media_files.c.path)).all())
    assert paths[moved_id] == "AC_DC/Live/02 - Renamed.ogg"  # the same song, moved
    assert count(database, songs) == 4


def test_a_removed_file_takes_its_playlist_entries(
    client: TestClient, admin: Headers, library: Path, database: Database
) -> None:
    tracks = album_files(library / "A", tracks=3)
    scan(client, admin)
    with database.connect() as connection:
        ids = connection.scalars(select(songs.c.id).order_by(songs.c.id)).all()
    created = client.post("/playlists", json={"name": "Mix", "song_ids": ids}, headers=admin)
    assert created.status_code == 201, created.text
    tracks[0].unlink()
    done = scan(client, admin)
    assert done["removed"] == 1
    entries = client.get(f"/playlists/{created.json()['id']}/songs", headers=admin).json()
    assert [(entry["position"], entry["id"]) for entry in entries] == [(0, ids[1]), (1, ids[2])]
    assert count(database, playlist_songs) == 2


def test_scan_errors_are_listed_per_file(client: TestClient, admin: Headers, library: Path) -> None:
    album_files(library / "A", tracks=1)
    (library / "A" / "02 - broken.mp3").write_text("not audio")
    (library / "A" / "03 - empty.flac").write_bytes(b"")
    done = scan(client, admin)
    assert done["added"] == 1
    assert sorted(error["path"] for error in done["errors"]) == [
        "A/02 - broken.mp3",
        "A/03 - empty.flac",
    ]
    assert all(error["detail"] for error in done["errors"])


def test_a_second_scan_while_one_runs_is_409(
    client: TestClient,
    admin: Headers,
    library: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    album_files(library / "A", tracks=2)
    # Hold the running scan at its first file until the second request is answered.
    release = threading.Event()
    real_read = library_module.FolderScan._read

    def held(self: library_module.FolderScan, *args: Any) -> Any:
        release.wait(30)
        return real_read(self, *args)

    monkeypatch.setattr(library_module.FolderScan, "_read", held)
    first = client.post("/library/scans", json={}, headers=admin)
    assert first.status_code == 202
    second = client.post("/library/scans", json={}, headers=admin)
    release.set()
    assert second.status_code == 409, second.text
    assert "already running" in second.json()["detail"]
    assert second.json()["scan"]["id"] == first.json()["id"]  # the one to follow
    assert second.json()["scan"]["state"] == "running"
    assert wait_for_scan(client, admin, first.json()["id"])["state"] == "done"
    assert client.post("/library/scans", json={}, headers=admin).status_code == 202


def test_a_scan_stopped_halfway_is_finished_by_the_next(
    settings: Settings, database: Database, admin: Headers, library: Path
) -> None:
    album_files(library / "A", tracks=5)
    unit = _units(database)
    stop = threading.Event()
    with unit(write=True) as uow:
        scan_row = uow.scans.start("", None, library_module.utcnow())
        uow.commit()

    def stop_after_two(progress: library_module.ScanProgress) -> None:
        if progress.files_seen == 2:
            stop.set()

    halfway = library_module.scan_folder(
        unit, scan_row.id, "", stop=stop, on_file=stop_after_two, settings=settings
    )
    assert (halfway.added, count(database, songs)) == (2, 2)
    with TestClient(create_app(settings, database)) as client:
        listed = client.get("/library/scans", headers=admin).json()
        assert listed[0]["state"] == "failed"
        rerun = scan(client, admin)
    assert (rerun["added"], rerun["skipped"]) == (3, 2)
    assert count(database, songs) == 5
    assert count(database, albums) == 1


def test_scan_paths_stay_in_the_library(client: TestClient, admin: Headers, library: Path) -> None:
    for path in ("../", "/etc", "missing", "a/../../x"):
        response = client.post("/library/scans", json={"path": path}, headers=admin)
        assert response.status_code == 404, (path, response.text)
    assert client.get("/library/scans/999", headers=admin).status_code == 404


def _units(database: Database) -> Callable[..., Any]:
    import functools

    from song_service.repos.sql import SqlSongUnitOfWork

    return functools.partial(SqlSongUnitOfWork, database)


def test_an_unnumbered_track_never_takes_a_numbered_files_place(
    client: TestClient, admin: Headers, tmp_path: Path, database: Database
) -> None:
    bonus = write_song(tmp_path / "bonus.ogg", title="Bonus", artists=["AC/DC"],
                       album="Live at Donington", seconds=1.0, seed=7)  # fmt: skip
    first = album_files(tmp_path / "in", tracks=1)[0]
    response = upload(client, admin, bonus, first)
    assert response.status_code == 201, response.text
    assert [song["title"] for song in response.json()] == ["Bonus", "Track 1"]
    with database.connect() as connection:
        linked = connection.execute(
            select(album_songs.c.track_number, songs.c.title)
            .join(songs, songs.c.id == album_songs.c.song_id)
            .order_by(album_songs.c.track_number)
        ).all()
    assert [tuple(row) for row in linked] == [(1, "Track 1"), (2, "Bonus")]


def test_deleting_an_uploaded_song_deletes_its_file(
    client: TestClient, admin: Headers, tmp_path: Path, settings: Settings
) -> None:
    song = upload(client, admin, *album_files(tmp_path / "in", tracks=1)).json()[0]
    [kept] = stored_files(settings)
    assert oct(kept.stat().st_mode & 0o777) == "0o644"  # the gateway's nginx reads it
    assert client.delete(f"/songs/{song['id']}", headers=admin).status_code == 200
    assert stored_files(settings) == []


def test_bodies_that_carry_no_files_are_422_and_leave_nothing(
    client: TestClient, admin: Headers, tmp_path: Path, settings: Settings
) -> None:
    song = album_files(tmp_path / "in", tracks=1)[0]
    json_body = client.post("/songs/upload", json={"files": []}, headers=admin)
    assert json_body.status_code == 422, json_body.text
    other_field = client.post(
        "/songs/upload", files={"other": ("a.ogg", song.read_bytes())}, headers=admin
    )
    assert other_field.status_code == 422, other_field.text
    too_many = [("files", (f"{n}.ogg", song.read_bytes())) for n in range(21)]
    assert client.post("/songs/upload", files=too_many, headers=admin).status_code == 422
    boundary = "x" * 16
    cut = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
           f"filename=\"a.ogg\"\r\n\r\n").encode() + song.read_bytes()[:500]  # fmt: skip
    truncated = client.post(
        "/songs/upload",
        content=cut,
        headers={**admin, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert truncated.status_code == 422, truncated.text
    assert stored_files(settings) == []
    # A form field beside the files is read and dropped.
    with_field = client.post(
        "/songs/upload",
        files={"files": (song.name, song.read_bytes())},
        data={"note": "hello"},
        headers=admin,
    )
    assert with_field.status_code == 201, with_field.text
    assert [path.parent.name for path in stored_files(settings)] == ["Live at Donington"]


def test_long_names_in_any_script_and_odd_file_names_are_kept_safely(
    client: TestClient, admin: Headers, tmp_path: Path, settings: Settings
) -> None:
    # 100 CJK characters are 300 bytes: over a file name's 255 (was a 500).
    song = write_song(tmp_path / "cjk.ogg", title="漢" * 100, artists=["字" * 100],
                      album="曲" * 100, track=1, seconds=1.0, seed=3)  # fmt: skip
    created = upload(client, admin, song)
    assert created.status_code == 201, created.text
    assert created.json()[0]["title"] == "漢" * 100
    [kept] = stored_files(settings)
    assert all(len(part.encode()) <= 255 for part in kept.parts)
    # A NUL in the name's suffix (was a 500 in mkstemp).
    other = album_files(tmp_path / "in", tracks=1)[0]
    named = client.post(
        "/songs/upload", files={"files": ("a.o\x00gg", other.read_bytes())}, headers=admin
    )
    assert named.status_code == 201, named.text


def test_the_same_file_twice_in_one_upload_says_so_and_leaves_no_folder(
    client: TestClient, admin: Headers, tmp_path: Path, settings: Settings
) -> None:
    song = album_files(tmp_path / "in", tracks=1)[0]
    twice = upload(client, admin, song, song)
    assert twice.status_code == 409
    assert twice.json() == {
        "detail": f"{song.name}: this file is sent twice in this upload",
        "song_id": None,
    }
    # A refusal after the files were placed: their folders go with them.
    bad = tmp_path / "cut.ogg"
    bad.write_bytes(song.read_bytes()[:300])
    assert upload(client, admin, song, bad).status_code == 422
    assert settings.media_dir is not None
    assert [p.name for p in settings.media_dir.iterdir() if p.name != ".incoming"] == []


def test_a_scan_reads_regular_files_inside_the_library_only(
    client: TestClient, admin: Headers, library: Path, tmp_path: Path
) -> None:
    album_files(library / "A", tracks=1)
    (library / "Dev").mkdir()
    (library / "Dev" / "zero.ogg").symlink_to("/dev/zero")  # was read forever
    outside = album_files(tmp_path / "outside", tracks=2, seed=5)[1]
    (library / "Dev" / "outside.ogg").symlink_to(outside)  # could never be streamed
    done = scan(client, admin)
    assert (done["state"], done["added"]) == ("done", 1)
    assert sorted((e["path"], e["detail"]) for e in done["errors"]) == [
        ("Dev/outside.ogg", "A link to a file outside LIBRARY_DIR"),
        ("Dev/zero.ogg", "Not a regular file"),
    ]


def test_an_empty_library_removes_nothing(
    client: TestClient, admin: Headers, library: Path, database: Database
) -> None:
    album_files(library / "A", tracks=2)
    scan(client, admin)
    moved = library.parent / "unmounted"
    library.rename(moved)
    library.mkdir()  # the mount point of a drive that is not there
    done = scan(client, admin)
    assert (done["removed"], count(database, songs)) == (0, 2)
    assert "no song was removed" in done["errors"][0]["detail"]


def test_an_upload_without_an_admin_is_refused_before_its_body_is_read(
    client: TestClient, make_token: TokenFactory
) -> None:
    """The token is checked first: a caller without one cannot make the service
    write a large body anywhere (FastAPI's own form parsing read it all first)."""
    pulled = 0

    def body() -> Iterator[bytes]:
        nonlocal pulled
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.ogg"\r\n\r\n'
        for _ in range(64):
            pulled += 1
            yield b"x" * 1024 * 1024
        yield b"\r\n--b--\r\n"

    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    user = {"Authorization": f"Bearer {make_token(sub='2', role='user')}", **multipart}
    for headers, status in ((multipart, 401), (user, 403)):
        pulled = 0
        response = client.post("/songs/upload", content=body(), headers=headers)
        assert (response.status_code, pulled) == (status, 0)
