"""The per-request database session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from database import Database

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    # Reads and writes get different sessions so that on SQLite only writes
    # take the write lock up front (BEGIN IMMEDIATE).
    database: Database = request.app.state.database
    with database.session(write=request.method not in READ_METHODS) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
