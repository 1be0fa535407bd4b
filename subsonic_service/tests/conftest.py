"""The facade in-process, with the services it calls: auth, album and song service
run as ASGI apps on one migrated SQLite file, and subsonic_service's HTTP client is
routed to them by host name. The catalogue is made the way a user makes one, by
uploading tagged audio (media.synth) to song_service; its timestamps are then
fixed, so answers (snapshots) are the same on every run.

Session-scoped: building it takes seconds. Tests that write (stars, scrobbles,
playlists) do it as an account of their own (`new_user`), so what they change
never shows in another test's reads.
"""

from __future__ import annotations

import io
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import insert, update

from album_service.main import create_app as create_album_app
from auth_service.main import create_app as create_auth_app
from common.keys import ensure_hmac_key, public_jwk
from common.settings import Settings
from database import Database
from database.migrate import upgrade
from database.tables import (
    album_likes,
    albums,
    artist_likes,
    artists,
    playlist_songs,
    playlists,
    plays,
    songs,
    user_likes,
    users,
)
from media import synth
from song_service.main import create_app as create_song_app
from subsonic_service.main import create_app as create_subsonic_app

# Every row of the fixed catalogue was "created" from here on, a minute apart.
EPOCH = datetime(2026, 1, 17, 10, 0, tzinfo=UTC)
SONG_SECONDS = 2.0
HOSTS = {"auth": "auth.test", "album": "album.test", "song": "song.test"}
# Minted tokens live 900 s; one is reused for at most this long.
TOKEN_REUSE_SECONDS = 600


@dataclass(frozen=True)
class Track:
    title: str
    artist: str
    album: str
    album_artist: str
    track: int
    genre: str
    date: str
    disc: int = 1


# The catalogue: articles to ignore (The Beatles), accents (Die Ärzte), a
# compilation (Various Artists), two discs, several genres and years.
TRACKS = (
    Track("Come Together", "The Beatles", "Abbey Road", "The Beatles", 1, "Rock", "1969-09-26"),
    Track("Something", "The Beatles", "Abbey Road", "The Beatles", 2, "Rock", "1969-09-26"),
    Track("Her Majesty", "The Beatles", "Abbey Road", "The Beatles", 1, "Rock", "1969-09-26", 2),
    Track("Dancing Queen", "ABBA", "Arrival", "ABBA", 1, "Pop", "1976-10-11"),
    Track("Money, Money, Money", "ABBA", "Arrival", "ABBA", 2, "Pop", "1976-10-11"),
    Track("Unrockbar", "Die Ärzte", "Geräusch", "Die Ärzte", 1, "Punk", "2003-09-29"),
    Track("Dinge von denen", "Die Ärzte", "Geräusch", "Die Ärzte", 2, "Punk", "2003-09-29"),
    Track("Je veux", "Zaz", "Zaz", "Zaz", 1, "Chanson", "2010-05-10"),
    Track("Waterloo", "ABBA", "Hits", "Various Artists", 1, "Pop", "2000-01-01"),
    Track("Les passants", "Zaz", "Hits", "Various Artists", 2, "Chanson", "2000-01-01"),
)
ALBUM_COVERS = {"Abbey Road": (200, 40, 40), "Arrival": (40, 40, 200)}


