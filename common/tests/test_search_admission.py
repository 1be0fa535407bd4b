"""Searches get an admission of their own (common.db, SearchAdmission): however
many arrive at once, a write never waits for a thread behind them, and beyond the
queue a search is refused rather than queued for ever."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import anyio
import anyio.to_thread
import httpx
from fastapi import FastAPI, Request

from common.db import in_database, search_admission
from common.errors import install_error_handlers
from common.settings import Settings

SEARCHES = 16  # the flood of anonymous searches that match nothing


class Blocker:
    """A search that takes as long as the test wants: until `release`."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = 0
        self._lock = threading.Lock()

    def __call__(self) -> list[str]:
        with self._lock:
            self.entered += 1
        self.release.wait(30)
        return []


def search_app(settings: Settings, blocker: Blocker) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.settings = settings
    app.state.database = SimpleNamespace(backend="sqlite", event_loop=False)

    @app.get("/songs")
    async def search(request: Request) -> list[str]:
        return await in_database(request, blocker, scan=True)

    @app.post("/songs/1/like")
    async def like(request: Request) -> dict[str, bool]:
        return await in_database(request, lambda: {"liked": True})

    return app


def run_with_client(app: FastAPI, body: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
    async def main() -> None:
        # The SQLite default (common.app): two threads for everything blocking.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await body(client)

    anyio.run(main)


async def until(condition: Callable[[], bool]) -> None:
    # Polls: the counts change in worker threads, which cannot set an anyio.Event.
    with anyio.fail_after(10):
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.01)


def test_a_flood_of_searches_never_keeps_a_write_waiting(settings: Settings) -> None:
    blocker = Blocker()
    app = search_app(settings.model_copy(update={"search_concurrency": 2}), blocker)
    statuses: list[int] = []

    async def body(client: httpx.AsyncClient) -> None:
        async def search() -> None:
            statuses.append((await client.get("/songs", params={"q": "zzzz"})).status_code)

        try:
            async with anyio.create_task_group() as searches:
                for _ in range(SEARCHES):
                    searches.start_soon(search)
                await until(lambda: blocker.entered >= 2)
                # Every search thread is busy and fourteen more searches wait.
                with anyio.fail_after(10):
                    liked = await client.post("/songs/1/like")
                assert liked.json() == {"liked": True}
                blocker.release.set()
        finally:
            blocker.release.set()

    run_with_client(app, body)
    assert statuses == [200] * SEARCHES


def test_searches_beyond_the_queue_are_refused(settings: Settings) -> None:
    blocker = Blocker()
    update = {"search_concurrency": 1, "search_queue_size": 2}
    app = search_app(settings.model_copy(update=update), blocker)
    statuses: list[int] = []

    async def body(client: httpx.AsyncClient) -> None:
        async def search() -> None:
            statuses.append((await client.get("/songs")).status_code)

        try:
            async with anyio.create_task_group() as searches:
                for _ in range(3):  # one running, two waiting
                    searches.start_soon(search)
                await until(lambda: search_admission(app).waiting == 2)
                refused = await client.get("/songs")
                assert refused.status_code == 503
                assert refused.headers["Retry-After"] == "1"
                blocker.release.set()
        finally:
            blocker.release.set()

    run_with_client(app, body)
    assert statuses == [200] * 3
