"""GET/HEAD /songs/{id}/cover and /playlists/{id}/cover over HTTP, on SQLite and on
the in-memory fakes, with real image files (Pillow) and real audio (FLAC with an
embedded picture): which source wins, sizes, ETag/304, redirects, the placeholder,
and who may see a private playlist's cover."""

from __future__ import annotations

import functools
import io
import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import insert

from common.settings import Settings
from conftest import hold_role
from database import Database
from database.memory import MemoryDatabase
from database.tables import media_files, songs
from database.types import utcnow
from media.covers import NO_COVER, CoverSource
from media.tests.test_covers import image_bytes, write_flac
from song_service.repos.base import SongUnitOfWork
from song_service.repos.media_base import MediaFile
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.repos.sql import SqlSongUnitOfWork
from song_service.services.covers import CoverService
from song_service.services.playlists import PlaylistService
from song_service.services.songs import SongService
from song_service.tests.conftest import song
from tests.contract import conftest as contract
from tests.contract.conftest import Backend

AuthHeader = Callable[..., dict[str, str]]

# The contract suite's fixtures, for the repository tests at the end: pytest finds
# a module's fixtures by attribute name.
backend = contract.backend
mssql_statements = contract.mssql_statements
server_databases = contract.server_databases
ADMIN, OWNER, OTHER = 1, 2, 3


