"""The bench's reference app (scripts/bench/reference.py) answers as the fleet does:
on a database prepared as `make bench` prepares one, for the same song and token,
song_service's `GET /songs/{id}` body byte for byte, its 401s and 404, and its
first page with the same `Link` header. Both apps run in-process and read their
settings from the environment the bench gives the services."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, update

from common.keys import public_jwk
from common.settings import Settings
from database.catalogue import catalogue_keys
from database.models import Song, User, UserLike
from database.tables import plays
from scripts.bench.catalogue import Catalogue, load
from scripts.bench.main import database_url
from scripts.bench.reference import create_app, driver_name
from scripts.bench.services import prepare
from song_service.main import create_app as create_song_app
from tests.databases import require_server
from tests.e2e.fleet import SETTINGS_VARIABLES

SONGS = 120  # more than a page of 50, fewer than one of 200
ALBUMS = 12
LIKER, OTHER = 1, 2  # user ids
ODD_SONG = {
    "title": "Zoë's “Song” 🎵",
    "description": 'Café ☕, a "quote", a \\ and a\nnew line',
    "duration": None,
    "release_date": date(1999, 12, 31),
    # No fraction: both must write "2020-01-01T00:00:00Z".
    "created_at": datetime(2020, 1, 1, tzinfo=UTC),
    "updated_at": datetime(2020, 1, 1, 0, 0, 0, 120_000, tzinfo=UTC),
}


@dataclass(frozen=True)
class Bench:
    """A database as the bench leaves it, and the settings both apps read."""

    catalogue: Catalogue
    settings: Settings
    tokens: dict[int, str]  # user id -> access token


def mint(settings: Settings, user_id: int) -> str:
    """An access token as auth_service signs one, with the bench's key pair."""
    now = int(time.time())
    claims = {"sub": str(user_id), "role": "user", "type": "access", "iat": now,
              "exp": now + 900, "jti": uuid.uuid4().hex, "iss": settings.jwt_issuer,
              "aud": settings.jwt_audience}  # fmt: skip
    kid = public_jwk(settings.public_key_path.read_bytes())["kid"]
    private = settings.private_key_path.read_bytes()
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


# (user, song: "first" or "last", time): LIKER played the first song twice, OTHER
# once; the times with and without a fraction, as both apps must write them.
PLAYED = [
    (LIKER, "first", datetime(2026, 1, 17, 10, 0, 0, 250_000, tzinfo=UTC)),
    (LIKER, "first", datetime(2025, 1, 1, tzinfo=UTC)),
    (OTHER, "first", datetime(2026, 2, 1, tzinfo=UTC)),
    (OTHER, "last", datetime(2026, 2, 2, 8, 30, tzinfo=UTC)),
]


def add_likes(url: str, catalogue: Catalogue) -> None:
    """Two users; LIKER likes the first and the last song, OTHER the first; their
    plays (PLAYED). The last song gets text and values that test the JSON:
    non-ASCII, escapes, nulls, a date."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for user_id in (LIKER, OTHER):
                connection.execute(insert(User.__table__).values(
                    id=user_id, username=f"ref{user_id}", email=f"ref{user_id}@example.com",
                    password_hash="!", first_name="Ref", role="user",
                    created_at=now, updated_at=now,
                ))  # fmt: skip
            likes = [(LIKER, catalogue.first_song), (LIKER, catalogue.last_song),
                     (OTHER, catalogue.first_song)]  # fmt: skip
            connection.execute(
                insert(UserLike.__table__),
                [{"user_id": user, "song_id": song, "created_at": now} for user, song in likes],
            )
            song_ids = {"first": catalogue.first_song, "last": catalogue.last_song}
            connection.execute(
                insert(plays),
                [{"user_id": user, "song_id": song_ids[song], "played_at": at}
                 for user, song, at in PLAYED],
            )  # fmt: skip
            songs = Song.__table__
            connection.execute(
                update(songs)
                .where(songs.c.id == catalogue.last_song)
                .values(**ODD_SONG, **catalogue_keys(ODD_SONG))
            )
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def bench(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bench]:
    """Keys, migrations and catalogue as scripts.bench.main prepares them; the
    process environment set as the bench sets the services'."""
    name = request.param
    if name != "sqlite":
        require_server(name)
    with database_url(name, tmp_path) as url:
        env = prepare(tmp_path, url)
        catalogue = load(url, SONGS, ALBUMS)
        add_likes(url, catalogue)
        monkeypatch.chdir(tmp_path)  # no developer's `.env`
        for variable in SETTINGS_VARIABLES:
            monkeypatch.delenv(variable, raising=False)
        for variable, value in env.items():
            if variable in SETTINGS_VARIABLES:
                monkeypatch.setenv(variable, value)
        settings = Settings()
        assert settings.database_url == url
        tokens = {user: mint(settings, user) for user in (LIKER, OTHER)}
        yield Bench(catalogue, settings, tokens)


@pytest.fixture
def clients(bench: Bench) -> Iterator[tuple[TestClient, TestClient]]:
    """(the fleet's song_service, the reference), both on the bench's database."""
    with (
        TestClient(create_song_app(Settings())) as fleet,
        TestClient(create_app()) as reference,  # its settings from the environment
    ):
        yield fleet, reference


