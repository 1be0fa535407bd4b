"""Starting and stopping the real fleet for end-to-end tests: five uvicorn
processes on free ports sharing a SQLite file and an RS256 key pair (or, with
`replicas`, that many processes of each service, as behind a load balancer)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from common.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "album", "song", "user", "subsonic")
# subsonic_service's neighbours (its AUTH_SERVICE_URL, ...): the fleet's own.
NEIGHBOUR_URLS = {"AUTH_SERVICE_URL": "auth", "ALBUM_SERVICE_URL": "album",
                  "SONG_SERVICE_URL": "song"}  # fmt: skip
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
LOG_TAIL_CHARS = 20_000
# The start of a long log too: how far startup got, before later lines bury it.
LOG_HEAD_CHARS = 4_000
ADMIN_EMAIL = "e2e-admin@example.com"
ADMIN_PASSWORD = "e2e-admin-password-123"
# Short, so a test can wait out the refresh-token reuse grace window (API.md, Sessions).
REFRESH_REUSE_GRACE_SECONDS = 2

# Settings the services read from the environment. The developer's shell (or a
# CI job) may set any of them; the fleet under test must not inherit those.
SETTINGS_VARIABLES = frozenset(name.upper() for name in Settings.model_fields)


@dataclass
class Fleet:
    """Base URLs of the running services and where their logs go."""

    urls: dict[str, str]
    logs: dict[str, Path] = field(default_factory=dict)
    admin_email: str = ADMIN_EMAIL
    admin_password: str = ADMIN_PASSWORD
    refresh_reuse_grace_seconds: float = REFRESH_REUSE_GRACE_SECONDS
    # The running service processes, and how running_fleet starts one (with extra
    # environment variables); see kill() and start().
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    launcher: Callable[[str, Mapping[str, str]], subprocess.Popen[bytes]] | None = field(
        default=None, repr=False
    )
    # Service ("song") -> the names of its processes in `urls`, `logs` and
    # `processes` (["song", "song-2"]); a service missing here runs once, as itself.
    replicas: dict[str, list[str]] = field(default_factory=dict)

    @property
    def auth(self) -> str:
        return self.urls["auth"]

    @property
    def album(self) -> str:
        return self.urls["album"]

    @property
    def song(self) -> str:
        return self.urls["song"]

    @property
    def user(self) -> str:
        return self.urls["user"]

    @property
    def subsonic(self) -> str:
        return self.urls["subsonic"]

    def replicas_of(self, service: str) -> list[str]:
        """The process names of one service ("auth" -> ["auth", "auth-2"])."""
        return self.replicas.get(service, [service])

    def kill(self, name: str) -> None:
        """SIGKILL one service, as a crash would: no shutdown, no cleanup."""
        process = self.processes[name]
        if process.poll() is None:
            process.kill()
        process.wait()

    def start(self, name: str, env: Mapping[str, str] | None = None) -> None:
        """(Re)start one stopped service on its port, with the fleet's environment plus
        `env`, and wait until it is ready. Its log continues in the same file."""
        assert self.launcher is not None, "this fleet cannot start services"
        assert self.processes[name].poll() is not None, f"{name} is still running"
        self.processes[name] = self.launcher(name, env or {})
        wait_until_ready(self, {name: self.processes[name]})

    def stop_service(self, name: str) -> None:
        """SIGTERM one service and wait for it (a graceful stop)."""
        stop({name: self.processes[name]})

    def log_text(self) -> str:
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace") if path.exists() else "(no log)"
            if len(text) > LOG_HEAD_CHARS + LOG_TAIL_CHARS:
                text = f"{text[:LOG_HEAD_CHARS]}\n[...]\n{text[-LOG_TAIL_CHARS:]}"
            parts.append(f"----- {name} -----\n{text}")
        return "\n".join(parts)


def replica_name(service: str, index: int) -> str:
    """A process's name in a Fleet: the first replica is the service itself ("song"),
    so a fleet of one replica each is named as it always was; then "song-2", ..."""
    return service if index == 1 else f"{service}-{index}"


def free_ports(count: int) -> list[int]:
    """Ports the OS calls free; all sockets stay open until every port is picked,
    so the same port is never handed out twice."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def fleet_environment(data_dir: Path, urls: dict[str, str], database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    # The services run from the temporary folder (so a developer's `.env` in the
    # repository is not read) and import the code from the repository.
    python_path = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(
        PYTHONPATH=os.pathsep.join(python_path),
        PYTHONUNBUFFERED="1",
        DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        ADMIN_EMAIL=ADMIN_EMAIL,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        AUTH_TOKEN_URL=f"{urls['auth']}/auth/token",
        LOG_LEVEL="INFO",
        REFRESH_REUSE_GRACE_SECONDS=str(REFRESH_REUSE_GRACE_SECONDS),
        # Every test signs up from 127.0.0.1; tests of the limit set their own.
        SIGNUP_MAX_PER_ADDRESS="1000000",
    )
    # Where subsonic_service finds the others: this fleet's ports (a partial fleet
    # of a test sets only the ones it runs).
    env.update(
        {name: urls[service] for name, service in NEIGHBOUR_URLS.items() if urls.get(service)}
    )
    return env


