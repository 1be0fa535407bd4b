"""The reference: our two hottest reads written by hand on the same stack, as the
ceiling the fleet could reach, measured by `make bench` in the same run on the same
database. Every scenario is printed as a ratio to it as well as to the baseline.

The baseline (baseline.py) says what FastAPI on one uvicorn worker costs; this app
says what answering the real question costs when nothing stands between the route
and the database: an `async def` handler, an async driver (asyncpg on PostgreSQL;
on SQLite the stdlib `sqlite3` queried in the event loop, where a point read takes
microseconds), one prepared statement per request, the very token check the fleet
uses (common.auth.VerifierProvider with its verified-token cache) and the very JSON
the fleet returns, serialised with orjson. No ORM, no unit of work, no threadpool,
no pydantic models, no middleware. What it does not do: re-read an admin caller's
role from the database (the bench's callers are users) or answer HEAD and CORS.

- `GET /songs/{song_id}` with a bearer token: song_service's `GET /songs/{id}`
  (song_service.repos.sql.VIEW_BY_ID, SongOut: the like and play state);
  401 and 404 as the fleet says them.
- `GET /songs?limit=N`, anonymous: the first page in id order with the fleet's
  `Link: rel="next"` (common.paging), the like and play counts, the caller's
  `liked_by_me`, `my_play_count` and `last_played_at` null.

Started by scripts.bench.services as `uvicorn --factory
scripts.bench.reference:create_app`, with the services' environment (DATABASE_URL,
DATA_DIR, the JWT_* settings) read through common.settings.Settings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import orjson
from fastapi import FastAPI, Query, Request, Response
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import URL, make_url

from common.auth import VerifierProvider
from common.errors import DomainError, UnauthorizedError
from common.paging import BY_ID, DEFAULT_LIMIT, MAX_LIMIT, keyset_cursor, set_next_link
from common.schemas import ResourceId
from common.settings import Settings
from database.engine import SQLITE_BUSY_TIMEOUT_SECONDS
from song_service.repos.base import SongNotFoundError

if TYPE_CHECKING:
    import asyncpg

# One pooled connection per wrk connection of the bench (its --connections default):
# no request ever waits for a connection, none sits idle.
POOL_SIZE = 16
# The drivers by SQLAlchemy backend name, as the bench labels its rows.
DRIVERS = {"postgresql": "asyncpg", "sqlite": "sqlite3"}
# SongOut's keys in its order (common.schemas.SongFields, then song_service's own).
KEYS = ("id", "title", "artist", "artist_id", "genre", "file_url", "duration", "description",
        "cover_image_url", "release_date", "created_at", "updated_at", "media",
        "like_count", "liked_by_me", "play_count", "my_play_count", "last_played_at")  # fmt: skip
# The song's local file (API.md, Media), selected in MEDIA's place as these columns.
MEDIA_COLUMNS = ("content_type", "suffix", "size", "bitrate", "sample_rate", "channels",
                 "duration_ms")  # fmt: skip
MEDIA = KEYS.index("media")
CREATED_AT, UPDATED_AT = KEYS.index("created_at"), KEYS.index("updated_at")
# Positions in a selected row, where `media` is still its MEDIA_COLUMNS.
LIKED_BY_ME = KEYS.index("liked_by_me") + len(MEDIA_COLUMNS) - 1
LAST_PLAYED_AT = KEYS.index("last_played_at") + len(MEDIA_COLUMNS) - 1
# Timestamps are stored as naive UTC (database.types.UTCDateTime); pydantic writes
# aware UTC ones as "...Z", with the fraction only when there is one, as orjson does.
JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
# The statements, written for PostgreSQL ($1, $2): the same reads as
# song_service.repos.sql.VIEW_BY_ID and its first page in id order (_browsing_page).
BY_ID_SQL = """
SELECT s.id, s.title, s.artist, s.artist_id, s.genre, s.file_url, s.duration, s.description,
       s.cover_image_url, s.release_date, s.created_at, s.updated_at,
       m.content_type, m.suffix, m.size, m.bitrate, m.sample_rate, m.channels, m.duration_ms,
       (SELECT count(*) FROM user_likes AS l WHERE l.song_id = s.id) AS like_count,
       EXISTS (SELECT 1 FROM user_likes AS l WHERE l.song_id = s.id AND l.user_id = $2)
         AS liked_by_me,
       (SELECT count(*) FROM plays AS p WHERE p.song_id = s.id) AS play_count,
       (SELECT count(*) FROM plays AS p WHERE p.song_id = s.id AND p.user_id = $2)
         AS my_play_count,
       (SELECT max(p.played_at) FROM plays AS p WHERE p.song_id = s.id AND p.user_id = $2)
         AS last_played_at
