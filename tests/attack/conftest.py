"""The four services in-process on one migrated SQLite database, seeded with an
admin, a plain user and a small catalogue, for the attack suites."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from album_service.main import create_app as create_album_app
from auth_service.main import create_app as create_auth_app
from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database
from database.artists import artist_fields
from database.models import Album, AlbumSong, Song, User
from database.tables import artists, playlist_songs, playlists
from database.types import utcnow
from song_service.main import create_app as create_song_app
from tests.attack.walk import assert_no_secrets, shown_once_key
from user_service.main import create_app as create_user_app

FACTORIES: dict[str, Callable[[Settings, Database], FastAPI]] = {
    "auth": create_auth_app,
    "album": create_album_app,
    "song": create_song_app,
    "user": create_user_app,
}
PASSWORD = "attack-suite-password"


class WalkingClient(TestClient):
    """A TestClient that checks every JSON body it receives for secrets, so no
    suite can see a password or hash go by unnoticed."""

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().request(*args, **kwargs)
        # The OpenAPI document describes password fields; it carries no data.
        describes_api = str(args[1]).endswith("/openapi.json")
        is_json = response.headers.get("content-type", "").startswith("application/json")
        if is_json and response.content and not describes_api:  # HEAD has no body
            shown = shown_once_key(str(args[0]), str(args[1]), response.status_code)
            assert_no_secrets(response.json(), f"{args[0]} {args[1]}", shown_once=shown)
        return response


@dataclass(frozen=True)
class World:
    admin_id: int
    user_id: int
    other_id: int
    album_id: int
    song_id: int
    # A private playlist of `user`'s, holding the seed song: BOLA's object.
    playlist_id: int = 0
    # The seed album's and song's artist.
    artist_id: int = 0


def seed_world(database: Database, hasher: PasswordHasher) -> World:
    now = utcnow()
    password_hash = hasher.hash(PASSWORD)
    with database.transaction() as session:
        ids = []
        for name, role in (("admin", "admin"), ("user", "user"), ("other", "user")):
            result = session.execute(insert(User).values(
                username=name, email=f"{name}@example.com", password_hash=password_hash,
                first_name=name.title(), role=role, created_at=now, updated_at=now,
            ))  # fmt: skip
            ids.append(result.inserted_primary_key[0])
        artist_id = session.execute(insert(artists).values(
            **artist_fields("Seed"), created_at=now, updated_at=now,
        )).inserted_primary_key[0]  # fmt: skip
        album_id = session.execute(insert(Album).values(
            title="Seed Album", artist="Seed", artist_id=artist_id, genre="rock",
            created_at=now, updated_at=now,
        )).inserted_primary_key[0]  # fmt: skip
        song_id = session.execute(insert(Song).values(
            title="Seed Song", artist="Seed", artist_id=artist_id, genre="rock",
            file_url="/seed.mp3", created_at=now, updated_at=now,
        )).inserted_primary_key[0]  # fmt: skip
        session.execute(
            insert(AlbumSong).values(album_id=album_id, song_id=song_id, track_number=1)
        )
        playlist_id = session.execute(insert(playlists).values(
            owner_id=ids[1], name="Private Mix", public=False, created_at=now, updated_at=now,
        )).inserted_primary_key[0]  # fmt: skip
        session.execute(
            insert(playlist_songs).values(
                playlist_id=playlist_id, position=0, song_id=song_id, added_at=now
            )
        )
    return World(
        ids[0], ids[1], ids[2], album_id, song_id, playlist_id=playlist_id, artist_id=artist_id
    )


@pytest.fixture
def attack_settings(settings: Settings) -> Settings:
    # Throttling is exercised by its own tests; the suites must not trip it.
    return settings.model_copy(
        update={
            "login_free_failures": 10_000,
            "login_max_failures_per_account": 10_001,
            "login_max_failures_per_address": 10_000,
            "signup_max_per_address": 10_000,
        }
    )


@pytest.fixture
def world(database: Database, fast_hasher: PasswordHasher) -> World:
    return seed_world(database, fast_hasher)


@contextmanager
def started_clients(
    settings: Settings, database: Database, hasher: PasswordHasher
) -> Iterator[dict[str, TestClient]]:
    """The four apps started (lifespans run) behind walking clients, with the fast
    hasher put in place of the cost-12 one their start-up built."""
    with ExitStack() as stack:
        clients: dict[str, TestClient] = {}
        for name, factory in FACTORIES.items():
            client = WalkingClient(factory(settings, database), raise_server_exceptions=False)
            clients[name] = stack.enter_context(client)
            client.app.state.hasher = hasher
            client.app.state.service = client.app.state.build_service(client.app)
        yield clients


@pytest.fixture
def clients(
    attack_settings: Settings, database: Database, fast_hasher: PasswordHasher, world: World
) -> Iterator[dict[str, TestClient]]:
    with started_clients(attack_settings, database, fast_hasher) as started:
        yield started
