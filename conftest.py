"""Fixtures shared by every test package: settings on a temporary data folder,
test signing keys, a token minter, a migrated SQLite database and a fast hasher."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import insert, update

from common.keys import ensure_key_pair, public_jwk
from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database
from database.migrate import upgrade
from database.models import User

TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    ensure_key_pair(directory / "jwt_private.pem", directory / "jwt_public.pem")
    return directory


@pytest.fixture
def settings(tmp_path: Path, key_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'test.db'}",
        jwt_private_key_file=key_dir / "jwt_private.pem",
        jwt_public_key_file=key_dir / "jwt_public.pem",
        cors_origins=["http://frontend.test"],
        log_level="WARNING",
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """A fresh SQLite file brought to the newest migration."""
    url = settings.sqlalchemy_url.render_as_string(hide_password=False)
    upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def fast_hasher() -> PasswordHasher:
    # Production enforces cost >= 12 through settings; unit tests only need the
    # behaviour, so they use bcrypt's minimum cost to stay fast.
    return PasswordHasher(rounds=4)


def hold_role(database: Database, user_id: int, role: str) -> None:
    """Make `users` say the account has `role`, creating the row if needed: an
    admin token is honoured only while the database agrees (API.md, Sessions)."""
    users = User.__table__
    with database.connect(write=True) as connection:
        changed = connection.execute(
            update(users).where(users.c.id == user_id).values(role=role)
        ).rowcount
        if not changed:
            now = datetime.now(UTC)
            connection.execute(
                insert(users).values(
                    id=user_id, username=f"minted{user_id}", email=f"minted{user_id}@example.com",
                    password_hash="!", first_name="Minted", role=role, created_at=now,  # noqa: S106
                    updated_at=now,
                )
            )  # fmt: skip
        connection.commit()


@pytest.fixture
def make_token(key_dir: Path, settings: Settings, request: pytest.FixtureRequest) -> TokenFactory:
    """Mint an RS256 access token the way auth_service does; any claim can be
    overridden (or removed with None) to build forged or broken tokens. Like
    auth_service, it mints an admin token only for an account the database holds
    as admin: the test database's `users` row is made to say so."""
    private_pem = (key_dir / "jwt_private.pem").read_bytes()
    kid = public_jwk((key_dir / "jwt_public.pem").read_bytes())["kid"]

    def mint(user_id: int = 1, role: str = "user", **overrides: Any) -> str:
        if role == "admin" and isinstance(user_id, int) and 0 < user_id < 2**63:
            hold_role(request.getfixturevalue("database"), user_id, role)
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "role": role,
            "type": "access",
            "iat": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
        }
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": kid})

    return mint


@pytest.fixture
def auth_header(make_token: TokenFactory) -> Callable[..., dict[str, str]]:
    def header(user_id: int = 1, role: str = "user") -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(user_id, role)}"}

    return header
