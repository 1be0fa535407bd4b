"""The fleet, the baseline and the reference as uvicorn processes on free ports,
started the way `scripts/run_fleet.py` and `tests/e2e/fleet.py` start them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.e2e.fleet import SERVICES, Fleet, fleet_environment, free_ports, stop, wait_until_ready

BENCH_PASSWORD = "bench-password-123"  # noqa: S105 - throwaway bench accounts
# A loaded CI machine starting two workers per service (eight processes, each
# importing the app) has taken longer than the tests' 30 s.
READY_TIMEOUT_SECONDS = 180.0
# Logging every request would measure the log handler, not the service.
LOG_LEVEL = "WARNING"
# The apps started next to the fleet when `running(..., baseline=True)`: one worker
# each, on plain uvicorn, with the services' environment.
YARDSTICKS = {
    "baseline": "scripts.bench.baseline:create_app",
    "reference": "scripts.bench.reference:create_app",
}


@dataclass
class Processes:
    """The uvicorn processes of one start, by name ("auth", ..., "baseline", "reference")."""

    urls: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)


def bench_environment(data_dir: Path, urls: dict[str, str], database_url: str) -> dict[str, str]:
    env = fleet_environment(data_dir, urls, database_url)
    huge = str(10**9)
    env.update(
        LOG_LEVEL=LOG_LEVEL,
        # The login scenario always sends the right password, but the throttle
        # must never be what is measured.
        LOGIN_FREE_FAILURES="1000",
        LOGIN_MAX_FAILURES_PER_ACCOUNT=huge,
        LOGIN_MAX_FAILURES_PER_ADDRESS=huge,
        SIGNUP_MAX_PER_ADDRESS=huge,
        # Tokens are taken once and must outlive the whole run.
        ACCESS_TOKEN_EXPIRE_MINUTES="240",  # noqa: S106 - minutes, not a secret
    )
    return env


def prepare(data_dir: Path, database_url: str) -> dict[str, str]:
    """Signing keys and the schema, before any service or the catalogue load."""
    nowhere = {name: "http://127.0.0.1:1" for name in SERVICES}  # no service runs yet
    env = bench_environment(data_dir, nowhere, database_url)
    for args in (["-m", "common.keys"], ["-m", "database", "migrate"]):
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [sys.executable, *args], cwd=data_dir, env=env, check=True, capture_output=True
        )
    return env


def uvicorn_command(factory: str, port: int, workers: int) -> list[str]:
    """A service as `make run` starts it (common.server: uvicorn with the fleet's
    HTTP limits); the baseline and the reference on plain uvicorn."""
    module = factory.split(":")[0].removesuffix(".main")
    if module.endswith("_service"):
        args = [sys.executable, "-m", "common.server", module]  # LOG_LEVEL: the environment
    else:
        args = [sys.executable, "-m", "uvicorn", "--factory", factory, "--no-server-header",
                "--no-access-log", "--log-level", LOG_LEVEL.lower()]  # fmt: skip
    args += ["--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        args += ["--workers", str(workers)]
    return args


@contextmanager
def running(
    data_dir: Path,
    database_url: str,
    *,
    workers: int,
    baseline: bool,
    ready_timeout: float = READY_TIMEOUT_SECONDS,
) -> Iterator[Processes]:
    """The four services (and, when `baseline`, the baseline and reference apps),
    ready; stopped after. All of them get the same environment (DATABASE_URL,
    DATA_DIR, ...: bench_environment) and run in `data_dir`, where the keys are."""
    names = [*SERVICES, *(YARDSTICKS if baseline else [])]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    started = Processes(urls={name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
    env = bench_environment(data_dir, started.urls, database_url)
    log_files: list[IO[bytes]] = []
    try:
        for name, port in ports.items():
            factory = YARDSTICKS.get(name, f"{name}_service.main:create_app")
            started.logs[name] = data_dir / f"{name}-w{workers}.log"
            log = started.logs[name].open("wb")
            log_files.append(log)
            started.processes[name] = subprocess.Popen(  # noqa: S603 - fixed argv
                uvicorn_command(factory, port, 1 if name in YARDSTICKS else workers),
                cwd=data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own group, so that workers left by a killed supervisor go too.
                process_group=0,
            )
        fleet = Fleet(urls=started.urls, logs=started.logs)
        services = {name: started.processes[name] for name in SERVICES}
        # On failure the message carries every service's log (their startup lines
        # are written whatever LOG_LEVEL says: common.logging).
        wait_until_ready(fleet, services, "/health/ready", ready_timeout)
        if baseline:
            yardsticks = {name: started.processes[name] for name in YARDSTICKS}
            wait_until_ready(fleet, yardsticks, "/health", ready_timeout)
        yield started
    finally:
        stop(started.processes)
        for process in started.processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        for log in log_files:
            log.close()


def sign_up_and_log_in(urls: dict[str, str], count: int) -> tuple[list[str], list[str]]:
    """Creates `count` users; returns their access tokens and login bodies."""
    tokens: list[str] = []
    bodies: list[str] = []
    suffix = f"{os.getpid()}{time.monotonic_ns() % 100_000}"
    with httpx.Client(timeout=30, trust_env=False) as client:
        for number in range(count):
            email = f"bench{number}-{suffix}@example.com"
            response = client.post(
                f"{urls['user']}/users",
                json={"username": f"bench{number}_{suffix}", "email": email,
                      "password": BENCH_PASSWORD, "first_name": "Bench"},
            )  # fmt: skip
            response.raise_for_status()
            body = httpx.Request("POST", "/", json={"email": email, "password": BENCH_PASSWORD})
            login = client.post(
                f"{urls['auth']}/auth/login", content=body.content, headers=body.headers
            )
            login.raise_for_status()
            tokens.append(login.json()["auth_token"])
            bodies.append(body.content.decode())
    return tokens, bodies


def deep_page_path(song_url: str, position: int) -> str:
    """`/songs?limit=50&cursor=...` for the page after `position`, with the cursor
    the service itself hands out (its Link header), not one built here."""
    with httpx.Client(timeout=60, trust_env=False) as client:
        response = client.get(f"{song_url}/songs", params={"limit": 1, "offset": position})
        response.raise_for_status()
        following = response.links.get("next", {}).get("url")
        if not following:
            raise RuntimeError(f"no next link at offset {position}: {response.headers}")
        cursor = httpx.URL(following).params["cursor"]
        path = f"/songs?limit=50&cursor={cursor}"
        page = client.get(f"{song_url}{path}")
        page.raise_for_status()
        if len(page.json()) != 50:
            raise RuntimeError(f"the deep page has {len(page.json())} songs, not 50")
    return path


def resident_mb(pid: int) -> float:
    """VmRSS of one process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
