"""A PostgreSQL server of the test's own, on a free port in a temporary folder,
that a test may stop and start without disturbing any other database."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.fleet import free_ports


def postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class PrivatePostgres:
    def __init__(self, bin_dir: Path, data_dir: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.data_dir = data_dir
        self.port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/musicplayer"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        # initdb and the server refuse to run as root; the package's user runs them.
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = self.data_dir / "server.log"
            tail = log.read_text()[-3000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}\n{tail}")

    def initialise(self) -> None:
        self._run("initdb", "-D", str(self.data_dir / "db"), "-A", "trust", "-U", "postgres",
                  "--no-sync")  # fmt: skip
        self.start()
        engine = create_engine(self.url.replace("/musicplayer", "/postgres"),
                               isolation_level="AUTOCOMMIT")  # fmt: skip
        with engine.connect() as connection:
            connection.execute(text("CREATE DATABASE musicplayer"))
        engine.dispose()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data_dir / "db"), "-o", options,
                  "-l", str(self.data_dir / "server.log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir / "db"), "-m", "fast", "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        reason = "PostgreSQL server binaries are not installed (make test-dbs installs them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    # Not under pytest's tmp_path: its parents are private to root, and the
    # server runs as the postgres user.
    data_dir = Path(tempfile.mkdtemp(prefix="musicplayer-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
    server = PrivatePostgres(bin_dir, data_dir, free_ports(1)[0])
    try:
        server.initialise()
        yield server
    finally:
        with suppress(RuntimeError):  # already stopped by the test
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
