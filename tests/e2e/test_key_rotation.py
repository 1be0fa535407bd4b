"""The key rotation README describes, run against a real fleet: a new pair, the old
public key kept as the previous one, auth_service restarted; tokens signed with
either key are accepted by every service, none of which was restarted."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.e2e.fleet import REPO_ROOT, Fleet, fleet_environment, run_setup_step, running_fleet

pytestmark = pytest.mark.e2e

ROTATE = ["-m", "common.keys", "rotate"]
PASSWORD = "rotation-password-123"


@pytest.fixture(scope="module")
def rotating_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fleet, Path]]:
    data_dir = tmp_path_factory.mktemp("rotation")
    with running_fleet(data_dir) as fleet:
        yield fleet, data_dir


def log_in(http: httpx.Client, fleet: Fleet, email: str) -> str:
    response = http.post(f"{fleet.auth}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["auth_token"])


def accepted_everywhere(http: httpx.Client, fleet: Fleet, token: str) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"}
    return {
        "auth": http.get(f"{fleet.auth}/auth/verify", headers=headers).status_code,
        "user": http.get(f"{fleet.user}/users/me", headers=headers).status_code,
        "song": http.get(f"{fleet.song}/songs/liked", headers=headers).status_code,
        # 404: the caller was let in and the album does not exist.
        "album": http.get(f"{fleet.album}/albums/987654", headers=headers).status_code,
    }


def test_the_documented_rotation_keeps_every_token_working(
    rotating_fleet: tuple[Fleet, Path],
) -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("### Key rotation", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"python -m common\.keys rotate", section), "README shows another procedure"

    fleet, data_dir = rotating_fleet
    everywhere = {"auth": 200, "user": 200, "song": 200, "album": 404}
    with httpx.Client(timeout=30, trust_env=False) as http:
        email = f"rotation{uuid.uuid4().hex[:8]}@example.com"
        body = {"username": email.split("@")[0], "email": email, "password": PASSWORD,
                "first_name": "R"}  # fmt: skip
        assert http.post(f"{fleet.user}/users", json=body).status_code == 201
        before = log_in(http, fleet, email)
        assert accepted_everywhere(http, fleet, before) == everywhere

        # The procedure: a new pair (the old public key kept as the previous one),
        # then auth_service restarted.
        env = fleet_environment(data_dir, fleet.urls, f"sqlite:///{data_dir / 'e2e.db'}")
        run_setup_step(ROTATE, data_dir, env)
        fleet.stop_service("auth")
        fleet.start("auth")

        after = log_in(http, fleet, email)
        old_kid = jwt.get_unverified_header(before)["kid"]
        new_kid = jwt.get_unverified_header(after)["kid"]
        assert old_kid != new_kid
        jwks = http.get(f"{fleet.auth}/.well-known/jwks.json").json()
        assert [key["kid"] for key in jwks["keys"]] == [new_kid, old_kid]
        # album, song and user still run from before the rotation.
        assert accepted_everywhere(http, fleet, after) == everywhere
        assert accepted_everywhere(http, fleet, before) == everywhere
