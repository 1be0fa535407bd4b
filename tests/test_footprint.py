"""What a service process loads: idle memory is a `make bench` target (90 MB per
service), and a module a service never needs is resident in every one of them.
Checked in a fresh interpreter that imports a service and runs its start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.databases import require_server, scratch_database

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES = ["auth_service", "album_service", "song_service", "user_service", "subsonic_service"]
# The ORM (models are for scripts), the asyncio extension (its sessions import the
# ORM again), migrations, and drivers other than the one in use.
NEVER = ["sqlalchemy.orm", "sqlalchemy.ext.asyncio", "alembic", "pymysql", "pyodbc"]
PROBE = """
import asyncio, json, sys
from importlib import import_module
app = import_module(sys.argv[1] + ".main").create_app()
async def start():
    async with app.router.lifespan_context(app):
        pass
asyncio.run(start())
print(json.dumps(sorted(sys.modules)))
"""


def loaded(service: str, database_url: str, tmp_path: Path) -> set[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "JWT_PRIVATE_KEY_FILE": str(tmp_path / "private.pem"),
        "JWT_PUBLIC_KEY_FILE": str(tmp_path / "public.pem"),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-m", "common.keys"], cwd=REPO_ROOT, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE, service], cwd=REPO_ROOT, env=env, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_on_sqlite_loads_no_orm_and_no_other_driver(service: str, tmp_path: Path) -> None:
    modules = loaded(service, f"sqlite:///{tmp_path / 'footprint.db'}", tmp_path)
    assert "sqlalchemy" in modules
    assert [name for name in [*NEVER, "psycopg", "asyncpg"] if name in modules] == []


def test_a_service_on_postgresql_loads_asyncpg_but_not_psycopg(tmp_path: Path) -> None:
    with scratch_database(require_server("postgresql"), "footprint") as url:
        modules = loaded("song_service", url.render_as_string(hide_password=False), tmp_path)
    assert "asyncpg" in modules
    assert [name for name in [*NEVER, "psycopg"] if name in modules] == []
