"""GET/HEAD /albums/{id}/cover and /artists/{id}/cover over HTTP, on SQLite and on
the in-memory fakes, with real image files (Pillow) and real audio files (FLAC):
an album's first track with art in (disc, track) order, then its URL; an artist's
first album with a cover by release date; sizes, ETag/304, the placeholder."""

from __future__ import annotations

import functools
import io
import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import insert

from album_service.repos.base import AlbumUnitOfWork
from album_service.repos.memory import InMemoryAlbumUnitOfWork
from album_service.repos.sql import SqlAlbumUnitOfWork
from album_service.services.albums import AlbumService
from album_service.services.artists import ArtistService
from album_service.services.covers import CoverService
from album_service.tests.conftest import SongFactory
from common.settings import Settings
from database import Database
from database.memory import MemoryDatabase
from database.tables import media_files
from database.types import utcnow
from media.covers import NO_COVER, CoverSource
from media.tests.test_covers import image_bytes, write_flac
from tests.contract import conftest as contract
from tests.contract.conftest import Backend

AuthHeader = Callable[..., dict[str, str]]

# The contract suite's fixtures, for the repository tests at the end: pytest finds
# a module's fixtures by attribute name.
backend = contract.backend
mssql_statements = contract.mssql_statements
server_databases = contract.server_databases


