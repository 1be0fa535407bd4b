"""The one place the services' HTTP server is configured: `python -m common.server
song_service --port 8002` runs uvicorn with the fleet's limits. `make run`
(scripts/run_fleet.py) and the images (Dockerfile) start the services this way.

uvicorn's default HTTP parser (httptools) reads a request's headers for as long
and as far as a client cares to send them: one slow or endless request head ties
up a connection and memory. BoundedHttpToolsProtocol closes the connection when
the request line and headers are not complete within HTTP_HEADER_TIMEOUT_SECONDS
(a connection that sends nothing included) and answers 431 when they exceed
HTTP_MAX_HEADER_BYTES. Idle keep-alive connections close after
HTTP_KEEP_ALIVE_SECONDS (uvicorn's timeout_keep_alive). The gateway bounds the
same things in front (gateway/nginx.conf); these hold without it too.

With `--workers N` (N > 1) the workers' Prometheus metrics are added up from a
folder of their own (common.metrics): a fresh private one in the temporary
folder (TMPDIR) for each run, made before the workers start and removed when
the server stops; a dead worker's live gauges (in-flight requests, pool
connections) are dropped when uvicorn replaces it. With one worker the metrics
stay in the process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

import uvicorn
from uvicorn.config import Config
from uvicorn.main import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

from common.logging import configure_logging
from common.settings import Settings

logger = logging.getLogger(__name__)
# prometheus-client's multiprocess folder (common.metrics.MULTIPROCESS_DIR_VARIABLE;
# not imported from there: importing prometheus-client before the variable is
# set would fix this process's mode).
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

SERVICES = {
    "auth_service": 8000,
    "album_service": 8001,
    "song_service": 8002,
    "user_service": 8003,
    "subsonic_service": 8004,
}


class HeaderLimits:
    """The limits the protocol reads from its uvicorn Config."""

    def __init__(self, max_header_bytes: int, header_timeout_seconds: float) -> None:
        self.max_header_bytes = max_header_bytes
        self.header_timeout_seconds = header_timeout_seconds


class HeadTooLargeError(Exception):
    """Raised from a parser callback to stop parsing a request head over the cap."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size cap on request heads."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits: HeaderLimits = config.musicplayer_limits  # type: ignore[attr-defined]
        self.max_header_bytes = limits.max_header_bytes
        self.header_timeout = limits.header_timeout_seconds
        self.parsed_head_bytes = 0  # request line and headers the parser handed over
        self.unparsed_head_bytes = 0  # bytes received while the head is incomplete
        self.reading_head = True
        self.refused = False
        self.head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_clock()  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        super().data_received(data)
        # A head split over several reads: httptools buffers a header until it is
        # complete, so the raw bytes are what bounds it, and the clock starts. A
        # head that arrives whole (nearly every request) never touches the clock:
        # arming and cancelling a timer per request cost the hot path measurably.
        if self.reading_head and not self.refused and not self.transport.is_closing():
            self.unparsed_head_bytes += len(data)
            if self.unparsed_head_bytes > self.max_header_bytes:
                self._refuse_head()
            elif self.head_deadline is None:
                self._start_clock()

    def send_400_response(self, msg: str) -> None:
        if not self.refused:  # a refused head has had its 431 already
            super().send_400_response(msg)

    # Parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True
        self.parsed_head_bytes = self.unparsed_head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._stop_clock()
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self.parsed_head_bytes += size
        if self.parsed_head_bytes > self.max_header_bytes:
            self._refuse_head()
            raise HeadTooLargeError  # stops the parser; send_400_response stays quiet

    def _start_clock(self) -> None:
        self.head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _stop_clock(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _head_too_slow(self) -> None:
        self.head_deadline = None
        if self.reading_head and not self.transport.is_closing():
            logger.info("closing a connection whose request head took too long")
            self.transport.close()

    def _refuse_head(self) -> None:
        self.refused = True
        self._stop_clock()
        logger.info("refusing a request head over %d bytes", self.max_header_bytes)
        body = b'{"detail":"Request headers too large"}'
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()


class BoundedConfig(Config):
    """A uvicorn Config that carries the header limits to every connection."""

    def __init__(self, *args: Any, limits: HeaderLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.musicplayer_limits = limits


def server_config(
    service: str,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    workers: int = 1,
    forwarded_allow_ips: str | None = None,
    settings: Settings | None = None,
) -> BoundedConfig:
    """The uvicorn configuration of one service, limits included. X-Forwarded-For
    and -Proto are believed only from FORWARDED_ALLOW_IPS (`forwarded_allow_ips`
    overrides it), nobody's by default: see common.client_address."""
    settings = settings or Settings()
    trusted = settings.forwarded_allow_ips if forwarded_allow_ips is None else forwarded_allow_ips
    return BoundedConfig(
        f"{service}.main:create_app",
        factory=True,
        host=host,
        port=port if port is not None else SERVICES[service],
        workers=workers,
        http=BoundedHttpToolsProtocol,
        # Only used if uvicorn runs h11 instead; the same cap on request heads.
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
        timeout_keep_alive=settings.http_keep_alive_seconds,
        limits=HeaderLimits(settings.http_max_header_bytes, settings.http_header_timeout_seconds),
        server_header=False,
        # The services write their own access lines, with request ids.
        access_log=False,
        # Logging is ours (common.logging, LOG_FORMAT): uvicorn's own setup would
        # give the supervising process's lines a format of their own.
        log_config=None,
        # Never uvicorn's own default, which trusts 127.0.0.1: a local process
        # could then claim any client address.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )


class MetricsMultiprocess(Multiprocess):
    """uvicorn's supervisor of several workers, which also drops the live gauges
    of a worker that is gone (died and replaced, or retired by SIGTTOU/SIGHUP):
    otherwise its last in-flight count would be added to every scrape forever.
    Its counters stay: what it counted did happen."""

    def __init__(self, config: Config, sockets: list[Any], metrics_dir: str) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir
        self.known_pids: set[int] = set()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        self.forget_gone_workers()

    def handle_signals(self) -> None:
        super().handle_signals()
        self.forget_gone_workers()

    def forget_gone_workers(self) -> None:
        from prometheus_client.multiprocess import mark_process_dead

        current = {process.pid for process in self.processes if process.pid is not None}
        for pid in self.known_pids - current:
            mark_process_dead(pid, self.metrics_dir)
        self.known_pids = current


def fresh_metrics_dir(service: str) -> str:
    """A new, empty folder only this user can read (mkdtemp: 0700), for one run's
    worker metrics. Never a folder from the environment or an earlier run, whose
    files would be added to this run's counts."""
    return tempfile.mkdtemp(prefix=f"musicplayer-metrics-{service}-")


def run(config: BoundedConfig) -> None:
    """What `uvicorn.run` does with a Config, minus reloading; several workers
    share a fresh metrics folder (see the module docstring)."""
    server = uvicorn.Server(config)
    metrics_dir = None
    try:
        if config.workers > 1:
            metrics_dir = fresh_metrics_dir(str(config.app).split(".", 1)[0])
            # Inherited by the workers, which uvicorn spawns: they import
            # prometheus-client afresh, in multiprocess mode.
            os.environ[MULTIPROCESS_DIR_VARIABLE] = metrics_dir
            MetricsMultiprocess(config, [config.bind_socket()], metrics_dir).run()
        else:
            # One process keeps its metrics in memory, whatever the environment says.
            os.environ.pop(MULTIPROCESS_DIR_VARIABLE, None)
            config.load_app()
            server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    if config.workers == 1 and not server.started:
        sys.exit(STARTUP_FAILURE)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m common.server", description=__doc__)
    parser.add_argument("service", choices=sorted(SERVICES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: the service's own (8000-8004)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--forwarded-allow-ips",
        help="proxies whose X-Forwarded-For/-Proto are believed (default: FORWARDED_ALLOW_IPS)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    # This process's own lines (uvicorn's supervisor of several workers, a failure
    # to load the app) in the services' format; each app configures it again.
    configure_logging(args.service, settings.log_level, settings.log_format)
    run(
        server_config(
            args.service,
            host=args.host,
            port=args.port,
            workers=args.workers,
            forwarded_allow_ips=args.forwarded_allow_ips,
            settings=settings,
        )
    )


if __name__ == "__main__":
    main()