class Library:
    """Songs (through the API), their media rows (written as a scan would) and files."""

    def __init__(
        self,
        api: TestClient,
        settings: Settings,
        headers: dict[str, str],
        database: Database,
        memory: MemoryDatabase | None,
    ) -> None:
        self.api, self.settings, self.headers = api, settings, headers
        self.database, self.memory = database, memory
        self._files = 0

    def song(self, **fields: Any) -> int:
        response = self.api.post("/songs", json=song(**fields), headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def media(
        self,
        song_id: int,
        *,
        picture: bytes | None = None,
        sidecar: bytes | None = None,
        sidecar_name: str = "cover.jpg",
        root: str = "library",
    ) -> MediaFile:
        """A real FLAC under `root` (with `picture` embedded when given) and a
        sidecar image beside it when given, recorded as the song's media."""
        self._files += 1
        folder = f"Artist/Album {self._files}"
        base = self.settings.library_dir if root == "library" else self.settings.media_dir
        audio = write_flac(base / folder / "01 - Song.flac", picture)
        cover_path = None
        if sidecar is not None:
            (base / folder / sidecar_name).write_bytes(sidecar)
            cover_path = f"{folder}/{sidecar_name}"
        media = MediaFile(
            song_id=song_id, root=root, path=f"{folder}/01 - Song.flac",
            size=audio.stat().st_size, mtime_ns=audio.stat().st_mtime_ns,
            checksum=f"{self._files:064x}", content_type="audio/flac", suffix="flac",
            bitrate=900, sample_rate=44100, channels=1, duration=0.2,
            embedded_cover=picture is not None, cover_path=cover_path,
        )  # fmt: skip
        now = utcnow()
        row = media.row() | {"created_at": now, "updated_at": now}
        if self.memory is not None:
            self.memory.media_files[song_id] = row
        else:
            with self.database.connect(write=True) as connection:
                connection.execute(insert(media_files).values(**row))
                connection.commit()
        return media


@pytest.fixture(params=["sql", "memory"])
def api(request: pytest.FixtureRequest, sql_client: TestClient, database: Database) -> TestClient:
    """The app on SQLite, or with its services on the in-memory fakes (tokens are
    still checked against SQLite's users, as in production)."""
    for user_id in (OWNER, OTHER):
        hold_role(database, user_id, "user")
    sql_client.memory = None  # type: ignore[attr-defined]
    if request.param == "memory":
        memory_db = MemoryDatabase()
        now = utcnow()
        for user_id in (ADMIN, OWNER, OTHER):
            memory_db.users[user_id] = {"id": user_id, "username": f"minted{user_id}",
                                        "created_at": now, "updated_at": now}  # fmt: skip
        units = functools.partial(InMemorySongUnitOfWork, memory_db)
        sql_client.app.state.service = SongService(units)
        sql_client.app.state.playlists = PlaylistService(units)
        sql_client.app.state.covers = CoverService(units)
        sql_client.memory = memory_db  # type: ignore[attr-defined]
    return sql_client


@pytest.fixture
def library(
    api: TestClient, settings: Settings, database: Database, auth_header: AuthHeader
) -> Iterator[Library]:
    yield Library(api, settings, auth_header(ADMIN, "admin"), database, api.memory)  # type: ignore[attr-defined]


def picture_of(response: Any) -> Image.Image:
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def colour_at_centre(image: Image.Image) -> tuple[int, ...]:
    return image.convert("RGB").getpixel((image.width // 2, image.height // 2))  # type: ignore[return-value]


# Songs --------------------------------------------------------------------------


def test_a_songs_image_beside_its_file_is_served_resized_with_validators(
    api: TestClient, library: Library
) -> None:
    song_id = library.song(cover_image_url="https://cdn.example.com/ignored.jpg")
    library.media(song_id, sidecar=image_bytes((1600, 800), colour="red"))
    response = api.get(f"/songs/{song_id}/cover", params={"size": 300})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "public, max-age=3600"
    etag = response.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    image = picture_of(response)
    assert image.size == (512, 256)  # 300 snaps up to 512; aspect kept
    assert colour_at_centre(image)[0] > 200

    again = api.get(f"/songs/{song_id}/cover?size=300", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert api.get(f"/songs/{song_id}/cover?size=512").headers["etag"] == etag  # same snap

    head = api.head(f"/songs/{song_id}/cover?size=300")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag
    assert head.headers["content-length"] == str(len(response.content))


def test_without_a_size_the_cover_is_at_most_1024_and_never_upscaled(
    api: TestClient, library: Library
) -> None:
    big = library.song()
    library.media(big, sidecar=image_bytes((3000, 1500)))
    assert picture_of(api.get(f"/songs/{big}/cover")).size == (1024, 512)
    assert picture_of(api.get(f"/songs/{big}/cover?size=99999999999999999999")).size == (
        1024,
        512,
    )
    small = library.song()
    library.media(small, sidecar=image_bytes((200, 100), "PNG"))
    assert picture_of(api.get(f"/songs/{small}/cover?size=1024")).size == (200, 100)
    assert picture_of(api.get(f"/songs/{small}/cover?size=64")).size == (64, 32)


def test_a_transparent_sidecar_stays_png(api: TestClient, library: Library) -> None:
    song_id = library.song()
    png = image_bytes((500, 500), "PNG", "RGBA", (0, 0, 255, 90))
    library.media(song_id, sidecar=png, sidecar_name="folder.png")
    response = api.get(f"/songs/{song_id}/cover?size=128")
    assert response.headers["content-type"] == "image/png"
    assert picture_of(response).mode == "RGBA"


@pytest.mark.parametrize("size", ["0", "-5", "abc", "1.5", "1_0", "+3", ""])
def test_a_size_that_is_not_a_whole_number_from_one_is_422(
    api: TestClient, library: Library, size: str
) -> None:
    song_id = library.song()
    response = api.get(f"/songs/{song_id}/cover", params={"size": size})
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_the_embedded_picture_comes_before_the_image_beside_the_file(
    api: TestClient, library: Library
) -> None:
    song_id = library.song()
    library.media(
        song_id, picture=image_bytes((600, 600), colour="blue"), sidecar=image_bytes((600, 600))
    )
    response = api.get(f"/songs/{song_id}/cover?size=64")
    assert response.status_code == 200
    assert colour_at_centre(picture_of(response))[2] > 200


def test_a_damaged_image_falls_through_to_the_url_then_the_placeholder(
    api: TestClient, library: Library
) -> None:
    with_url = library.song(cover_image_url="https://cdn.example.com/a.jpg")
    library.media(with_url, sidecar=b"\xff\xd8\xff\xe0 not really a jpeg")
    redirect = api.get(f"/songs/{with_url}/cover", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "https://cdn.example.com/a.jpg"

    without = library.song()
    library.media(without, sidecar=b"GIF89a broken")
    placeholder = api.get(f"/songs/{without}/cover?size=128")
    assert placeholder.status_code == 200
    assert placeholder.headers["cache-control"] == "no-store"
    assert "etag" not in placeholder.headers
    assert picture_of(placeholder).size == (128, 128)


def test_a_song_without_media_redirects_to_its_url_or_gets_the_placeholder(
    api: TestClient, library: Library
) -> None:
    with_url = library.song(cover_image_url="https://cdn.example.com/cover.png")
    response = api.get(f"/songs/{with_url}/cover?size=256", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://cdn.example.com/cover.png"
    bare = library.song()
    placeholder = api.get(f"/songs/{bare}/cover")
    assert placeholder.status_code == 200
    assert placeholder.headers["content-type"] == "image/png"
    assert placeholder.headers["cache-control"] == "no-store"
    assert picture_of(placeholder).size == (1024, 1024)


def test_a_stored_url_that_is_not_http_is_never_a_redirect(
    api: TestClient, library: Library, database: Database
) -> None:
    song_id = library.song()
    # Written around the API's validation, as an old row or another tool might have.
    if library.memory is not None:
        library.memory.songs[song_id]["cover_image_url"] = "javascript:alert(1)"
    else:
        with database.connect(write=True) as connection:
            connection.execute(
                songs.update().where(songs.c.id == song_id).values(cover_image_url="javascript:x")
            )
            connection.commit()
    response = api.get(f"/songs/{song_id}/cover", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_an_unknown_song_is_404(api: TestClient) -> None:
    for path in ("/songs/999/cover", f"/songs/{2**63 - 1}/cover"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Song not found"}
    assert api.get(f"/songs/{2**63}/cover").status_code in (404, 422)
    assert api.get("/songs/0/cover").status_code in (404, 422)


def test_a_rescan_that_changes_the_image_changes_the_etag(
    api: TestClient, library: Library, settings: Settings
) -> None:
    song_id = library.song()
    media = library.media(song_id, sidecar=image_bytes((300, 300), colour="red"))
    first = api.get(f"/songs/{song_id}/cover?size=64")
    path = settings.library_dir / str(media.cover_path)
    path.write_bytes(image_bytes((300, 300), colour="blue"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5 * 10**9))
    second = api.get(
        f"/songs/{song_id}/cover?size=64", headers={"If-None-Match": first.headers["etag"]}
    )
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]
    assert colour_at_centre(picture_of(second))[2] > 200


# Playlists ----------------------------------------------------------------------


def make_playlist(
    api: TestClient, headers: dict[str, str], song_ids: list[int], public: bool
) -> int:
    response = api.post(
        "/playlists", json={"name": "Mix", "song_ids": song_ids, "public": public}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_playlists_cover_is_its_first_entry_with_one(
    api: TestClient, library: Library, auth_header: AuthHeader
) -> None:
    bare = library.song()
    no_art = library.song()
    library.media(no_art)  # a file, but no picture and nothing beside it
    green = library.song()
    library.media(green, sidecar=image_bytes((400, 400), colour="green"))
    red = library.song()
    library.media(red, sidecar=image_bytes((400, 400), colour="red"))
    playlist_id = make_playlist(api, auth_header(OWNER), [bare, no_art, green, red], True)

    response = api.get(f"/playlists/{playlist_id}/cover?size=128")
    assert response.status_code == 200
    red_value, green_value, _ = colour_at_centre(picture_of(response))
    assert green_value > 100 and red_value < 60
    assert response.headers["etag"] == api.get(f"/songs/{green}/cover?size=128").headers["etag"]


def test_a_playlist_entry_with_only_a_url_counts_as_a_cover(
    api: TestClient, library: Library, auth_header: AuthHeader
) -> None:
    bare = library.song()
    linked = library.song(cover_image_url="https://cdn.example.com/linked.jpg")
    later = library.song()
    library.media(later, sidecar=image_bytes((100, 100)))
    playlist_id = make_playlist(api, auth_header(OWNER), [bare, linked, later], True)
    response = api.get(f"/playlists/{playlist_id}/cover", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://cdn.example.com/linked.jpg"


def test_an_empty_playlist_or_one_without_covers_gets_the_placeholder(
    api: TestClient, library: Library, auth_header: AuthHeader
) -> None:
    empty = make_playlist(api, auth_header(OWNER), [], True)
    coverless = make_playlist(api, auth_header(OWNER), [library.song(), library.song()], True)
    for playlist_id in (empty, coverless):
        response = api.get(f"/playlists/{playlist_id}/cover?size=64")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert picture_of(response).size == (64, 64)


def test_a_private_playlists_cover_is_for_its_owner_and_admins_only(
    api: TestClient, library: Library, auth_header: AuthHeader
) -> None:
    song_id = library.song()
    library.media(song_id, sidecar=image_bytes((100, 100)))
    playlist_id = make_playlist(api, auth_header(OWNER), [song_id], False)
    path = f"/playlists/{playlist_id}/cover"
    assert api.get(path).json() == {"detail": "Playlist not found"}
    assert api.get(path).status_code == 404
    assert api.get(path, headers=auth_header(OTHER)).status_code == 404
    owners = api.get(path, headers=auth_header(OWNER))
    assert owners.status_code == 200
    # Not "public": no shared cache may keep what only the owner may see.
    assert owners.headers["cache-control"] == "private, max-age=3600"
    assert api.get(path, headers=auth_header(ADMIN, "admin")).status_code == 200
    assert api.get("/playlists/999/cover").status_code == 404


# The repository on every backend (memory, SQLite with each statement compiled for
# SQL Server, PostgreSQL, MariaDB): tests/contract's `backend` fixture ----------

_numbers = itertools.count(1)


def backend_units(backend: Backend) -> Callable[..., SongUnitOfWork]:
    return backend.units(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork)


def backend_song(backend: Backend, **fields: Any) -> int:
    return backend.insert(
        "songs", title="song", artist="artist", genre="rock", file_url="/f.mp3", **fields
    )


def backend_media(
    backend: Backend, song_id: int, *, embedded: bool, cover_path: str | None
) -> None:
    number = next(_numbers)
    now = utcnow()
    row = {
        "song_id": song_id, "root": "media", "path": f"a/{number}.flac", "size": 10,
        "mtime_ns": 1, "checksum": f"{number:064x}", "content_type": "audio/flac",
        "suffix": "flac", "bitrate": None, "sample_rate": None, "channels": None,
        "duration_ms": None, "embedded_cover": embedded, "cover_path": cover_path,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    if backend.memory is not None:
        backend.memory.media_files[song_id] = row
        return
    assert backend.database is not None
    with backend.database.connect(write=True) as connection:
        connection.execute(insert(media_files).values(**row))
        connection.commit()


def test_repository_song_sources(backend: Backend) -> None:
    embedded = backend_song(backend, cover_image_url="https://x.test/e.jpg")
    backend_media(backend, embedded, embedded=True, cover_path=None)
    sidecar = backend_song(backend)
    backend_media(backend, sidecar, embedded=False, cover_path="a/cover.jpg")
    artless = backend_song(backend, cover_image_url="https://x.test/u.jpg")
    backend_media(backend, artless, embedded=False, cover_path=None)
    bare = backend_song(backend)
    with backend_units(backend)() as uow:
        found = {song_id: uow.covers.song_cover(song_id) for song_id in (embedded, sidecar)}
        assert found[embedded] is not None and found[embedded].art is not None
        assert (found[embedded].art.embedded, found[embedded].url) == (True, "https://x.test/e.jpg")
        assert found[sidecar] is not None and found[sidecar].art is not None
        assert (found[sidecar].art.embedded, found[sidecar].art.cover_path) == (
            False,
            "a/cover.jpg",
        )
        assert uow.covers.song_cover(artless) == CoverSource(url="https://x.test/u.jpg")
        assert uow.covers.song_cover(bare) == NO_COVER
        assert uow.covers.song_cover(10**12) is None


def test_repository_playlist_takes_the_first_entry_with_a_cover(backend: Backend) -> None:
    number = next(_numbers)
    owner = backend.insert(
        "users", username=f"cv{number}", email=f"cv{number}@x.io", password_hash="x",
        first_name="U", role="user",
    )  # fmt: skip
    bare, artless, linked, sidecar = (backend_song(backend) for _ in range(4))
    backend_media(backend, artless, embedded=False, cover_path=None)
    backend_media(backend, sidecar, embedded=False, cover_path="b/folder.png")
    with backend_units(backend)(write=True) as uow:
        uow.songs.update(linked, {"cover_image_url": "https://x.test/l.jpg"})
        empty = uow.playlists.add(owner, {"name": "empty", "public": True})
        full = uow.playlists.add(owner, {"name": "full", "public": True})
        uow.playlists.lock(full)
        uow.playlists.insert(full, [bare, artless, sidecar, linked], 0)
        uow.commit()
    with backend_units(backend)() as uow:
        assert uow.covers.playlist_cover(empty) == NO_COVER
        first = uow.covers.playlist_cover(full)
        assert first.art is not None and first.art.cover_path == "b/folder.png"
    with backend_units(backend)(write=True) as uow:  # the linked song moves to the top
        uow.playlists.lock(full)
        uow.playlists.move(full, 3, 0)
        uow.commit()
    with backend_units(backend)() as uow:
        assert uow.covers.playlist_cover(full) == CoverSource(url="https://x.test/l.jpg")