class Dispatch(httpx.AsyncBaseTransport):
    """Routes the facade's calls to the in-process app named by the URL's host."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self._transports = {HOSTS[name]: httpx.ASGITransport(app=app) for name, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transports[request.url.host].handle_async_request(request)


@dataclass
class Library:
    """The running facade and what the catalogue holds, by name."""

    client: TestClient
    apps: dict[str, TestClient]
    database: Database
    settings: Settings
    mint: Callable[..., str]
    song_ids: dict[str, int]
    album_ids: dict[str, int]
    artist_ids: dict[str, int]
    users: dict[str, int]
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    def token(self, username: str = "alice") -> str:
        """An access token of `username`'s, minted once per TOKEN_REUSE_SECONDS
        (signing costs milliseconds; a test makes hundreds of calls)."""
        minted = self._tokens.get(username)
        if minted is None or time.monotonic() - minted[1] > TOKEN_REUSE_SECONDS:
            role = "admin" if username == "admin" else "user"
            minted = (self.mint(self.users[username], role), time.monotonic())
            self._tokens[username] = minted
        return minted[0]

    def get(self, method: str, user: str | None = "alice", **params: Any) -> httpx.Response:
        """GET /rest/<method> as `user` (a `jwt`; None sends no credentials)."""
        query: list[tuple[str, Any]] = []
        if user is not None:
            query.append(("jwt", self.token(user)))
        for name, value in params.items():
            values = value if isinstance(value, list | tuple) else [value]
            query.extend((name, item) for item in values)
        return self.client.get(f"/rest/{method}", params=query)

    def json(self, method: str, user: str | None = "alice", **params: Any) -> dict[str, Any]:
        """The `subsonic-response` object of a JSON call."""
        response = self.get(method, user, f="json", **params)
        return response.json()["subsonic-response"]

    def ok(self, method: str, user: str | None = "alice", **params: Any) -> dict[str, Any]:
        """As json(), failing the test unless the call succeeded."""
        body = self.json(method, user, **params)
        assert body["status"] == "ok", body
        return body

    def new_user(self, role: str = "user", username: str | None = None) -> str:
        """A fresh account (for tests that write), named `username` or uniquely;
        its username."""
        username = username or f"listener{next(self._names)}-{uuid.uuid4().hex[:6]}"
        now = datetime.now(UTC)
        with self.database.connect(write=True) as connection:
            user_id = connection.execute(
                insert(users).values(
                    username=username, email=f"{username}@example.com", password_hash="!",
                    first_name="Listener", role=role, created_at=now, updated_at=now,
                )
            ).inserted_primary_key[0]  # fmt: skip
            connection.commit()
        self.users[username] = user_id
        return username


def _cover(rgb: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), rgb).save(buffer, "JPEG")
    return buffer.getvalue()


def _add_user(database: Database, username: str, role: str) -> int:
    now = EPOCH
    with database.connect(write=True) as connection:
        user_id = connection.execute(
            insert(users).values(
                username=username, email=f"{username}@example.com", password_hash="!",
                first_name=username.title(), role=role, created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
        connection.commit()
    return user_id


def _fix_timestamps(database: Database) -> None:
    """Creation times a minute apart in id order, for answers that never change."""
    with database.connect(write=True) as connection:
        for table in (artists, albums, songs):
            ids = [row[0] for row in connection.execute(table.select().order_by(table.c.id))]
            for index, row_id in enumerate(ids):
                at = EPOCH + timedelta(minutes=index)
                connection.execute(
                    update(table).where(table.c.id == row_id).values(created_at=at, updated_at=at)
                )
        connection.commit()


def _add_listening(database: Database, user_ids: dict[str, int], song_ids: dict[str, int],
                   album_ids: dict[str, int], artist_ids: dict[str, int]) -> None:  # fmt: skip
    """alice's likes and plays and two playlists, at fixed times: what the lists of
    starred, frequent and recent things, and the playlists, show in snapshots."""
    alice, bob = user_ids["alice"], user_ids["bob"]
    at = EPOCH + timedelta(days=1)
    with database.connect(write=True) as connection:
        hour = timedelta(hours=1)
        song_likes = [("Something", at), ("Je veux", at + hour)]
        connection.execute(insert(user_likes), [
            {"user_id": alice, "song_id": song_ids[title], "created_at": when}
            for title, when in song_likes
        ])  # fmt: skip
        connection.execute(
            insert(album_likes),
            [{"user_id": alice, "album_id": album_ids["Arrival"], "created_at": at}],
        )
        connection.execute(
            insert(artist_likes),
            [{"user_id": alice, "artist_id": artist_ids["Zaz"], "created_at": at}],
        )
        listened = [
            ("Come Together", at),
            ("Come Together", at + 2 * hour),
            ("Unrockbar", at + 3 * hour),
        ]
        connection.execute(insert(plays), [
            {"user_id": alice, "song_id": song_ids[title], "played_at": when}
            for title, when in listened
        ])  # fmt: skip
        for owner, name, public, entries in (
            (bob, "Road trip", True, ["Something", "Waterloo", "Something"]),
            (alice, "Quiet", False, ["Je veux"]),
        ):
            playlist_id = connection.execute(
                insert(playlists).values(
                    owner_id=owner, name=name, description=f"{name} songs", public=public,
                    created_at=at, updated_at=at,
                )
            ).inserted_primary_key[0]  # fmt: skip
            connection.execute(insert(playlist_songs), [
                {"playlist_id": playlist_id, "position": position, "song_id": song_ids[title],
                 "added_at": at}
                for position, title in enumerate(entries)
            ])  # fmt: skip
        connection.commit()


@contextmanager
def running_library(data: Path, key_dir: Path) -> Iterator[Library]:
    """A fresh catalogue in `data` and the apps over it, until the block ends."""
    settings = Settings(
        _env_file=None,
        data_dir=data,
        database_url=f"sqlite:///{data / 'test.db'}",
        jwt_private_key_file=key_dir / "jwt_private.pem",
        jwt_public_key_file=key_dir / "jwt_public.pem",
        log_level="WARNING",
        auth_service_url=f"http://{HOSTS['auth']}",
        album_service_url=f"http://{HOSTS['album']}",
        song_service_url=f"http://{HOSTS['song']}",
    )
    ensure_hmac_key(settings.stream_url_key_file)  # type: ignore[arg-type]
    url = settings.sqlalchemy_url.render_as_string(hide_password=False)
    upgrade(url)
    database = Database(url)
    private_pem = (key_dir / "jwt_private.pem").read_bytes()
    kid = public_jwk((key_dir / "jwt_public.pem").read_bytes())["kid"]

    def mint(user_id: int, role: str = "user") -> str:
        now = int(time.time())
        claims = {
            "sub": str(user_id), "role": role, "type": "access", "iat": now, "exp": now + 900,
            "jti": uuid.uuid4().hex, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
        }  # fmt: skip
        return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": kid})

    user_ids = {name: _add_user(database, name, role) for name, role in
                (("alice", "user"), ("admin", "admin"), ("bob", "user"))}  # fmt: skip
    owners = {
        "auth": create_auth_app(settings, database),
        "album": create_album_app(settings, database),
        "song": create_song_app(settings, database),
    }
    with (
        TestClient(owners["auth"]) as auth,
        TestClient(owners["album"]) as album,
        TestClient(owners["song"]) as song,
    ):
        files = []
        folder = data / "upload"
        for number, track in enumerate(TRACKS):
            rgb = ALBUM_COVERS.get(track.album)
            path = synth.write_song(
                folder / f"{number:02d}.ogg", title=track.title, artists=[track.artist],
                album=track.album, album_artists=[track.album_artist], track=track.track,
                disc=track.disc, genres=[track.genre], date=track.date, seconds=SONG_SECONDS,
                cover=_cover(rgb) if rgb else None,
                compilation=track.album_artist == "Various Artists", seed=number,
            )  # fmt: skip
            files.append(("files", (path.name, path.read_bytes(), "audio/ogg")))
        admin = {"Authorization": f"Bearer {mint(user_ids['admin'], 'admin')}"}
        uploaded = song.post("/songs/upload", files=files, headers=admin)
        assert uploaded.status_code == 201, uploaded.text
        _fix_timestamps(database)
        with database.connect() as connection:
            song_ids = {row.title: row.id for row in connection.execute(songs.select())}
            album_ids = {row.title: row.id for row in connection.execute(albums.select())}
            artist_ids = {row.name: row.id for row in connection.execute(artists.select())}
        _add_listening(database, user_ids, song_ids, album_ids, artist_ids)
        facade = create_subsonic_app(settings, database)
        with TestClient(facade) as client:
            facade.state.upstream._client._transport = Dispatch(owners)
            yield Library(
                client=client,
                apps={"auth": auth, "album": album, "song": song},
                database=database,
                settings=settings,
                mint=mint,
                song_ids=song_ids,
                album_ids=album_ids,
                artist_ids=artist_ids,
                users=user_ids,
            )
    database.dispose()


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory, key_dir: Path) -> Iterator[Library]:
    """The catalogue shared by the session's tests (those that write use new_user)."""
    with running_library(tmp_path_factory.mktemp("subsonic"), key_dir) as running:
        yield running
