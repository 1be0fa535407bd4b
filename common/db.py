"""The per-request database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from database import Database

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session, opened and closed without a thread hop: making one
    does no I/O, and closing one only waits on the network when a server
    database still has a transaction open. Every dependency that needs no I/O is
    async for the same reason, so a request crosses into the threadpool once,
    for its handler.

    Reads and writes get different sessions so that on SQLite only writes take
    the write lock up front (BEGIN IMMEDIATE)."""
    database: Database = request.app.state.database
    session = database.session(write=request.method not in READ_METHODS)
    try:
        yield session
    finally:
        if database.backend != "sqlite" and session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()  # SQLite: an in-process call that never waits on a lock


SessionDep = Annotated[Session, Depends(get_session)]
