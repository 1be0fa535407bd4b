"""Where a request's database work runs: on the event loop, in the threadpool, or
(searches) in threads of their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from common.errors import ServiceUnavailableError
from common.settings import Settings
from database import Database
from database.unit_of_work import run_unit

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
R = TypeVar("R")


async def in_database(request: Request, call: Callable[[], R], *, scan: bool = False) -> R:
    """Run a handler's service call where it costs least without ever stalling the
    event loop.

    On SQLite, a bounded read (an index lookup or an index-ordered page: `scan`
    False) runs right here: WAL readers never wait on a lock and the pages are in
    memory, so the query takes tens of microseconds, less than the hand-off to a
    worker thread and back. Everything else goes to the threadpool: writes may
    wait for another process's write lock (and some hash a password first), a
    search may read the whole table, and a server database waits on the network.

    A `scan` (a public search that may read far into a table) never takes a
    threadpool thread: it runs under its own admission (`SearchAdmission`), so a
    flood of searches cannot keep writes waiting for a thread.

    `call` is one use case (a service method opening its own unit of work); a
    write that lost a race is re-run whole by `run_unit`, reads never need it."""
    database: Database = request.app.state.database
    if request.method in READ_METHODS:
        if scan:
            return await search_admission(request.app).run(call)
        if database.backend == "sqlite":
            return call()
        return await run_in_threadpool(call)
    return await run_in_threadpool(run_unit, call)


class SearchesBusyError(ServiceUnavailableError):
    detail = "Too many searches at once; try again in a moment"
    headers = {"Retry-After": "1"}


# Searches at once per process when SEARCH_CONCURRENCY is unset. On SQLite the
# work is this process's CPU: one search thread leaves the other core to the event
# loop and the writes. A server database does the work itself.
DEFAULT_SEARCH_CONCURRENCY = {"sqlite": 1}
DEFAULT_SERVER_SEARCH_CONCURRENCY = 4


class SearchAdmission:
    """Expensive public reads in worker threads of their own: at most `concurrency`
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

    async def run(self, call: Callable[[], R]) -> R:
        statistics = self._limiter.statistics()
        busy = statistics.borrowed_tokens >= statistics.total_tokens
        if busy and statistics.tasks_waiting >= self._queue_size:
            raise SearchesBusyError()
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)


def search_admission(app: FastAPI) -> SearchAdmission:
    """The app's SearchAdmission, made on first use (inside the event loop)."""
    admission: SearchAdmission | None = getattr(app.state, "search_admission", None)
    if admission is None:
        settings: Settings = app.state.settings
        backend = app.state.database.backend
        concurrency = settings.search_concurrency or DEFAULT_SEARCH_CONCURRENCY.get(
            backend, DEFAULT_SERVER_SEARCH_CONCURRENCY
        )
        admission = SearchAdmission(concurrency, settings.search_queue_size)
        app.state.search_admission = admission
    return admission
