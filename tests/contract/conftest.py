"""The backends every repository contract test runs against.

A contract test takes the `backend` fixture and builds its repository with
`backend.build(memory=..., sql=...)`; the same assertions then run on the
in-memory fake and on each real database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session

from database import Database
from database.memory import MemoryDatabase

Repo = TypeVar("Repo")


@dataclass
class Backend:
    name: str
    memory: MemoryDatabase | None = None
    database: Database | None = None
    session: Session | None = None

    def build(
        self,
        *,
        memory: Callable[[MemoryDatabase], Repo],
        sql: Callable[[Session], Repo],
    ) -> Repo:
        if self.memory is not None:
            return memory(self.memory)
        assert self.session is not None
        return sql(self.session)

    @contextmanager
    def isolated(self) -> Iterator[Backend]:
        """The same data seen through a session of its own, as a concurrent request has."""
        if self.database is None:
            yield self
            return
        with self.database.session(write=True) as session:
            yield Backend(self.name, database=self.database, session=session)


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        yield Backend("memory", memory=MemoryDatabase())
        return
    database: Database = request.getfixturevalue("database")
    with database.session(write=True) as session:
        yield Backend(request.param, database=database, session=session)
