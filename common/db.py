"""Where a request's database work runs: on the event loop, in the threadpool,
and (searches) under an admission of their own."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from common.errors import ServiceUnavailableError
from common.settings import Settings
from database import Database
from database.unit_of_work import run_read, run_unit

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
R = TypeVar("R")


async def in_database(request: Request, call: Callable[[], R], *, scan: bool = False) -> R:
    """Run a handler's service call where it costs least without ever stalling the
    event loop.

    `call` is one use case (a service method opening its own units of work). A
    write that lost a race, or met a connection the server had dropped, is re-run
    whole by `run_unit`; a read on a dropped connection once by `run_read`.

    - SQLite: a bounded read (an index lookup or an index-ordered page: `scan`
      False) runs right here: WAL readers never wait on a lock and the pages are
      in memory, so the query takes tens of microseconds, less than the hand-off
      to a worker thread and back. Writes go to the threadpool: they may wait
      for another process's write lock, and some hash a password first.
    - PostgreSQL: everything on the event loop (`Database.on_event_loop`); each
      round trip awaits there, so a thousand use cases in flight hold no thread.
    - SQL Server and MariaDB: their drivers block, so the threadpool.

    A `scan` (a public search that may read far into a table) never takes a
    threadpool thread: it runs under its own admission (`SearchAdmission`), so a
    flood of searches cannot keep writes waiting for a thread."""
    database: Database = request.app.state.database
    if request.method not in READ_METHODS:
        return await write(database, call)
    if scan:
        return await search_admission(request.app).run(database, functools.partial(run_read, call))
    return await read(database, call)


async def read(database: Database, call: Callable[[], R]) -> R:
    """`call`, a use case that only reads, where it costs least (see in_database)."""
    if database.backend == "sqlite":
        return call()
    if database.event_loop:
        return await database.on_event_loop(functools.partial(run_read, call))
    return await run_in_threadpool(run_read, call)


async def write(database: Database, call: Callable[[], R]) -> R:
    """`call`, a use case that writes, where it costs least (see in_database)."""
    if database.event_loop:
        return await database.on_event_loop(functools.partial(run_unit, call))
    return await run_in_threadpool(run_unit, call)


class SearchesBusyError(ServiceUnavailableError):
    detail = "Too many searches at once; try again in a moment"
    headers = {"Retry-After": "1"}


# Searches at once per process when SEARCH_CONCURRENCY is unset. On SQLite the
# work is this process's CPU: one search thread leaves the other core to the event
# loop and the writes. A server database does the work itself, and one search that
# reads far into a table keeps a core of it busy: two per process leave the likes
# and logins of a two-core server their share (make bench, the search flood).
DEFAULT_SEARCH_CONCURRENCY = {"sqlite": 1}
DEFAULT_SERVER_SEARCH_CONCURRENCY = 2
# Threadpool threads when THREADPOOL_SIZE is unset. Embedded SQLite work is
# in-process CPU under the GIL: every extra thread only makes the event loop wait
# longer for the GIL (a page of songs served 2.8x faster with 1-2 threads than with
# anyio's default 40). A server's drivers release the GIL while they wait on the
# network; with use cases on the event loop (PostgreSQL) the threads only hash.
DEFAULT_THREADS = {"sqlite": 2}
DEFAULT_SERVER_THREADS = 16
DEFAULT_SERVER_THREADS_WITH_EVENT_LOOP = 8


@dataclass(frozen=True)
class Capacity:
    """How much database work a service process runs at once, and the pool of
    connections for it: one per thread that may hold one, so that no connection
    is opened and closed again under load (database.engine)."""

    threads: int  # the threadpool: bcrypt, and the use cases of blocking drivers
    searches: int  # searches at once (SearchAdmission)
    pool_size: int  # connections for the threads (DB_POOL_SIZE overrides)
    event_loop_pool_size: int | None  # the event loop's (PostgreSQL); None: the default

    @classmethod
    def of(cls, settings: Settings) -> Capacity:
        backend = settings.sqlalchemy_url.get_backend_name()
        event_loop = settings.db_event_loop and backend == "postgresql"
        if backend == "sqlite":
            default_threads = DEFAULT_THREADS["sqlite"]
        elif event_loop:
            default_threads = DEFAULT_SERVER_THREADS_WITH_EVENT_LOOP
        else:
            default_threads = DEFAULT_SERVER_THREADS
        threads = settings.threadpool_size or default_threads
        searches = settings.search_concurrency or DEFAULT_SEARCH_CONCURRENCY.get(
            backend, DEFAULT_SERVER_SEARCH_CONCURRENCY
        )
        return cls(
            threads=threads,
            searches=searches,
            pool_size=settings.db_pool_size or threads + searches,
            event_loop_pool_size=settings.db_pool_size,
        )


class SearchAdmission:
    """Expensive public reads under an admission of their own (in worker threads of
    their own, or on the event loop where use cases run there): at most `concurrency`
    at once and `queue_size` waiting; beyond that SearchesBusyError (503), rather
    than an ever longer queue. Separate from the threadpool that writes (and
    every other blocking call) use, so they never wait behind a search."""

    def __init__(self, concurrency: int, queue_size: int) -> None:
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._queue_size = queue_size

    @property
    def waiting(self) -> int:
        """Searches queued for a thread."""
        return self._limiter.statistics().tasks_waiting

    async def run(self, database: Database, call: Callable[[], R]) -> R:
        """`call` once one of the `concurrency` places is free: on the event loop
        where the database runs use cases there, else in a thread of its own."""
        statistics = self._limiter.statistics()
        busy = statistics.borrowed_tokens >= statistics.total_tokens
        if busy and statistics.tasks_waiting >= self._queue_size:
            raise SearchesBusyError()
        if database.event_loop:
            async with self._limiter:
                return await database.on_event_loop(call)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)


def search_admission(app: FastAPI) -> SearchAdmission:
    """The app's SearchAdmission, made on first use (inside the event loop)."""
    admission: SearchAdmission | None = getattr(app.state, "search_admission", None)
    if admission is None:
        settings: Settings = app.state.settings
        admission = SearchAdmission(Capacity.of(settings).searches, settings.search_queue_size)
        app.state.search_admission = admission
    return admission
