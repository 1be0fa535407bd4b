"""The HTTP server's own limits (common.server), on a real service process:
request heads too large get 431, heads too slow (or never sent) lose their
connection, and well-behaved requests, keep-alive included, are unaffected."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.server import BoundedHttpToolsProtocol, server_config
from common.settings import Settings
from tests.e2e.fleet import REPO_ROOT, SETTINGS_VARIABLES, free_ports

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT = 1.0
MAX_HEADER_BYTES = 4096


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory, key_dir: Path) -> Iterator[int]:
    tmp = tmp_path_factory.mktemp("server")
    port = free_ports(1)[0]
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        DATA_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'server.db'}",
        JWT_PUBLIC_KEY_FILE=str(key_dir / "jwt_public.pem"),
        JWT_PRIVATE_KEY_FILE=str(key_dir / "jwt_private.pem"),
        HTTP_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        HTTP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
        HTTP_KEEP_ALIVE_SECONDS="5",
    )
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "common.server", "song_service", "--port", str(port)],
        cwd=tmp,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if b" 200 " in exchange(port, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"):
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp / "server.log").read_text()
            assert time.monotonic() < deadline, (tmp / "server.log").read_text()
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def exchange(port: int, *chunks: bytes, pause: float = 0.0, timeout: float = 5.0) -> bytes:
    """Send the chunks (with a pause between them) and read until the server closes
    the connection or stops answering for `timeout` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:
                break  # the server closed on us
            time.sleep(pause)
        received = b""
        try:
            while data := sock.recv(65536):
                received += data
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def test_a_normal_request_is_answered(port: int) -> None:
    answer = exchange(port, b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")


def test_keep_alive_requests_each_get_their_own_clock(port: int) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
    # Three requests spread over more than one header timeout, on one connection.
    answer = exchange(port, request, request, request, pause=HEADER_TIMEOUT * 0.6, timeout=2)
    assert answer.count(b"HTTP/1.1 200") == 3


@pytest.mark.parametrize("in_pieces", [False, True], ids=["one-read", "many-reads"])
def test_a_head_over_the_cap_is_431(port: int, in_pieces: bool) -> None:
    big = (
        b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES * 2) + b"\r\n\r\n"
    )
    chunks = [big[i : i + 1024] for i in range(0, len(big), 1024)] if in_pieces else [big]
    answer = exchange(port, *chunks, pause=0.01 if in_pieces else 0.0)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert answer.count(b"HTTP/1.1") == 1


def test_a_slow_head_loses_its_connection(port: int) -> None:
    started = time.monotonic()
    answer = exchange(port, b"GET /health HTTP/1.1\r\n", b"Host: t\r\n", pause=0.3, timeout=10)
    elapsed = time.monotonic() - started
    assert answer == b""
    assert HEADER_TIMEOUT * 0.9 <= elapsed < HEADER_TIMEOUT + 3, elapsed


def test_a_silent_connection_is_closed(port: int) -> None:
    started = time.monotonic()
    assert exchange(port, timeout=10) == b""
    assert time.monotonic() - started < HEADER_TIMEOUT + 3


def test_the_limits_come_from_the_settings() -> None:
    settings = Settings(
        _env_file=None,
        http_max_header_bytes=8192,
        http_header_timeout_seconds=3,
        http_keep_alive_seconds=7,
    )
    config = server_config("album_service", settings=settings)
    assert config.http is BoundedHttpToolsProtocol
    assert (config.port, config.timeout_keep_alive) == (8001, 7)
    assert config.h11_max_incomplete_event_size == 8192
    limits = config.musicplayer_limits
    assert (limits.max_header_bytes, limits.header_timeout_seconds) == (8192, 3)
    assert config.server_header is False and config.access_log is False
