"""PostgreSQL use cases on the event loop (asyncpg, database.engine) answer
exactly as the same use cases in the threadpool on psycopg, and a connection the
server dropped costs no request an error: without a pre-ping, the read or write
is run again on a new connection (database.unit_of_work)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, select, text, update

from album_service.main import create_app as create_album_app
from auth_service.main import create_app as create_auth_app
from common.paging import encode_cursor
from common.passwords import PasswordHasher
from common.settings import Settings
from conftest import hold_role
from database import Database
from database.migrate import upgrade
from database.models import Song, User, UserLike
from database.types import utcnow
from scripts.bench.catalogue import load
from song_service.main import create_app as create_song_app
from tests.databases import require_server, scratch_database

SONG_READS = [
    "/songs?limit=7",
    "/songs?limit=7&sort=-title",
    "/songs?limit=7&sort=created_at",
    "/songs?genre=jazz&limit=7",
    "/songs?artist=Artist%203&limit=7",
    "/songs?q=love&limit=7",
    "/songs?q=love&sort=title&limit=7",
    "/songs?album_id=2",
    "/songs/liked?limit=3",
    "/songs/1",
    "/songs/17",
    "/songs/999999",
]
ALBUM_READS = [
    "/albums?limit=5",
    "/albums?limit=5&sort=-title",
    "/albums?q=love&limit=5",
    "/albums/2",
    "/albums/2/songs",
    "/albums/999999",
]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A scratch PostgreSQL database with 300 songs on 30 albums, user 1 liking 5."""
    with scratch_database(require_server("postgresql"), "event_loop") as url:
        rendered = url.render_as_string(hide_password=False)
        upgrade(rendered)
        catalogue = load(rendered, 300, 30)
        database = Database(rendered)
        hold_role(database, 1, "user")
        with database.connect(write=True) as connection:
            likes = [
                {"user_id": 1, "song_id": song_id, "created_at": utcnow()}
                for song_id in range(catalogue.first_song, catalogue.first_song + 5)
            ]
            connection.execute(insert(UserLike), likes)
            connection.commit()
        database.dispose()
        yield rendered


def client_for(
    create_app: Callable[[Settings, Database], FastAPI],
    settings: Settings,
    url: str,
    *,
    event_loop: bool,
) -> TestClient:
    database = Database(url, event_loop=event_loop)
    return TestClient(create_app(settings.model_copy(update={"database_url": url}), database))


def answers(client: TestClient, paths: list[str], headers: dict[str, str]) -> list[Any]:
    """Status, body and Link of each path, and of the page its Link points at."""
    seen = []
    for path in paths:
        response = client.get(path, headers=headers)
        seen.append((path, response.status_code, response.json(), response.headers.get("link")))
        link = response.headers.get("link")
        if link:
            following = client.get(link[1 : link.index(">")], headers=headers)
            seen.append((f"{path} next", following.status_code, following.json()))
    return seen


@pytest.mark.parametrize(
    ("create_app", "paths"),
    [(create_song_app, SONG_READS), (create_album_app, ALBUM_READS)],
    ids=["songs", "albums"],
)
def test_reads_on_the_event_loop_answer_as_the_threadpool_does(
    postgres_url: str,
    settings: Settings,
    auth_header: Callable[..., dict[str, str]],
    create_app: Callable[[Settings, Database], FastAPI],
    paths: list[str],
) -> None:
    headers = auth_header(1)
    with client_for(create_app, settings, postgres_url, event_loop=False) as threadpool:
        expected = answers(threadpool, paths, headers)
    with client_for(create_app, settings, postgres_url, event_loop=True) as loop:
        assert loop.app.state.database.event_loop
        assert answers(loop, paths, headers) == expected
    statuses = {path: status for path, status, *_ in expected}
    assert statuses["/songs/1" if "/songs/1" in statuses else "/albums/2"] == 200
    assert 404 in statuses.values()


