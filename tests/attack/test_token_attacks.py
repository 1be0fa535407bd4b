"""Every protected operation of every service, attacked with every token class."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.attack.conftest import PASSWORD, World
from tests.attack.tokens import attacks

# Requests that carry no Bearer token at all: anonymous, not forged.
ANONYMOUS = frozenset({"no token", "wrong scheme", "scheme only"})


def protected_operations(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every operation whose OpenAPI entry names a security scheme."""
    schema = client.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if operation.get("security")
    ]


def fill(path: str, world: World) -> str:
    ids = {"user_id": world.other_id, "album_id": world.album_id, "song_id": world.song_id,
           "email": "other@example.com", "playlist_id": world.playlist_id,
           "position": 0, "artist_id": world.artist_id, "scan_id": 1, "key_id": 1}  # fmt: skip
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


@pytest.fixture
def refresh_token(clients: dict[str, TestClient]) -> str:
    login = clients["auth"].post(
        "/auth/login", json={"email": "user@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return login.json()["refresh_token"]


def test_every_protected_operation_refuses_every_bad_token(
    clients: dict[str, TestClient], world: World, make_token, key_dir: Path, refresh_token: str
) -> None:
    tried = 0
    failures: list[str] = []
    catalogue = attacks(make_token, key_dir, world.user_id, refresh_token)
    for service, client in clients.items():
        operations = protected_operations(client)
        assert operations, f"{service} has no protected operations?"
        for method, path in operations:
            url = fill(path, world)
            body: Any = {} if method in ("POST", "PUT", "PATCH") else None
            # Public operations that say more to a signed-in caller (GET /songs)
            # serve anonymous callers; there only a bad Bearer token must be refused.
            optional = client.request(method, url, json=body).status_code != 401
            for name, headers in catalogue.items():
                if optional and name in ANONYMOUS:
                    continue
                response = client.request(method, url, headers=headers(), json=body)
                tried += 1
                challenge = response.headers.get("WWW-Authenticate", "")
                if response.status_code != 401 or not challenge.startswith("Bearer"):
                    failures.append(f"{service} {method} {url} [{name}] -> {response.status_code}")
    assert failures == []
    assert tried >= 20 * 20  # ~20 protected operations x 20 attack classes


def test_a_valid_token_gets_through_where_the_forged_ones_did_not(
    clients: dict[str, TestClient], world: World, make_token
) -> None:
    """The control: the same requests with a genuine token are not 401."""
    headers = {"Authorization": f"Bearer {make_token(world.admin_id, 'admin')}"}
    for client in clients.values():
        for method, path in protected_operations(client):
            if method == "DELETE":
                continue  # keep the seeded data for the other operations
            response = client.request(method, fill(path, world), headers=headers, json={})
            assert response.status_code != 401, (method, path, response.text)