def same_answer(
    clients: tuple[TestClient, TestClient], path: str, headers: dict[str, str] | None = None
) -> bytes:
    """Both apps' answer to GET `path`: same status, body bytes and Link header."""
    fleet, reference = (client.get(path, headers=headers or {}) for client in clients)
    assert reference.status_code == fleet.status_code, (path, fleet.text, reference.text)
    assert reference.content == fleet.content, path
    assert reference.headers["content-type"] == fleet.headers["content-type"]
    assert reference.headers.get("link") == fleet.headers.get("link"), path
    assert reference.headers.get("www-authenticate") == fleet.headers.get("www-authenticate")
    return reference.content


def bearer(bench: Bench, user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {bench.tokens[user_id]}"}


def test_a_song_is_the_fleets_json_byte_for_byte(
    bench: Bench, clients: tuple[TestClient, TestClient]
) -> None:
    c = bench.catalogue
    middle = (c.first_song + c.last_song) // 2
    cases = [  # (song, caller, its like count, whether the caller likes it)
        (c.first_song, LIKER, 2, True),
        (c.first_song, OTHER, 2, True),
        (c.last_song, LIKER, 1, True),
        (c.last_song, OTHER, 1, False),
        (middle, LIKER, 0, False),
    ]
    for song_id, caller, like_count, liked in cases:
        body = same_answer(clients, f"/songs/{song_id}", bearer(bench, caller))
        assert f'"like_count":{like_count},"liked_by_me":{str(liked).lower()},' in body.decode()
    plays = [  # (song, caller, its play count, the caller's, the caller's last play)
        (c.first_song, LIKER, 3, 2, '"2026-01-17T10:00:00.250000Z"'),
        (c.first_song, OTHER, 3, 1, '"2026-02-01T00:00:00Z"'),
        (c.last_song, LIKER, 1, 0, "null"),
        (c.last_song, OTHER, 1, 1, '"2026-02-02T08:30:00Z"'),
        (middle, LIKER, 0, 0, "null"),
    ]
    for song_id, caller, play_count, mine, last in plays:
        body = same_answer(clients, f"/songs/{song_id}", bearer(bench, caller))
        expected = f'"play_count":{play_count},"my_play_count":{mine},"last_played_at":{last}}}'
        assert body.decode().endswith(expected), body
    odd = same_answer(clients, f"/songs/{c.last_song}", bearer(bench, LIKER)).decode()
    assert '"release_date":"1999-12-31","created_at":"2020-01-01T00:00:00Z",' in odd
    assert '"updated_at":"2020-01-01T00:00:00.120000Z"' in odd
    assert "Zoë's “Song” 🎵" in odd  # UTF-8, not \\u escapes, on both sides


def test_no_token_a_bad_token_and_an_unknown_song_are_the_fleets_errors(
    bench: Bench, clients: tuple[TestClient, TestClient]
) -> None:
    path = f"/songs/{bench.catalogue.first_song}"
    assert same_answer(clients, path) == b'{"detail":"Not authenticated"}'
    assert same_answer(clients, path, {"Authorization": "Basic abc"}) == (
        b'{"detail":"Not authenticated"}'
    )
    assert same_answer(clients, path, {"Authorization": "Bearer not.a.token"}) == (
        b'{"detail":"Invalid token"}'
    )
    unknown = f"/songs/{bench.catalogue.last_song + 1000}"
    assert same_answer(clients, unknown, bearer(bench, LIKER)) == b'{"detail":"Song not found"}'
    _, reference = clients
    assert reference.get(path).status_code == 401
    assert reference.get(unknown, headers=bearer(bench, LIKER)).status_code == 404


def test_the_first_page_and_its_link_are_the_fleets(
    bench: Bench, clients: tuple[TestClient, TestClient]
) -> None:
    _, reference = clients
    same_answer(clients, "/songs?limit=50")
    page = reference.get("/songs?limit=50")
    assert [song["id"] for song in page.json()] == list(
        range(bench.catalogue.first_song, bench.catalogue.first_song + 50)
    )
    assert all(song["liked_by_me"] is None for song in page.json())
    assert all(song["my_play_count"] is None for song in page.json())
    assert all(song["last_played_at"] is None for song in page.json())
    assert page.json()[0]["like_count"] == 2
    assert page.json()[0]["play_count"] == 3
    assert page.links["next"]["url"].startswith("http://testserver/songs?limit=50&cursor=")
    # The whole catalogue in one page: no next page, no Link, on either side.
    same_answer(clients, "/songs?limit=200")
    assert "link" not in reference.get("/songs?limit=200").headers
    # The default limit is the fleet's too.
    same_answer(clients, "/songs")


def test_only_postgresql_and_sqlite_are_supported() -> None:
    assert driver_name("postgresql+psycopg://u:p@localhost:5432/db") == "asyncpg"
    assert driver_name("sqlite:///data/musicplayer.db") == "sqlite3"
    mariadb = Settings(_env_file=None, database_url="mysql+pymysql://u:p@localhost/db")
    with pytest.raises(RuntimeError, match="runs on postgresql or sqlite, not 'mysql'"):
        create_app(mariadb)