def drop_every_connection(url: str) -> int:
    """What a database restart does to a service's pooled connections."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        admin.dispose()


@pytest.mark.parametrize("on_loop", [True, False], ids=["loop", "threadpool"])
def test_a_dropped_connection_costs_no_request_an_error(
    postgres_url: str,
    settings: Settings,
    auth_header: Callable[..., dict[str, str]],
    on_loop: bool,
) -> None:
    headers = auth_header(1)
    with client_for(create_song_app, settings, postgres_url, event_loop=on_loop) as client:
        # Fill the pools: a read, and a write through the threadpool's pool.
        assert client.get("/songs/20", headers=headers).status_code == 200
        assert client.post("/songs/20/like", headers=headers).status_code == 200
        assert drop_every_connection(postgres_url) >= 1
        read = client.get("/songs/20", headers=headers)
        assert read.status_code == 200, read.text
        assert read.json()["liked_by_me"] is True
        assert drop_every_connection(postgres_url) >= 1
        write = client.delete("/songs/20/like", headers=headers)
        assert write.status_code == 200, write.text
        assert write.json()["liked"] is False


def test_on_the_event_loop_reads_autocommit_and_writes_are_transactions(postgres_url: str) -> None:
    """A read unit is one round trip per statement; a write unit is atomic: what
    it did is gone unless it commits."""
    database = Database(postgres_url, event_loop=True)
    songs = Song.__table__

    def autocommit(write: bool) -> bool:
        with database.connect(write=write) as connection:
            return connection.connection.dbapi_connection.autocommit  # type: ignore[union-attr]

    def retitle(title: str, *, commit: bool) -> None:
        with database.connect(write=True) as connection:
            connection.execute(update(songs).where(songs.c.id == 3).values(title=title))
            if commit:
                connection.commit()
            else:
                raise LookupError("the use case changed its mind")

    def title() -> str:
        with database.connect() as connection:
            return connection.execute(select(songs.c.title).where(songs.c.id == 3)).scalar_one()

    async def scenario() -> tuple[bool, bool, str, str]:
        await database.start_event_loop()
        try:
            levels = (await database.on_event_loop(lambda: autocommit(False)),
                      await database.on_event_loop(lambda: autocommit(True)))  # fmt: skip
            await database.on_event_loop(lambda: retitle("Kept", commit=True))
            with pytest.raises(LookupError):
                await database.on_event_loop(lambda: retitle("Undone", commit=False))
            return (*levels, await database.on_event_loop(title), title())
        finally:
            await database.stop_event_loop()
            database.dispose()

    assert anyio.run(scenario) == (True, False, "Kept", "Kept")


def test_a_login_after_the_server_dropped_every_connection_succeeds(
    postgres_url: str, settings: Settings
) -> None:
    """A login records its attempt before the password check: a dead pooled
    connection there is re-run with the whole login, not answered 503."""
    password = "correct-horse-battery"
    database = Database(postgres_url)
    users = User.__table__
    with database.connect(write=True) as connection:
        connection.execute(
            update(users).where(users.c.id == 1).values(
                email="loop@example.com", password_hash=PasswordHasher(4).hash(password)
            )
        )  # fmt: skip
        connection.commit()
    database.dispose()
    body = {"email": "loop@example.com", "password": password}
    with client_for(create_auth_app, settings, postgres_url, event_loop=True) as client:
        assert client.post("/auth/login", json=body).status_code == 200
        assert drop_every_connection(postgres_url) >= 1
        again = client.post("/auth/login", json=body)
        assert again.status_code == 200, again.text


@pytest.mark.parametrize(
    "cursor",
    [
        {"sort": "id", "value": 2**63, "id": 2**63},
        {"sort": "title", "value": "\x00", "id": 1},
        {"sort": "created_at", "value": "0001-01-01T00:00:00+14:00", "id": 1},
    ],
    ids=["beyond bigint", "NUL", "before year 1 in UTC"],
)
def test_cursors_the_database_would_refuse_are_422_on_the_event_loop(
    postgres_url: str, settings: Settings, cursor: dict[str, object]
) -> None:
    sort = str(cursor["sort"])
    with client_for(create_song_app, settings, postgres_url, event_loop=True) as client:
        response = client.get("/songs", params={"sort": sort, "cursor": encode_cursor(cursor)})
    assert response.status_code == 422, response.text
