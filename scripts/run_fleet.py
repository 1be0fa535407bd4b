#!/usr/bin/env python3
"""Run the five MusicPlayer services side by side, with one prefixed log stream.

`make run` calls this after the setup steps (keys, migrations, the admin). HOST
(default 127.0.0.1) and WORKERS (uvicorn workers per service, default 1) are read
like every setting, from the environment or `.env` (common.settings); the
services read everything else themselves. Run it with the venv's Python.

It refuses to start, in one line naming the port and what holds it, when one of
the services' ports is taken (a second `make run`, say). On Linux the services
die with it even when it is killed outright (`kill -9`): each asks the kernel
for SIGTERM when its parent goes (PR_SET_PDEATHSIG), so none is left orphaned
on its port.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the repository's packages too
    sys.path.insert(0, str(ROOT))
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
    Service("subsonic", "subsonic_service", 8004, "34"),
)
# subsonic_service calls these neighbours (its AUTH_SERVICE_URL, ...): the fleet's
# own, on whatever ports --base-port put them.
NEIGHBOURS = {"subsonic": {"AUTH_SERVICE_URL": "auth", "ALBUM_SERVICE_URL": "album",
                           "SONG_SERVICE_URL": "song"}}  # fmt: skip
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


def services_from(base_port: int) -> tuple[Service, ...]:
    """The services on base_port, base_port + 1, ... (8000 for `make run`)."""
    shift = base_port - SERVICES[0].port
    return tuple(
        Service(service.name, service.module, service.port + shift, service.colour)
        for service in SERVICES
    )


def fleet_options() -> tuple[str, int]:
    """HOST and WORKERS, from the environment or `.env` like every setting; an
    invalid value is one line on stderr and exit status 1."""
    from common.settings import Settings
    from common.startup import run_step
    from database.diagnose import describe

    settings = run_step(Settings, lambda exc: describe(exc, None))
    return settings.host, settings.workers


# PR_SET_PDEATHSIG from <linux/prctl.h>: a signal for this process when its parent dies.
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with(parent: int) -> None:
    """In the child, before exec: SIGTERM when `parent` (this script) goes, even by
    SIGKILL. The kernel keeps the setting across exec."""
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os.kill(os.getpid(), signal.SIGTERM)


def port_holder(port: int) -> str:
    """Which process listens on `port`, as far as /proc tells (Linux, same user or root)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                # local address HEX_IP:HEX_PORT, state 0A = LISTEN, inode in column 10
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                    inodes.add(fields[9])
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    return f"pid {proc.name} ({cmdline.strip()[:120]})"
    return "another program"


def taken_ports(host: str, services: tuple[Service, ...]) -> list[str]:
    """A line per service whose port cannot be bound on `host`, naming what holds it."""
    problems = []
    for service in services:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # The option uvicorn binds with too: a port in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, service.port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    problems.append(f"cannot listen on {host}:{service.port} ({exc.strerror})")
                    continue
                problems.append(
                    f"port {service.port} ({service.name}) is taken by "
                    f"{port_holder(service.port)}: stop it (another `make run`?) and try again"
                )
    return problems


def service_environment(
    service: Service, services: tuple[Service, ...], host: str, base: dict[str, str]
) -> dict[str, str]:
    """`base` plus the URLs of the fleet's own services that `service` calls
    (NEIGHBOURS). They win over `.env` and the shell: this fleet is the one running.

    Not added: auth_service trusting subsonic_service's X-Forwarded-For. Here every
    service calls the others from the loopback, so trusting that hop means trusting
    127.0.0.1, and then any local process could name whatever client address it
    likes to the login throttle (common.server never trusts it by default). So
    under `make run` auth_service counts Subsonic credential failures per
    (127.0.0.1, username): one shared address, still throttled per account, which
    for one machine's fleet changes nothing. docker-compose.yml, where the facade
    has an address of its own, adds it to auth_service's FORWARDED_ALLOW_IPS."""
    wanted = NEIGHBOURS.get(service.name, {})
    if not wanted:
        return base
    ports = {other.name: other.port for other in services}
    urls = {name: f"http://{probe_host(host)}:{ports[other]}" for name, other in wanted.items()}
    return {**base, **urls}


def command(service: Service, host: str, workers: int) -> list[str]:
    # common.server runs uvicorn with the fleet's HTTP limits (header size and
    # timeouts), no Server header and no second access log.
    args = [
        sys.executable,
        "-m",
        "common.server",
        service.module,
        "--host",
        host,
        "--port",
        str(service.port),
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


def announce_when_up(
    host: str,
    out: Output,
    stopping: threading.Event,
    services: tuple[Service, ...] = SERVICES,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    base = {service.name: f"http://{probe_host(host)}:{service.port}" for service in services}
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
    # Only while our own services run: answers from someone else's are no news.
    if not waiting and not stopping.is_set() and alive():
        docs = "  ".join(f"{service.name} {base[service.name]}/docs" for service in services)
        out.line("fleet", f"MusicPlayer is up: {docs}", "1")


def kill_group(child: subprocess.Popen[str], signum: int) -> None:
    # ProcessLookupError: the group is already empty.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/run_fleet.py", description=__doc__)
    parser.add_argument(
        "--base-port", type=int, default=SERVICES[0].port, help="auth's port; the others follow"
    )
    parser.add_argument(
        "--check", action="store_true", help="only check the settings and the ports, then exit"
    )
    args = parser.parse_args(argv)
    services = services_from(args.base_port)
    host, workers = fleet_options()
    problems = taken_ports(host, services)
    if problems:
        print(problems[0], file=sys.stderr)  # one line: the first port in the way
        return 1
    if args.check:
        return 0
    out = Output(sys.stdout)
    # Children log straight through the pipe instead of in 4 KiB bursts, and import
    # the repository's packages from whichever folder this runs in.
    python_path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(python_path)}

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

    supervisor = os.getpid()
    # Every child first, the threads after: a fork while other threads run could
    # copy a lock one of them holds into the child (the reason preexec_fn is unsafe).
    for service in services:
        if stopping.is_set():  # Ctrl-C while starting: start no more
            break
        # The services read `.env` from the same folder as this script did.
        children[service.name] = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command(service, host, workers),
            env=service_environment(service, services, host, env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            # Own process group: a terminal Ctrl-C reaches only this script, which
            # forwards it once; two SIGINTs would make uvicorn skip graceful shutdown.
            process_group=0,
            preexec_fn=lambda: die_with(supervisor),
        )
    for service in services:
        stream = children[service.name].stdout if service.name in children else None
        if stream is None:
            continue
        thread = threading.Thread(target=pump, args=(service, stream, out), daemon=True)
        thread.start()
        pumps.append(thread)

    def all_running() -> bool:
        return all(child.poll() is None for child in children.values())

    threading.Thread(
        target=announce_when_up, args=(host, out, stopping, services, all_running), daemon=True
    ).start()

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
