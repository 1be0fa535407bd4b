"""Hostile values in every filter and body field, on every database: SQL
metacharacters, LIKE wildcards, NUL bytes, bidi overrides, emoji, 10,000
characters. Nothing may answer 500; what is stored comes back as sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from common.passwords import PasswordHasher
from common.settings import Settings
from database import Database
from database.migrate import upgrade
from tests.attack.conftest import World, seed_world, started_clients
from tests.databases import require_server, scratch_database

NASTY = {
    "sql": "x'; DROP TABLE songs; --",
    "quote": "O\"Brien's \\ back",
    "percent": "100%",
    "underscore": "a_b",
    "nul": "nul\x00byte",
    "rtl": "\u202egnp.exe",
    "emoji": "🎵🔥👩‍🎤",
    "combining": "é̃̂",
    "huge": "x" * 10_000,
}
STORABLE = {"sql", "quote", "percent", "underscore", "rtl", "emoji", "combining"}
# URL fields take http(s) URLs: the value goes into the path of one, and only
# what a URL may carry unencoded is stored: no spaces, backslashes or invisible
# characters (the zero-width joiner inside 👩‍🎤, the right-to-left override).
URL_FIELDS = {"file_url", "cover_image_url"}
URL_STORABLE = {"percent", "underscore", "combining"}


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def hygiene_database(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Database]:
    if request.param == "sqlite":
        yield request.getfixturevalue("database")
        return
    with scratch_database(require_server(request.param), "hygiene") as url:
        upgrade(url.render_as_string(hide_password=False))
        database = Database(url)
        yield database
        database.dispose()


@pytest.fixture
def hygiene(
    hygiene_database: Database, attack_settings: Settings, fast_hasher: PasswordHasher
) -> Iterator[tuple[dict[str, TestClient], World]]:
    world = seed_world(hygiene_database, fast_hasher)
    with started_clients(attack_settings, hygiene_database, fast_hasher) as clients:
        yield clients, world


def _no_500(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code}: {response.text[:300]}"


def test_filters_never_fail_and_wildcards_are_literal(
    hygiene: tuple[dict[str, TestClient], World],
) -> None:
    clients, _ = hygiene
    for service, path in (("song", "/songs"), ("album", "/albums")):
        for field in ("q", "genre", "artist", "sort", "cursor"):
            for name, value in NASTY.items():
                response = clients[service].get(path, params={field: value})
                _no_500(response, f"{path}?{field}=<{name}>")
                if response.status_code == 200:
                    assert response.json() == [], f"{path}?{field}=<{name}> matched seed data"


def test_body_fields_never_fail_and_round_trip(
    hygiene: tuple[dict[str, TestClient], World], make_token: Any
) -> None:
    clients, world = hygiene
    admin = {"Authorization": f"Bearer {make_token(world.admin_id, 'admin')}"}
    song = {"title": "t", "artist": "a", "genre": "g", "file_url": "/f"}
    album = {"title": "t", "artist": "a", "genre": "g"}
    for service, path, base, fields in (
        ("song", "/songs", song, [*song, "description", "cover_image_url"]),
        ("album", "/albums", album, [*album, "description", "cover_image_url"]),
    ):
        for field in fields:
            for name, nasty in NASTY.items():
                is_url = field in URL_FIELDS
                value = f"https://cdn.example.com/{nasty}" if is_url else nasty
                response = clients[service].post(path, json={**base, field: value}, headers=admin)
                _no_500(response, f"POST {path} {field}=<{name}>")
                if name in (URL_STORABLE if is_url else STORABLE) and len(nasty) <= 50:
                    assert response.status_code == 201, (field, name, response.text)
                    created = clients[service].get(f"{path}/{response.json()['id']}", headers=admin)
                    assert created.json()[field] == value, (field, name)
                elif name in ("nul", "huge") or is_url:
                    assert response.status_code == 422, (field, name, response.status_code)


def test_account_fields_never_fail(
    hygiene: tuple[dict[str, TestClient], World], make_token: Any
) -> None:
    clients, world = hygiene
    me = {"Authorization": f"Bearer {make_token(world.user_id)}"}
    for name, value in NASTY.items():
        body = {"username": value, "email": f"{value}@example.com", "password": value,
                "first_name": value, "last_name": value}  # fmt: skip
        _no_500(clients["user"].post("/users", json=body), f"sign-up <{name}>")
        for field in ("first_name", "last_name", "username", "email"):
            response = clients["user"].patch(
                f"/users/{world.user_id}", json={field: value}, headers=me
            )
            _no_500(response, f"PATCH {field}=<{name}>")
        login = clients["auth"].post("/auth/login", json={"email": value, "password": value})
        _no_500(login, f"login <{name}>")
        assert login.status_code in (401, 422)
        _no_500(clients["auth"].post("/auth/refresh", json={"refresh_token": value}), "refresh")
        admin = {"Authorization": f"Bearer {make_token(world.admin_id, 'admin')}"}
        lookup = clients["user"].get(f"/users/email/{quote(value)}", headers=admin)
        _no_500(lookup, f"email lookup <{name}>")
