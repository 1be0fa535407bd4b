"""The Subsonic methods this facade answers, by name, and what one call carries.

Each module of `subsonic_service.methods` registers its handlers with `@method`;
the router (routers/rest.py) looks a name up here, authenticates unless the
method is public, checks the admin flag (error 50) and awaits the handler. A
handler returns a payload for the envelope (subsonic_service.envelope) or, for
binary methods (stream, download, getCoverArt), a Response of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response

from common.db import in_database
from common.settings import Settings
from subsonic_service.auth import Caller
from subsonic_service.envelope import Payload
from subsonic_service.params import Params
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork
from subsonic_service.upstream import Upstream

R = TypeVar("R")


@dataclass(frozen=True)
class Call:
    """One Subsonic request: its parameters, its caller (None for a public method)."""

    request: Request
    params: Params
    caller: Caller | None

    @property
    def user(self) -> Caller:
        """The authenticated caller (every method but the public ones has one)."""
        if self.caller is None:
            raise RuntimeError("a public method asked for its caller")
        return self.caller

    @property
    def settings(self) -> Settings:
        return self.request.app.state.settings

    @property
    def upstream(self) -> Upstream:
        return self.request.app.state.upstream

    @property
    def unit(self) -> Callable[[], SqlSubsonicUnitOfWork]:
        """Opens a read unit over the shared catalogue (repos/sql.py): the service
        functions take it, so a test can hand them another."""
        return self.request.app.state.service

    async def read(self, use_case: Callable[[], R], *, scan: bool = False) -> R:
        """Run a read use case where reads run (common.db.in_database); `scan` for
        one that may read a whole table (every artist, every genre), which then
        never runs on the event loop."""
        return await in_database(self.request, use_case, scan=scan)


Handler = Callable[[Call], Awaitable[Payload | Response]]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    auth: bool  # False: answered without credentials (getOpenSubsonicExtensions)
    admin: bool  # True: a non-admin caller gets error 50
    binary: bool  # True: answers bytes (HEAD then sends the headers only)


METHODS: dict[str, Method] = {}


def method(
    name: str, *, auth: bool = True, admin: bool = False, binary: bool = False
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as the Subsonic method `name`."""

    def register(handler: Handler) -> Handler:
        if name in METHODS:
            raise RuntimeError(f"{name} registered twice")
        METHODS[name] = Method(name, handler, auth, admin, binary)
        return handler

    return register


def find(name: str) -> Method | None:
    """The method named `name`; clients differ in case (`getalbumlist2`), so a
    name that matches no method exactly is matched ignoring case."""
    found = METHODS.get(name)
    if found is not None:
        return found
    folded = name.lower()
    return next((m for key, m in METHODS.items() if key.lower() == folded), None)
