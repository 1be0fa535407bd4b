#!/usr/bin/env python3
"""Run the four MusicPlayer services side by side, with one prefixed log stream.

`make run` calls this after creating the keys and migrating the database.
Environment: HOST (default 127.0.0.1), WORKERS (uvicorn workers per service,
default 1). Everything else (.env, DATABASE_URL, ...) is read by the services.
Standard library only, so it runs before or without the venv's extras.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
HEALTH_TIMEOUT_SECONDS = 60.0
# After a stop signal, children get this long to finish requests before SIGKILL.
STOP_GRACE_SECONDS = 15.0
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Service:
    name: str
    module: str
    port: int
    colour: str  # ANSI SGR code


SERVICES = (
    Service("auth", "auth_service", 8000, "36"),
    Service("album", "album_service", 8001, "35"),
    Service("song", "song_service", 8002, "33"),
    Service("user", "user_service", 8003, "32"),
)
PAD = max(len(service.name) for service in SERVICES)


class Output:
    """Writes whole lines from several threads without interleaving them."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        # Colour only for a person at a terminal; NO_COLOR (no-color.org) opts out.
        self.colour = stream.isatty() and "NO_COLOR" not in os.environ

    def line(self, name: str, text: str, colour: str = "0") -> None:
        label = f"{name:<{PAD}} |"
        if self.colour:
            label = f"\033[{colour}m{label}\033[0m"
        with self._lock:
            self._stream.write(f"{label} {text}\n")
            self._stream.flush()


def probe_host(host: str) -> str:
    """Where to reach a server bound to `host` (a wildcard bind is reachable on loopback)."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - comparing, not binding
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def command(service: Service, host: str, workers: int) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"{service.module}.main:create_app",
        "--host",
        host,
        "--port",
        str(service.port),
        "--no-server-header",
        # The services log their own access lines (with request ids).
        "--no-access-log",
    ]
    if workers > 1:
        args += ["--workers", str(workers)]
    return args


def pump(service: Service, stream: IO[str], out: Output) -> None:
    for raw in stream:
        out.line(service.name, raw.rstrip("\n"), service.colour)


# Straight to our own ports: an http_proxy from the environment must not apply.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def answers(url: str) -> bool:
    try:
        with _DIRECT.open(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def announce_when_up(host: str, out: Output, stopping: threading.Event) -> None:
    base = {service.name: f"http://{probe_host(host)}:{service.port}" for service in SERVICES}
    waiting = set(base)
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while waiting and not stopping.is_set():
        waiting = {name for name in waiting if not answers(f"{base[name]}/health")}
        if not waiting:
            break
        if time.monotonic() > deadline:
            out.line("fleet", f"still waiting for /health of: {', '.join(sorted(waiting))}")
            deadline = float("inf")  # say it once, keep waiting
        stopping.wait(0.5)
    if not waiting and not stopping.is_set():
        docs = "  ".join(f"{service.name} {base[service.name]}/docs" for service in SERVICES)
        out.line("fleet", f"MusicPlayer is up: {docs}", "1")


def kill_group(child: subprocess.Popen[str], signum: int) -> None:
    # ProcessLookupError: the group is already empty.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    try:
        workers = int(os.environ.get("WORKERS", "1"))
    except ValueError:
        print(f"WORKERS must be a whole number, got {os.environ['WORKERS']!r}", file=sys.stderr)
        return 2
    out = Output(sys.stdout)
    # Children log straight through the pipe instead of in 4 KiB bursts.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    children: dict[str, subprocess.Popen[str]] = {}
    pumps: list[threading.Thread] = []
    stopping = threading.Event()

    forwarded: set[int] = set()

    def stop_all(signum: int) -> None:
        forwarded.add(signum)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # A second Ctrl-C is forwarded too; uvicorn then stops without waiting.
        stopping.set()
        stop_all(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # The terminal went away: stop like `kill` would, not abruptly.
    signal.signal(signal.SIGHUP, lambda _signum, frame: on_signal(signal.SIGTERM, frame))

    for service in SERVICES:
        if stopping.is_set():  # Ctrl-C while starting: start no more
            break
        child = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command(service, host, workers),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            # Own process group: a terminal Ctrl-C reaches only this script, which
            # forwards it once; two SIGINTs would make uvicorn skip graceful shutdown.
            process_group=0,
        )
        children[service.name] = child
        stream = child.stdout
        if stream is None:  # cannot happen with stdout=PIPE; keeps the type checker honest
            raise RuntimeError("no pipe to the child's output")
        thread = threading.Thread(target=pump, args=(service, stream, out), daemon=True)
        thread.start()
        pumps.append(thread)
    threading.Thread(target=announce_when_up, args=(host, out, stopping), daemon=True).start()

    exit_code = 0
    stop_deadline: float | None = None
    while any(child.poll() is None for child in children.values()):
        if not stopping.is_set():
            dead = [(name, c.returncode) for name, c in children.items() if c.poll() is not None]
            if dead:
                name, code = dead[0]
                out.line("fleet", f"{name} exited with code {code}; stopping the others", "31")
                # A signal death has a negative code; the fleet still exits 1.
                exit_code = code if code > 0 else 1
                stopping.set()
                stop_all(signal.SIGTERM)
        if stopping.is_set():
            stop_deadline = stop_deadline or time.monotonic() + STOP_GRACE_SECONDS
            if time.monotonic() > stop_deadline:
                for name, child in children.items():
                    if child.poll() is None:
                        out.line("fleet", f"{name} did not stop in time; killing it", "31")
                        kill_group(child, signal.SIGKILL)
        time.sleep(POLL_SECONDS)

    # A uvicorn supervisor that died abruptly leaves its workers running; they
    # are still in the child's process group, so end whatever is left there.
    for child in children.values():
        kill_group(child, signal.SIGTERM)

    for thread in pumps:
        thread.join(timeout=2)
    if not stopping.is_set():
        codes = ", ".join(f"{name} {child.returncode}" for name, child in children.items())
        out.line("fleet", f"every service exited on its own ({codes})", "31")
        return 1
    # A child stopped by the signal we forwarded (before it installed its own
    # handler) reports -signal; that is still a clean stop.
    clean = {0, *(-signum for signum in forwarded)}
    if exit_code == 0 and any(child.returncode not in clean for child in children.values()):
        exit_code = 1
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
