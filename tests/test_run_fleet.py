"""`make run` and its supervisor (scripts/run_fleet.py): a taken port is refused in
one line, a supervisor killed outright takes its services with it, HOST and
WORKERS are read like every setting, and start-up problems are one line with the
cause and the fix, never a traceback."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from common.keys import ensure_key_pair
from tests.e2e.fleet import SETTINGS_VARIABLES

REPO_ROOT = Path(__file__).resolve().parents[1]
RUN_FLEET = REPO_ROOT / "scripts" / "run_fleet.py"
SERVICE_NAMES = ("auth", "album", "song", "user", "subsonic")


def run_fleet_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_fleet", RUN_FLEET)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def free_base_port() -> int:
    """A port with the next four free too, as the five services need."""
    for _ in range(200):
        base = random.randint(20_000, 60_000)
        try:
            with contextlib.ExitStack() as stack:
                for offset in range(len(SERVICE_NAMES)):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
    raise RuntimeError("no five consecutive free ports")


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This environment without any MusicPlayer setting, plus a private data folder."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        PYTHONUNBUFFERED="1",
        DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'musicplayer.db'}",
        NO_COLOR="1",
    )
    return env | extra


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_a_taken_port_is_refused_in_one_line(tmp_path: Path) -> None:
    base = free_base_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", base + 2))
        holder.listen()
        done = run([str(RUN_FLEET), "--base-port", str(base)], tmp_path, clean_env(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {base + 2} (song) is taken by pid {os.getpid()}" in lines[0]
    assert "MusicPlayer is up" not in done.stdout


def test_host_and_workers_are_read_from_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_fleet = run_fleet_module()
    for name in ("HOST", "WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HOST=0.0.0.0\nWORKERS=3\n")
    assert run_fleet.fleet_options() == ("0.0.0.0", 3)  # noqa: S104 - read, not bound
    (tmp_path / ".env").write_text("WORKERS=many\n")
    with pytest.raises(SystemExit):
        run_fleet.fleet_options()
    assert capsys.readouterr().err.strip().startswith("invalid setting WORKERS:")


@pytest.mark.parametrize(
    ("database_url", "cause"),
    [
        ("postgresql+psycopg://nobody:secret@127.0.0.1:1/musicplayer", "cannot reach the database"),
        ("postgres://nobody:secret@localhost/musicplayer", "unknown database or driver"),
        ("not a database url", "is not a database URL"),
        # A folder nobody may write, even root: how a read-only data folder looks.
        ("sqlite:////proc/musicplayer/musicplayer.db", "is not writable"),
    ],
)
def test_a_setup_step_fails_in_one_line(tmp_path: Path, database_url: str, cause: str) -> None:
    done = run(["-m", "database", "migrate"], tmp_path,
               clean_env(tmp_path, DATABASE_URL=database_url))  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and cause in lines[0], done.stderr
    assert "secret" not in lines[0]  # never the password


def test_auth_service_with_a_mismatched_key_pair_stops_in_one_line(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    ensure_key_pair(keys / "jwt_private.pem", keys / "jwt_public.pem")
    ensure_key_pair(tmp_path / "other" / "private.pem", tmp_path / "other" / "public.pem")
    shutil.copy(tmp_path / "other" / "public.pem", keys / "jwt_public.pem")
    env = clean_env(tmp_path, JWT_PRIVATE_KEY_FILE=str(keys / "jwt_private.pem"),
                    JWT_PUBLIC_KEY_FILE=str(keys / "jwt_public.pem"))  # fmt: skip
    port = free_base_port()
    done = run(["-m", "common.server", "auth_service", "--port", str(port)], tmp_path, env)
    assert done.returncode == 3
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if " ERROR " in line]
    assert "does not match" in errors[0] and "python -m common.keys" in errors[0], output


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def gone(pid: int) -> bool:
    """Exited (a zombie nobody has reaped yet counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@pytest.fixture
def prepared(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = clean_env(tmp_path / "data", LOG_LEVEL="INFO")
    for step in (["-m", "common.keys"], ["-m", "database", "migrate"]):
        done = run(step, tmp_path, env)
        assert done.returncode == 0, done.stderr
    yield env


@contextlib.contextmanager
def supervisor_up(
    cwd: Path, env: dict[str, str], base: int
) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """scripts/run_fleet.py on `base` and its output so far, once it says
    "MusicPlayer is up"; stopped after, and whatever it left behind killed."""
    supervisor = subprocess.Popen(
        [sys.executable, str(RUN_FLEET), "--base-port", str(base)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    up = threading.Event()

    def read() -> None:
        assert supervisor.stdout is not None
        for line in supervisor.stdout:
            output.append(line)
            if "MusicPlayer is up" in line:
                up.set()

    threading.Thread(target=read, daemon=True).start()
    services: list[int] = []
    try:
        assert up.wait(90), "".join(output)
        services = children_of(supervisor.pid)
        yield supervisor, output
    finally:
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)
            try:
                supervisor.wait(timeout=30)
            except subprocess.TimeoutExpired:
                supervisor.kill()
                supervisor.wait()
        for pid in services:  # whatever outlived the test, ours to end
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_subsonic_service_calls_the_fleets_own_ports() -> None:
    """--base-port moves every service; subsonic_service's neighbours move with them."""
    run_fleet = run_fleet_module()
    assert [s.name for s in run_fleet.SERVICES] == list(SERVICE_NAMES)
    services = run_fleet.services_from(30_000)
    subsonic = next(s for s in services if s.name == "subsonic")
    assert (subsonic.module, subsonic.port) == ("subsonic_service", 30_004)
    env = run_fleet.service_environment(subsonic, services, "0.0.0.0", {"KEEP": "1"})  # noqa: S104
    assert env == {
        "KEEP": "1",
        "AUTH_SERVICE_URL": "http://127.0.0.1:30000",
        "ALBUM_SERVICE_URL": "http://127.0.0.1:30001",
        "SONG_SERVICE_URL": "http://127.0.0.1:30002",
    }
    # The others get the environment as it is; nobody is told to trust a proxy.
    for service in services:
        env = run_fleet.service_environment(service, services, "127.0.0.1", {"KEEP": "1"})
        assert "FORWARDED_ALLOW_IPS" not in env
        if service.name != "subsonic":
            assert env == {"KEEP": "1"}


@pytest.mark.e2e
def test_make_run_starts_subsonic_service_wired_to_the_fleet(
    tmp_path: Path, prepared: dict[str, str]
) -> None:
    base = free_base_port()
    with supervisor_up(tmp_path, prepared, base) as (_, output):
        up_line = next(line for line in output if "MusicPlayer is up" in line)
        assert f"subsonic http://127.0.0.1:{base + 4}/docs" in up_line
        subsonic = f"http://127.0.0.1:{base + 4}/rest"

        def call(method: str, **params: str) -> dict:
            query = "&".join(f"{k}={v}" for k, v in {"f": "json", **params}.items())
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"{subsonic}/{method}?{query}", timeout=20) as answer:
                assert answer.status == 200
                return dict(json.load(answer)["subsonic-response"])

        extensions = call("getOpenSubsonicExtensions")
        assert extensions["status"] == "ok" and extensions["openSubsonic"] is True
        # Credentials go to auth_service on the shifted port: it says "wrong" (40),
        # where an unreachable auth_service would be error 0 and HTTP 503.
        wrong = call("ping", u="nobody", p="wrong-password", v="1.16.1", c="test")
        assert (wrong["status"], wrong["error"]["code"]) == ("failed", 40), wrong


@pytest.mark.e2e
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_killing_the_supervisor_outright_takes_the_services_with_it(
    tmp_path: Path, prepared: dict[str, str]
) -> None:
    base = free_base_port()
    with supervisor_up(tmp_path, prepared, base) as (supervisor, output):
        services = children_of(supervisor.pid)
        assert len(services) == len(SERVICE_NAMES), services
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait()
        deadline = time.monotonic() + 30
        while not all(gone(pid) for pid in services) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in services if not gone(pid)] == [], "".join(output)