class Catalogue:
    """Albums and artists through the API; songs and their media rows (and files)
    written as song_service and a scan would leave them."""

    def __init__(
        self,
        api: TestClient,
        admin: dict[str, str],
        settings: Settings,
        add_song: SongFactory,
        database: Database,
        memory: MemoryDatabase | None,
    ) -> None:
        self.api, self.admin, self.settings = api, admin, settings
        self.add_song, self.database, self.memory = add_song, database, memory
        self._files = 0

    def album(self, artist: str = "Band", **fields: Any) -> int:
        body = {"title": "Record", "artist": artist, "genre": "rock", **fields}
        response = self.api.post("/albums", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def artist_of(self, album_id: int) -> int:
        return self.api.get(f"/albums/{album_id}", headers=self.admin).json()["artist_id"]

    def track(
        self,
        album_id: int,
        disc: int,
        number: int,
        *,
        sidecar: bytes | None = None,
        media: bool = True,
        **song_fields: Any,
    ) -> int:
        """A song on the album at (disc, number); with a media file (a real FLAC)
        unless `media` is False, and a cover.jpg beside it when `sidecar` is given."""
        song_id = self.add_song(f"track {disc}-{number}", **song_fields)
        response = self.api.put(
            f"/albums/{album_id}/songs/{song_id}",
            json={"disc_number": disc, "track_number": number},
            headers=self.admin,
        )
        assert response.status_code == 200, response.text
        if media:
            self._media(song_id, sidecar)
        return song_id

    def _media(self, song_id: int, sidecar: bytes | None) -> None:
        self._files += 1
        folder = f"Band/Record {self._files}"
        audio = write_flac(self.settings.library_dir / folder / "track.flac", None)
        cover_path = None
        if sidecar is not None:
            (self.settings.library_dir / folder / "cover.jpg").write_bytes(sidecar)
            cover_path = f"{folder}/cover.jpg"
        now = utcnow()
        row = {
            "song_id": song_id, "root": "library", "path": f"{folder}/track.flac",
            "size": audio.stat().st_size, "mtime_ns": audio.stat().st_mtime_ns,
            "checksum": f"{self._files:064x}", "content_type": "audio/flac", "suffix": "flac",
            "bitrate": 900, "sample_rate": 44100, "channels": 1, "duration_ms": 200,
            "embedded_cover": False, "cover_path": cover_path,
            "created_at": now, "updated_at": now,
        }  # fmt: skip
        if self.memory is not None:
            self.memory.media_files[song_id] = row
        else:
            with self.database.connect(write=True) as connection:
                connection.execute(insert(media_files).values(**row))
                connection.commit()


@pytest.fixture(params=["sql", "memory"])
def catalogue(
    request: pytest.FixtureRequest,
    sql_client: TestClient,
    auth_header: AuthHeader,
    settings: Settings,
    database: Database,
    add_sql_song: SongFactory,
    add_song: SongFactory,
    memory_db: MemoryDatabase,
) -> Catalogue:
    """The app on SQLite, or with its services on the in-memory fakes."""
    admin = auth_header(1, "admin")
    if request.param == "sql":
        return Catalogue(sql_client, admin, settings, add_sql_song, database, None)
    units = functools.partial(InMemoryAlbumUnitOfWork, memory_db)
    sql_client.app.state.service = AlbumService(units)
    sql_client.app.state.artists = ArtistService(units)
    sql_client.app.state.covers = CoverService(units)
    return Catalogue(sql_client, admin, settings, add_song, database, memory_db)


def picture_of(response: Any) -> Image.Image:
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def centre(response: Any) -> tuple[int, int, int]:
    image = picture_of(response).convert("RGB")
    return image.getpixel((image.width // 2, image.height // 2))  # type: ignore[return-value]


RED, GREEN, BLUE = (
    image_bytes((400, 400), colour="red"),
    image_bytes((400, 400), colour=(0, 200, 0)),
    image_bytes((400, 400), colour="blue"),
)


def is_green(colour: tuple[int, int, int]) -> bool:
    return colour[1] > 150 and colour[0] < 60 and colour[2] < 60


def is_red(colour: tuple[int, int, int]) -> bool:
    return colour[0] > 200 and colour[1] < 60


def is_blue(colour: tuple[int, int, int]) -> bool:
    return colour[2] > 200 and colour[0] < 60


# Albums -------------------------------------------------------------------------


def test_an_albums_cover_is_its_first_track_with_art_in_disc_and_track_order(
    catalogue: Catalogue,
) -> None:
    api = catalogue.api
    album_id = catalogue.album(cover_image_url="https://cdn.example.com/album.jpg")
    catalogue.track(album_id, 2, 1, sidecar=RED)  # disc 2 comes after all of disc 1
    catalogue.track(album_id, 1, 4, sidecar=BLUE)
    catalogue.track(album_id, 1, 3, sidecar=GREEN)
    catalogue.track(album_id, 1, 2)  # a file without art
    catalogue.track(album_id, 1, 1, media=False, cover_image_url="https://cdn.example.com/s.jpg")
    response = api.get(f"/albums/{album_id}/cover?size=200")
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert picture_of(response).size == (256, 256)
    assert is_green(centre(response))

    etag = response.headers["etag"]
    cached = api.get(f"/albums/{album_id}/cover?size=256", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    head = api.head(f"/albums/{album_id}/cover?size=200")
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)


def test_an_album_without_track_art_redirects_to_its_own_url(catalogue: Catalogue) -> None:
    album_id = catalogue.album(cover_image_url="https://cdn.example.com/album.jpg")
    # A track's own URL is the song's cover, not the album's.
    catalogue.track(album_id, 1, 1, media=False, cover_image_url="https://cdn.example.com/s.jpg")
    catalogue.track(album_id, 1, 2)
    response = catalogue.api.get(f"/albums/{album_id}/cover", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://cdn.example.com/album.jpg"


def test_an_album_without_any_cover_gets_the_placeholder(catalogue: Catalogue) -> None:
    empty = catalogue.album()
    catalogue.track(catalogue.album(), 1, 1, sidecar=b"damaged")  # unusable: placeholder too
    for album_id in (empty, empty + 1):
        response = catalogue.api.get(f"/albums/{album_id}/cover?size=64")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-type"] == "image/png"
        assert picture_of(response).size == (64, 64)


def test_an_unknown_album_is_404_and_a_bad_size_422(catalogue: Catalogue) -> None:
    response = catalogue.api.get("/albums/999/cover")
    assert (response.status_code, response.json()) == (404, {"detail": "Album not found"})
    album_id = catalogue.album()
    for size in ("0", "x", "2.0"):
        assert catalogue.api.get(f"/albums/{album_id}/cover?size={size}").status_code == 422


# Artists ------------------------------------------------------------------------


def test_an_artists_cover_is_their_newest_album_with_a_cover(catalogue: Catalogue) -> None:
    undated = catalogue.album("Solo", title="Undated")  # undated albums come last
    catalogue.track(undated, 1, 1, sidecar=RED)
    catalogue.album("Solo", title="Newest", release_date="2020-01-01")  # no cover
    middle = catalogue.album("Solo", title="Middle", release_date="2010-01-01")
    catalogue.track(middle, 1, 1, sidecar=GREEN)
    early = catalogue.album("Solo", title="Early", release_date="2000-01-01")
    catalogue.track(early, 1, 1, sidecar=BLUE)
    other = catalogue.album("Someone Else", release_date="2030-01-01")
    catalogue.track(other, 1, 1, sidecar=RED)
    artist_id = catalogue.artist_of(middle)

    response = catalogue.api.get(f"/artists/{artist_id}/cover?size=128")
    assert is_green(centre(response))
    album = catalogue.api.get(f"/albums/{middle}/cover?size=128")
    assert response.headers["etag"] == album.headers["etag"]


def test_an_artists_newest_album_with_only_a_url_redirects(catalogue: Catalogue) -> None:
    linked = catalogue.album(
        "Duo", release_date="2002-01-01", cover_image_url="https://x.test/a.png"
    )
    earlier = catalogue.album("Duo", release_date="2001-01-01")
    catalogue.track(earlier, 1, 1, sidecar=BLUE)
    response = catalogue.api.get(
        f"/artists/{catalogue.artist_of(linked)}/cover", follow_redirects=False
    )
    assert response.status_code == 307
    assert response.headers["location"] == "https://x.test/a.png"


def test_an_artist_whose_albums_have_no_cover_gets_the_placeholder(
    catalogue: Catalogue,
) -> None:
    album_id = catalogue.album("Trio", release_date="2001-01-01")
    catalogue.track(album_id, 1, 1)
    response = catalogue.api.get(f"/artists/{catalogue.artist_of(album_id)}/cover")
    assert response.headers["cache-control"] == "no-store"
    assert picture_of(response).size == (1024, 1024)
    lonely = catalogue.api.post("/artists", json={"name": "Nobody"}, headers=catalogue.admin)
    assert catalogue.api.get(f"/artists/{lonely.json()['id']}/cover").status_code == 200


def test_an_unknown_artist_is_404(catalogue: Catalogue) -> None:
    response = catalogue.api.get("/artists/999/cover")
    assert (response.status_code, response.json()) == (404, {"detail": "Artist not found"})
    assert catalogue.api.get(f"/artists/{2**63}/cover").status_code in (404, 422)


# The repository on every backend (memory, SQLite with each statement compiled for
# SQL Server, PostgreSQL, MariaDB): tests/contract's `backend` fixture ----------

_numbers = itertools.count(1)


def backend_units(backend: Backend) -> Callable[..., AlbumUnitOfWork]:
    return backend.units(memory=InMemoryAlbumUnitOfWork, sql=SqlAlbumUnitOfWork)


def backend_track(
    backend: Backend, album_id: int, disc: int, number: int, *, art: str | None
) -> int:
    """A song on the album at (disc, number) with a media row: `art` None for a
    file without art, "embedded", or a cover_path."""
    song_id = backend.insert(
        "songs", title="song", artist="artist", genre="rock", file_url="/f.mp3"
    )
    with backend_units(backend)(write=True) as uow:
        uow.albums.link(album_id, song_id, number, disc)
        uow.commit()
    count = next(_numbers)
    now = utcnow()
    row = {
        "song_id": song_id, "root": "library", "path": f"t/{count}.flac", "size": 10,
        "mtime_ns": 1, "checksum": f"{count:064x}", "content_type": "audio/flac",
        "suffix": "flac", "bitrate": None, "sample_rate": None, "channels": None,
        "duration_ms": None, "embedded_cover": art == "embedded",
        "cover_path": None if art in (None, "embedded") else art,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    if backend.memory is not None:
        backend.memory.media_files[song_id] = row
    else:
        assert backend.database is not None
        with backend.database.connect(write=True) as connection:
            connection.execute(insert(media_files).values(**row))
            connection.commit()
    return song_id


def backend_album(backend: Backend, artist: str, **fields: Any) -> int:
    with backend_units(backend)(write=True) as uow:
        album = uow.albums.add({"title": "t", "artist": artist, "genre": "rock", **fields})
        uow.commit()
    return album.id


def test_repository_album_takes_the_first_track_with_art(backend: Backend) -> None:
    album_id = backend_album(backend, "A", cover_image_url="https://x.test/a.jpg")
    backend_track(backend, album_id, 2, 1, art="embedded")
    backend_track(backend, album_id, 1, 3, art="c/cover.jpg")
    backend_track(backend, album_id, 1, 2, art=None)
    bare = backend_album(backend, "A")
    with backend_units(backend)() as uow:
        found = uow.covers.album_cover(album_id)
        assert found is not None and found.url == "https://x.test/a.jpg"
        assert found.art is not None and found.art.cover_path == "c/cover.jpg"
        assert uow.covers.album_cover(bare) == NO_COVER
        assert uow.covers.album_cover(10**12) is None


def test_repository_artist_takes_the_newest_album_with_a_cover(backend: Backend) -> None:
    undated = backend_album(backend, "Solo")
    backend_track(backend, undated, 1, 1, art="embedded")
    backend_album(backend, "Solo", release_date=date(1990, 1, 1))  # no cover
    middle = backend_album(backend, "Solo", release_date=date(2000, 1, 1))
    backend_track(backend, middle, 1, 1, art=None)
    backend_track(backend, middle, 1, 2, art="m/folder.jpg")
    linked = backend_album(
        backend, "Solo", release_date=date(2000, 1, 1), cover_image_url="https://x.test/l.jpg"
    )
    backend_album(backend, "Solo", release_date=date(2020, 1, 1))  # newest, no cover
    with backend_units(backend)() as uow:
        record = uow.albums.get(middle)
        assert record is not None and record.artist_id is not None
        artist_id = record.artist_id
        # Same date as `middle`, newer id: first.
        assert uow.covers.artist_cover(artist_id) == CoverSource(url="https://x.test/l.jpg")
        assert uow.covers.artist_cover(10**12) is None
    with backend_units(backend)(write=True) as uow:
        uow.albums.delete(linked)
        uow.commit()
    with backend_units(backend)() as uow:
        found = uow.covers.artist_cover(artist_id)
        assert found is not None and found.art is not None
        assert (found.art.cover_path, found.url) == ("m/folder.jpg", None)
    with backend_units(backend)(write=True) as uow:
        uow.albums.delete(middle)
        uow.commit()
    with backend_units(backend)() as uow:
        last = uow.covers.artist_cover(artist_id)  # the undated album, last in order
        assert last is not None and last.art is not None and last.art.embedded
    with backend_units(backend)(write=True) as uow:
        other = uow.albums.add({"title": "x", "artist": "Nobody", "genre": "rock"})
        uow.commit()
    with backend_units(backend)() as uow:
        assert other.artist_id is not None
        assert uow.covers.artist_cover(other.artist_id) == NO_COVER
