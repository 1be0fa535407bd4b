"""The bench's fleet on a loaded machine: it waits long enough, and when a service
still does not get ready the failure carries every service's startup log. And the
data the library scenarios read: `make bench`'s catalogue (artists, playlists,
plays) answers their requests, and `make bench-catalogue`'s bulk load leaves the
schema, keys and terms as the migrations and repositories would."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from common.settings import Settings
from conftest import TokenFactory
from database import Database
from database.migrate import upgrade
from database.search import search_terms
from database.tables import (
    albums,
    artists,
    folded_key,
    playlist_songs,
    playlists,
    plays,
    song_terms,
    songs,
    users,
)
from database.tests.schema import schema_diff
from database.types import utcnow
from scripts.bench.catalogue import PLAYLIST_ENTRIES, PLAYLISTS, load
from scripts.bench.library import LibrarySize, load_library
from scripts.bench.scenarios import Inputs, scenarios
from scripts.bench.services import READY_TIMEOUT_SECONDS, running
from song_service.main import create_app as create_song_app
from tests.e2e.fleet import READY_TIMEOUT_SECONDS as TESTS_READY_TIMEOUT_SECONDS
from tests.e2e.fleet import SERVICES

pytestmark = pytest.mark.e2e

# Port 1 answers nothing: every service starts, none is ever ready.
NOWHERE = "postgresql+psycopg://nobody:secret@127.0.0.1:1/musicplayer"


def test_the_bench_waits_longer_than_the_tests_for_a_loaded_machine() -> None:
    # Once, in CI, two workers per service were not ready after the tests' 30 s.
    assert READY_TIMEOUT_SECONDS >= 4 * TESTS_READY_TIMEOUT_SECONDS


def test_a_fleet_that_never_gets_ready_fails_with_the_startup_logs(tmp_path: Path) -> None:
    with (
        pytest.raises(pytest.fail.Exception) as failed,
        running(tmp_path, NOWHERE, workers=2, baseline=False, ready_timeout=40),
    ):
        pass
    report = str(failed.value)
    # Not ready in time; or, on a starved machine, uvicorn's supervisor gave up on
    # workers that missed its health checks. Either way every log comes along.
    never_ready = "not ready after 40s" in report
    assert never_ready or " exited with code " in report, report
    for service in SERVICES:
        assert f"----- {service} -----\n" in report, report
        if never_ready:
            log = report.split(f"----- {service} -----\n", 1)[1].split("\n----- ", 1)[0]
            # Even under the bench's LOG_LEVEL=WARNING: how far each worker got.
            assert log.count("Application startup complete") == 2, report


# The data the library scenarios read --------------------------------------------


def test_the_bench_catalogue_serves_the_library_scenarios(
    settings: Settings, database: Database, make_token: TokenFactory
) -> None:
    url = settings.sqlalchemy_url.render_as_string(hide_password=False)
    catalogue = load(url, 120, 12, plays_count=60)
    with database.connect() as connection:
        for table in (albums, songs):
            missing = select(func.count()).select_from(table).where(table.c.artist_id.is_(None))
            assert connection.scalar(missing) == 0
        assert connection.scalar(select(func.count()).select_from(plays)) == 60
        ids = connection.scalars(select(playlists.c.id).order_by(playlists.c.id)).all()
        assert ids == list(range(catalogue.first_playlist, catalogue.last_playlist + 1))
        assert len(ids) == PLAYLISTS
        for playlist_id in ids:
            positions = connection.scalars(
                select(playlist_songs.c.position)
                .where(playlist_songs.c.playlist_id == playlist_id)
                .order_by(playlist_songs.c.position)
            ).all()
            assert positions == list(range(PLAYLIST_ENTRIES))

    token = make_token(7)
    inputs = Inputs(catalogue, [token], [], "/songs?limit=50")
    library = {s.key: s for s in scenarios(inputs) if s.key in ("search", "playlist_page")}
    assert set(library) == {"search", "playlist_page"}
    with TestClient(create_song_app(settings, database)) as client:
        search = client.get(library["search"].path)
        assert search.status_code == 200, search.text
        assert len(search.json()["songs"]) > 0
        path_format, first, last, *tokens = library["playlist_page"].args
        assert tokens == [token]
        for playlist_id in (int(first), int(last)):
            page = client.get(
                path_format % playlist_id, headers={"Authorization": f"Bearer {token}"}
            )
            assert page.status_code == 200, page.text
            assert len(page.json()) == 50


def test_the_catalogue_bench_loads_the_library_as_the_schema_defines_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'library.db'}"
    upgrade(url)
    size = LibrarySize.scaled(1000)
    library = load_library(str(tmp_path / "library.db"), size)
    # The indexes dropped for the load are back, exactly as the migrations made them.
    assert schema_diff(url) == []
    database = Database(url)
    try:
        with database.connect() as connection:
            counts = {table.name: connection.scalar(select(func.count()).select_from(table))
                      for table in (songs, albums, artists, playlists, plays, users)}  # fmt: skip
            assert counts == {"songs": size.songs, "albums": size.albums,
                              "artists": size.artists, "playlists": size.playlists,
                              "plays": size.plays, "users": size.users}  # fmt: skip
            heavy = select(func.count()).where(plays.c.user_id == library.heavy_user)
            assert connection.scalar(heavy) == library.heavy_user_plays
            positions = connection.scalars(
                select(playlist_songs.c.position)
                .where(playlist_songs.c.playlist_id == library.measured_playlist)
                .order_by(playlist_songs.c.position)
            ).all()
            assert positions == list(range(100))
            # Keys and terms as the repositories would have written them.
            for row in connection.execute(select(songs).where(songs.c.id % 97 == 0)):
                assert row.title_key == folded_key("title", row.title)
                assert row.artist_key == folded_key("artist", row.artist)
                stored = connection.scalars(
                    select(song_terms.c.term).where(song_terms.c.song_id == row.id)
                ).all()
                assert sorted(stored) == search_terms(row.title, row.artist)
                name = connection.scalar(
                    select(artists.c.name_key).where(artists.c.id == row.artist_id)
                )
                assert name == row.artist_key
            latest = connection.scalar(select(func.max(plays.c.played_at)))
            assert latest is not None and latest <= utcnow()
    finally:
        database.dispose()
