"""A library scan of one real album from Debian's packages (the Wesnoth soundtrack,
`wesnoth-1.16-music`; its tags are listed in media/tests/test_debian_album.py):
LIBRARY_DIR is the package's own folder, read-only, scanned over HTTP the way an
admin does, and the album comes out as the files say: one album of 37 tracks in
(disc, track) order, each song's artist and duration the file's, then a rescan
opens nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from common.settings import Settings
from conftest import TokenFactory, hold_role
from database import Database
from database.tables import album_songs, albums, media_files, songs
from media.tests.test_debian_album import ALBUM, ALBUM_ARTIST, NUMBERED, OTHERS
from media.tests.test_debian_album import music_dir as installed_music  # noqa: F401 - fixture
from song_service.main import create_app

Headers = dict[str, str]


@pytest.fixture
def client(
    settings: Settings,
    database: Database,
    installed_music: Any,  # noqa: F811
) -> Iterator[TestClient]:
    library = settings.model_copy(update={"library_dir": installed_music})
    with TestClient(create_app(library, database)) as test_client:
        yield test_client


@pytest.fixture
def admin(database: Database, make_token: TokenFactory) -> Headers:
    hold_role(database, 1, "admin")
    return {"Authorization": f"Bearer {make_token(sub='1', role='admin')}"}


def scan(client: TestClient, admin: Headers) -> dict[str, Any]:
    started = client.post("/library/scans", json={}, headers=admin)
    assert started.status_code == 202, started.text
    url = f"/library/scans/{started.json()['id']}"
    deadline = time.monotonic() + 120
    while (done := client.get(url, headers=admin).json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return done


def test_the_wesnoth_soundtrack_scans_into_one_album_in_disc_and_track_order(
    client: TestClient, admin: Headers, database: Database
) -> None:
    done = scan(client, admin)
    assert (done["state"], done["files_seen"], done["added"]) == ("done", 41, 41)
    assert done["errors"] == []
    with database.connect() as connection:
        [album_id] = connection.scalars(
            select(albums.c.id).where(albums.c.title == ALBUM, albums.c.artist == ALBUM_ARTIST)
        ).all()
        tracks = connection.execute(
            select(album_songs.c.disc_number, album_songs.c.track_number, media_files.c.path,
                   songs.c.title, songs.c.artist, songs.c.duration, media_files.c.duration_ms)
            .join(songs, songs.c.id == album_songs.c.song_id)
            .join(media_files, media_files.c.song_id == songs.c.id)
            .where(album_songs.c.album_id == album_id)
            .order_by(album_songs.c.disc_number, album_songs.c.track_number)
        ).all()  # fmt: skip
    # The numbered tracks where the files put them; the unnumbered ones after the
    # last track of their disc (disc 1 when none), in file name order.
    expected = sorted((disc, track, name) for name, (*_, disc, track, _, _) in NUMBERED.items())
    expected += [(1, 18, "defeat.ogg"), (1, 19, "defeat2.ogg"), (2, 18, "frantic.ogg")]
    expected.sort()
    assert [(row.disc_number, row.track_number, row.path) for row in tracks] == expected
    facts = {
        name: (title, artist, seconds) for name, (title, artist, *_, seconds) in NUMBERED.items()
    }
    facts |= {name: (info[0], info[1][0], info[-1]) for name, info in OTHERS.items() if info[1]}
    for row in tracks:
        title, artist, seconds = facts[row.path]
        assert (row.title, row.artist) == (title, artist), row.path
        assert row.duration_ms / 1000 == pytest.approx(seconds, abs=0.01), row.path
        assert row.duration == round(seconds)
    # Nothing changed on disk: the rescan opens no file.
    again = scan(client, admin)
    assert (again["skipped"], again["added"], again["updated"], again["removed"]) == (41, 0, 0, 0)
