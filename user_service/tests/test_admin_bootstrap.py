from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database
from database.memory import MemoryDatabase
from user_service.main import create_app
from user_service.repos.base import UserUnitOfWork
from user_service.repos.memory import InMemoryUserRepository
from user_service.schemas import SignUp
from user_service.services.admin import (
    PLACEHOLDER_PASSWORDS,
    AdminPasswordError,
    check_admin_password,
    ensure_admin,
)
from user_service.services.users import UserService

Unit = Callable[..., UserUnitOfWork]
REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-passphrase"


def test_creates_the_admin_when_missing(user_unit: Unit, fast_hasher: PasswordHasher) -> None:
    done = ensure_admin(
        user_unit, fast_hasher, email="Root@Example.com", password=PASSWORD, username="Root"
    )
    admin = done.admin
    assert (admin.email, admin.username, admin.role) == ("root@example.com", "root", "admin")
    assert done.outcome == "created"
    assert fast_hasher.verify(PASSWORD, admin.password_hash)


def test_promotes_an_existing_account_and_sets_the_password(
    service: UserService, user_unit: Unit, fast_hasher: PasswordHasher, memory_db: MemoryDatabase
) -> None:
    user = service.sign_up(
        SignUp(username="boss", email="boss@example.com", password="old-password", first_name="B")
    )
    done = ensure_admin(
        user_unit, fast_hasher, email="boss@example.com", password=PASSWORD, username="x"
    )
    assert (done.admin.id, done.admin.role, done.outcome) == (user.id, "admin", "promoted")
    # Whoever signed up with the admin's email does not keep their password or sessions.
    assert fast_hasher.verify(PASSWORD, done.admin.password_hash)
    assert memory_db.users[user.id]["session_version"] == 1


def test_an_admin_who_changed_their_password_keeps_it_at_every_restart(
    user_unit: Unit, fast_hasher: PasswordHasher, memory_db: MemoryDatabase
) -> None:
    admin = ensure_admin(user_unit, fast_hasher, email="a@x.io", password=PASSWORD, username="a")
    chosen = fast_hasher.hash("chosen-through-the-api")
    memory_db.users[admin.admin.id]["password_hash"] = chosen
    again = ensure_admin(user_unit, fast_hasher, email="a@x.io", password=PASSWORD, username="a")
    assert (
        again.outcome == "unchanged" and memory_db.users[admin.admin.id]["password_hash"] == chosen
    )
    # Only when asked (ADMIN_RESET_PASSWORD=true) does the configured one come back.
    reset = ensure_admin(
        user_unit, fast_hasher, email="a@x.io", password=PASSWORD, username="a",
        reset_password=True,
    )  # fmt: skip
    assert reset.outcome == "password reset"
    assert fast_hasher.verify(PASSWORD, memory_db.users[admin.admin.id]["password_hash"])


def test_running_twice_keeps_one_admin(
    user_unit: Unit, user_repo: InMemoryUserRepository, fast_hasher: PasswordHasher
) -> None:
    first = ensure_admin(user_unit, fast_hasher, email="a@x.io", password=PASSWORD, username="a")
    second = ensure_admin(user_unit, fast_hasher, email="a@x.io", password=PASSWORD, username="a")
    assert first.admin.id == second.admin.id
    assert len(user_repo.list(after_id=None, offset=0, limit=10)) == 1


def test_a_username_held_by_someone_else_is_a_clear_error(
    service: UserService, user_unit: Unit, fast_hasher: PasswordHasher
) -> None:
    service.sign_up(
        SignUp(username="admin", email="mallory@example.com", password="p" * 8, first_name="M")
    )
    with pytest.raises(ValueError, match="ADMIN_USERNAME"):
        ensure_admin(user_unit, fast_hasher, email="a@x.io", password=PASSWORD, username="admin")


def env_example_admin_password() -> str:
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        if line.lstrip("# ").startswith("ADMIN_PASSWORD="):
            return line.lstrip("# ").split("=", 1)[1]
    raise AssertionError(".env.example shows no ADMIN_PASSWORD")


@pytest.mark.parametrize("password", [env_example_admin_password(), "short-pass1"])
def test_the_placeholder_and_short_passwords_are_refused(
    password: str, user_unit: Unit, fast_hasher: PasswordHasher, user_repo: InMemoryUserRepository
) -> None:
    with pytest.raises(AdminPasswordError) as refused:
        ensure_admin(user_unit, fast_hasher, email="a@x.io", password=password, username="a")
    assert "\n" not in str(refused.value) and "ADMIN_PASSWORD" in str(refused.value)
    assert user_repo.list(after_id=None, offset=0, limit=10) == []


def test_the_env_example_placeholder_is_known() -> None:
    assert env_example_admin_password() in PLACEHOLDER_PASSWORDS
    check_admin_password("x" * 12)


def test_the_service_workers_make_no_admin(settings: Settings, database: Database) -> None:
    """The bootstrap runs once per fleet as a setup step, not in every worker."""
    configured = settings.model_copy(
        update={"admin_email": "root@example.com", "admin_password": PASSWORD}
    )
    with TestClient(create_app(configured, database)):
        pass
    with database.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM users").scalar() == 0


def run_admin_step(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADMIN_", "DATABASE_"))}
    env.update(PYTHONPATH=str(REPO_ROOT), DATA_DIR=str(tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "user_service.admin", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_copied_env_example_is_refused_in_one_line(tmp_path: Path) -> None:
    """`cp .env.example .env && make run`: no admin with the published password."""
    shutil.copy(REPO_ROOT / ".env.example", tmp_path / ".env")
    done = run_admin_step(tmp_path, "--if-configured")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "placeholder" in done.stderr and "Traceback" not in done.stderr


def test_without_an_admin_configured_the_setup_step_does_nothing(tmp_path: Path) -> None:
    done = run_admin_step(tmp_path, "--if-configured")
    assert done.returncode == 0, done.stderr
    assert "none created" in done.stdout