FROM songs AS s LEFT JOIN media_files AS m ON m.song_id = s.id WHERE s.id = $1
"""
# Anonymous: the caller's columns are NULL, selected so that a row is in KEYS order.
PAGE_SQL = """
SELECT s.id, s.title, s.artist, s.artist_id, s.genre, s.file_url, s.duration, s.description,
       s.cover_image_url, s.release_date, s.created_at, s.updated_at,
       m.content_type, m.suffix, m.size, m.bitrate, m.sample_rate, m.channels, m.duration_ms,
       (SELECT count(*) FROM user_likes AS l WHERE l.song_id = s.id) AS like_count,
       NULL AS liked_by_me,
       (SELECT count(*) FROM plays AS p WHERE p.song_id = s.id) AS play_count,
       NULL AS my_play_count, NULL AS last_played_at
FROM songs AS s LEFT JOIN media_files AS m ON m.song_id = s.id ORDER BY s.id LIMIT $1
"""


class Store(Protocol):
    """The two reads, whatever the driver. A row is SongOut's values in KEYS order,
    timestamps as datetimes."""

    async def song(self, song_id: int, viewer_id: int) -> Sequence[Any] | None: ...

    async def first_songs(self, limit: int) -> Sequence[Sequence[Any]]: ...

    async def close(self) -> None: ...


class AsyncpgStore:
    """PostgreSQL through an asyncpg pool. `fetchrow`/`fetch` prepare a statement on
    a connection's first use of its text and keep it in that connection's statement
    cache (asyncpg's `statement_cache_size`): every later request is one Bind/Execute
    round trip of a prepared statement, without a Parse."""

    BY_ID, PAGE = BY_ID_SQL, PAGE_SQL

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: URL, connect_timeout: int) -> AsyncpgStore:
        import asyncpg  # only PostgreSQL needs it

        # postgresql+psycopg://user:pw@host:port/db -> postgresql://user:pw@host:port/db
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(
            dsn, min_size=POOL_SIZE, max_size=POOL_SIZE, timeout=connect_timeout
        )
        return cls(pool)

    async def song(self, song_id: int, viewer_id: int) -> Sequence[Any] | None:
        return await self._pool.fetchrow(self.BY_ID, song_id, viewer_id)

    async def first_songs(self, limit: int) -> Sequence[Sequence[Any]]:
        return await self._pool.fetch(self.PAGE, limit)

    async def close(self) -> None:
        await self._pool.close()


class SqliteStore:
    """SQLite through one stdlib `sqlite3` connection, queried straight in the event
    loop: a point read or a page from the page cache takes microseconds, less than
    handing it to a thread would. `sqlite3` keeps the prepared statements of the
    last texts it ran (`cached_statements`), so each request only binds and steps.
    SQLite hands timestamps back as the text SQLAlchemy stored ("2024-05-01
    12:00:00.123456", naive UTC); they are parsed here, as database.types does."""

    # SQLite's numbered parameters are ?1, ?2 where PostgreSQL's are $1, $2.
    BY_ID, PAGE = BY_ID_SQL.replace("$", "?"), PAGE_SQL.replace("$", "?")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @classmethod
    def open(cls, url: URL) -> SqliteStore:
        path = url.database
        if not path or path == ":memory:":
            raise RuntimeError(f"the reference needs a SQLite file, not {url}")
        # Autocommit (no implicit BEGIN): each read sees the newest committed data,
        # as the fleet's short read transactions do, and never holds a snapshot.
        connection = sqlite3.connect(
            path,
            timeout=SQLITE_BUSY_TIMEOUT_SECONDS,  # the services' busy timeout
            check_same_thread=False,
            isolation_level=None,
        )
        connection.execute("PRAGMA query_only=ON")  # it only reads
        return cls(connection)

    async def song(self, song_id: int, viewer_id: int) -> Sequence[Any] | None:
        row = self._connection.execute(self.BY_ID, (song_id, viewer_id)).fetchone()
        if row is None:
            return None
        values = _with_timestamps(row)
        values[LIKED_BY_ME] = bool(values[LIKED_BY_ME])  # EXISTS is 0 or 1 in SQLite
        if values[LAST_PLAYED_AT] is not None:
            values[LAST_PLAYED_AT] = datetime.fromisoformat(values[LAST_PLAYED_AT])
        return values

    async def first_songs(self, limit: int) -> Sequence[Sequence[Any]]:
        return [_with_timestamps(row) for row in self._connection.execute(self.PAGE, (limit,))]

    async def close(self) -> None:
        self._connection.close()


def _with_timestamps(row: Sequence[Any]) -> list[Any]:
    values = list(row)
    values[CREATED_AT] = datetime.fromisoformat(values[CREATED_AT])
    values[UPDATED_AT] = datetime.fromisoformat(values[UPDATED_AT])
    return values


def _song(row: Sequence[Any]) -> dict[str, Any]:
    """A selected row as SongOut's JSON object: the media columns become `media`."""
    end = MEDIA + len(MEDIA_COLUMNS)
    media = None
    if row[MEDIA] is not None:
        media = dict(zip(MEDIA_COLUMNS[:-1], row[MEDIA : end - 1], strict=True))
        media["duration"] = None if row[end - 1] is None else row[end - 1] / 1000
    return dict(zip(KEYS, [*row[:MEDIA], media, *row[end:]], strict=True))


def driver_name(url: str | URL) -> str:
    """The driver the reference uses for this database URL ("asyncpg", "sqlite3")."""
    backend = make_url(url).get_backend_name()
    if backend not in DRIVERS:
        raise RuntimeError(
            f"the bench's reference app runs on {' or '.join(DRIVERS)}, not {backend!r}"
        )
    return DRIVERS[backend]


async def open_store(settings: Settings) -> Store:
    url = settings.sqlalchemy_url
    if driver_name(url) == "asyncpg":
        return await AsyncpgStore.open(url, settings.db_connect_timeout_seconds)
    return SqliteStore.open(url)


def _json(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(content, option=JSON_OPTIONS),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


def _error(error: DomainError) -> Response:
    """The fleet's error body (common.errors): {"detail": ...} with its headers."""
    return _json({"detail": error.detail}, error.status_code, error.headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The reference app; `settings` for tests, else read from the environment."""
    settings = settings or Settings()
    # The bench's error rows would hide a wrong database URL until the first
    # request: refuse an unsupported one now.
    driver_name(settings.sqlalchemy_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = await open_store(settings)
        try:
            yield
        finally:
            await app.state.store.close()

    app = FastAPI(
        docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan, redirect_slashes=False
    )
    app.state.settings = settings  # common.paging.set_next_link reads public_base_url
    verifier = VerifierProvider(settings)

    @app.get("/health")
    async def health() -> Response:
        """For the bench's readiness wait; the store is open once this answers."""
        return _json({"status": "ok", "service": "reference"})

    @app.get("/songs/{song_id}")
    async def song(request: Request, song_id: ResourceId) -> Response:
        """song_service's GET /songs/{id}: one prepared SELECT of the song, its like
        count and whether the caller likes it, its play count and the caller's."""
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        if scheme.lower() != "bearer" or not token:
            return _error(UnauthorizedError())
        try:
            caller = verifier.get().verify(token)
        except DomainError as error:  # 401 for a bad token, 503 without the key
            return _error(error)
        row = await app.state.store.song(song_id, caller.user_id)
        if row is None:
            return _error(SongNotFoundError())
        return _json(_song(row))

    @app.get("/songs")
    async def first_page(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> Response:
        """song_service's anonymous GET /songs?limit=N: one row more than asked
        says whether there is a next page, whose cursor the fleet's own code writes."""
        rows = await app.state.store.first_songs(limit + 1)
        songs = [_song(row) for row in rows[:limit]]
        response = _json(songs)
        if len(rows) > limit:
            last = songs[-1]["id"]
            set_next_link(request, response, keyset_cursor(BY_ID, last, last))
        return response

    return app
