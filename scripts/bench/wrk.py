"""Running wrk with one of the Lua scripts in `lua/` and reading its JSON line."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
MARKER = "BENCH_JSON "
# A login costs a bcrypt hash (~0.1-0.3 s of CPU); under 8 concurrent logins on
# two cores wrk's default 2 s timeout would count slow answers as errors.
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    error_detail: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_command(
    url: str, script: str, args: list[str], *, connections: int, seconds: int
) -> list[str]:
    # Two threads keep wrk itself from being the bottleneck (it is C and epoll;
    # one thread does tens of thousands of requests/s) while leaving CPU to the
    # servers on a small machine.
    threads = min(2, connections)
    return [
        wrk_path() or "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        f"--script={LUA_DIR / script}",
        url,
        "--",
        *args,
    ]


def start_wrk(
    url: str, script: str, args: list[str], *, connections: int, seconds: int
) -> subprocess.Popen[str]:
    """Start wrk in the background (for two loads at once); `finish` reads it."""
    return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        wrk_command(url, script, args, connections=connections, seconds=seconds),
        # The scripts `require "report"`, which Lua finds through ./?.lua.
        cwd=LUA_DIR,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> WrkResult:
    stdout, stderr = process.communicate()
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            return parse(json.loads(line[len(MARKER) :]))
    raise RuntimeError(f"wrk printed no result (exit {process.returncode}):\n{stdout}\n{stderr}")


def parse(raw: dict[str, object]) -> WrkResult:
    errors = raw["errors"]
    latency = raw["latency_us"]
    if not isinstance(errors, dict) or not isinstance(latency, dict):
        raise RuntimeError(f"unexpected wrk result: {raw}")
    return WrkResult(
        requests=int(str(raw["requests"])),
        seconds=int(str(raw["duration_us"])) / 1_000_000,
        # wrk's "status" errors are responses with a status >= 400; the others
        # are socket errors (connect, read, write, timeout).
        errors=sum(int(value) for value in errors.values()),
        error_detail={name: int(value) for name, value in errors.items()},
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
    )
