"""Where a request's database work runs: on the event loop or in the threadpool."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from database import Database

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
    search may read the whole table, and a server database waits on the network."""
    database: Database = request.app.state.database
    if not scan and database.backend == "sqlite" and request.method in READ_METHODS:
        return call()
    return await run_in_threadpool(call)