def service_command(name: str, port: int, workers: int = 1) -> list[str]:
    """The command line of one service ("auth", ...), as scripts/run_fleet.py builds it."""
    command = [sys.executable, "-m", "common.server", f"{name}_service",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    return [*command, "--workers", str(workers)] if workers > 1 else command


def run_setup_step(args: list[str], data_dir: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"`python {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )


def wait_until_ready(
    fleet: Fleet,
    processes: dict[str, subprocess.Popen[bytes]],
    probe: str = "/health/ready",
    timeout: float = READY_TIMEOUT_SECONDS,
) -> None:
    """Until every process answers 200 on `probe`; a failure (an exit, or `timeout`
    seconds) carries the services' logs."""
    deadline = time.monotonic() + timeout
    waiting = set(processes)
    with httpx.Client(timeout=2, trust_env=False) as client:
        while waiting:
            for name in sorted(waiting):
                exited = processes[name].poll()
                if exited is not None:
                    pytest.fail(
                        f"{name} exited with code {exited} before it was ready\n{fleet.log_text()}",
                        pytrace=False,
                    )
                try:
                    if client.get(f"{fleet.urls[name]}{probe}").status_code == 200:
                        waiting.discard(name)
                except httpx.TransportError:
                    pass  # not listening yet
            if waiting and time.monotonic() > deadline:
                pytest.fail(
                    f"not ready after {timeout:.0f}s: {', '.join(sorted(waiting))}\n"
                    f"{fleet.log_text()}",
                    pytrace=False,
                )
            if waiting:
                time.sleep(0.2)


def stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()  # SIGTERM: uvicorn shuts down gracefully
    for process in processes.values():
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def one_service(
    fleet: Fleet, name: str, data_dir: Path, env: dict[str, str], *, workers: int
) -> Iterator[subprocess.Popen[bytes]]:
    """The one service `fleet.urls[name]` names (a fleet of one), with `workers`
    processes, after the setup steps (keys, migrations) in `data_dir` with `env`;
    its output in data_dir/<name>.log (fleet.logs). Stopped when the block ends."""
    port = int(fleet.urls[name].rsplit(":", 1)[1])
    run_setup_step(["-m", "common.keys"], data_dir, env)
    run_setup_step(["-m", "database", "migrate"], data_dir, env)
    log_path = data_dir / f"{name}.log"
    fleet.logs[name] = log_path
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            service_command(name, port, workers=workers),
            cwd=data_dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes = {name: process}
        try:
            wait_until_ready(fleet, processes)
            yield process
        finally:
            stop(processes)


@contextmanager
def running_fleet(
    data_dir: Path,
    database_url: str | None = None,
    *,
    database_reachable: bool = True,
    replicas: int = 1,
    env: Mapping[str, str] | None = None,
) -> Iterator[Fleet]:
    """Keys, migrations, five services; yields once all are ready, stops them after.
    Without `database_url` the fleet shares a SQLite file in `data_dir`. With
    `database_reachable=False` nothing is migrated and the services need only be alive.
    `replicas` processes of every service, each on its own port, share the database
    and `data_dir` (keys, media, library), named by replica_name; subsonic_service
    reaches the first replica of its neighbours. `env`: settings added for every
    process (the setup steps included)."""
    names = {
        replica_name(service, index): service
        for index in range(1, replicas + 1)
        for service in SERVICES
    }
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    fleet = Fleet(urls={name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
    if replicas > 1:
        fleet.replicas = {
            service: [replica_name(service, index) for index in range(1, replicas + 1)]
            for service in SERVICES
        }
    env = fleet_environment(
        data_dir, fleet.urls, database_url or f"sqlite:///{data_dir / 'e2e.db'}"
    ) | dict(env or {})

    run_setup_step(["-m", "common.keys"], data_dir, env)
    if database_reachable:
        run_setup_step(["-m", "database", "migrate"], data_dir, env)
        run_setup_step(["-m", "user_service.admin"], data_dir, env)

    processes = fleet.processes
    log_files: list[IO[bytes]] = []

    def launch(name: str, extra_env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        restarted = name in fleet.logs
        fleet.logs[name] = data_dir / f"{name}.log"
        # A restarted service appends to its log, after a marker line.
        log = fleet.logs[name].open("ab" if restarted else "wb")
        log_files.append(log)
        if restarted:
            log.write(f"----- {name} restarted {dict(extra_env)} -----\n".encode())
            log.flush()
        # A file, not a pipe: nobody reads a pipe while tests run, and a full
        # pipe would block the service.
        # Started as `make run` and the images start them (common.server).
        return subprocess.Popen(
            service_command(names[name], ports[name]),
            cwd=data_dir,
            env={**env, **extra_env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    fleet.launcher = launch
    try:
        for name in ports:
            processes[name] = launch(name, {})
        wait_until_ready(fleet, processes, "/health/ready" if database_reachable else "/health")
        yield fleet
    finally:
        stop(processes)
        for log in log_files:
            log.close()
