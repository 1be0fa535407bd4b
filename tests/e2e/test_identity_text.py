"""Text over real HTTP, on each database the fleet runs on (API.md, "Text (round 2)"):
emails and passwords mean the same however they are typed, and search, exact
filters and sorting fold case and accents alike everywhere."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.clients import admin_headers, client, expect, log_in, sign_up, sign_up_body
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e

KINDS = ("songs", "albums")


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def log_in_status(http: httpx.Client, fleet: Fleet, email: str, password: str) -> int:
    body = {"email": email, "password": password}
    return http.post(f"{fleet.auth}/auth/login", json=body).status_code


def test_a_padded_email_signs_up_and_logs_in_as_typed(http: httpx.Client, fleet: Fleet) -> None:
    tag = uuid.uuid4().hex[:10]
    padded = f"  Pad.Ded.{tag}@Example.com "
    body = sign_up_body(f"p{tag}", padded)
    created = expect(http.post(f"{fleet.user}/users", json=body), 201)
    assert created["email"] == f"pad.ded.{tag}@example.com"
    assert log_in(http, fleet, padded, body["password"])["user_id"] == created["id"]
    assert log_in(http, fleet, created["email"], body["password"])["user_id"] == created["id"]


def test_a_password_logs_in_in_either_unicode_form(http: httpx.Client, fleet: Fleet) -> None:
    password = unicodedata.normalize("NFC", f"café-crème-{uuid.uuid4().hex[:8]}")
    assert nfd(password) != password
    account = sign_up(http, fleet, password=password)
    assert log_in(http, fleet, account.email, nfd(password))["user_id"] == account.id
    assert log_in(http, fleet, account.email, password)["user_id"] == account.id


def test_an_email_logs_in_in_either_unicode_form(http: httpx.Client, fleet: Fleet) -> None:
    email = unicodedata.normalize("NFC", f"rené{uuid.uuid4().hex[:10]}@example.com")
    account = sign_up(http, fleet, email=email)
    assert log_in(http, fleet, nfd(email), account.password)["user_id"] == account.id
    assert log_in(http, fleet, email, account.password)["user_id"] == account.id


def test_jose_with_and_without_an_accent_are_two_accounts(http: httpx.Client, fleet: Fleet) -> None:
    tag = uuid.uuid4().hex[:10]
    accented = sign_up(http, fleet, email=f"josé{tag}@example.com", password=f"accented-{tag}")
    plain = sign_up(http, fleet, email=f"jose{tag}@example.com", password=f"plain-{tag}")
    assert accented.id != plain.id
    assert log_in_status(http, fleet, plain.email, accented.password) == 401
    assert log_in(http, fleet, plain.email, plain.password)["user_id"] == plain.id
    assert log_in(http, fleet, accented.email, accented.password)["user_id"] == accented.id


@pytest.fixture(scope="module")
def catalogue(http: httpx.Client, fleet: Fleet) -> dict[str, Any]:
    """Songs and albums under genres of their own, so other tests' rows do not interfere."""
    admin = admin_headers(http, fleet)
    tag = uuid.uuid4().hex[:10]
    search_genre, sort_genre = f"search-{tag}", f"sort-{tag}"
    made: dict[str, Any] = {"tag": tag, "search": search_genre, "sort": sort_genre}

    def add(kind: str, title: str, artist: str, genre: str) -> int:
        body = {"title": title, "artist": artist, "genre": genre}
        if kind == "songs":
            body["file_url"] = "https://example.com/t.mp3"
        url = f"{fleet.song if kind == 'songs' else fleet.album}/{kind}"
        return expect(http.post(url, json=body, headers=admin), 201)["id"]

    for kind in KINDS:
        made[kind] = {
            "jazz": add(kind, f"Blue {tag}", f"Tag {tag}", "Jazz"),
            "arzte": add(kind, f"Schrei {tag}", "Die Ärzte", search_genre),
            "beyonce": add(kind, f"Halo {tag}", "Beyoncé", search_genre),
            "other": add(kind, f"Other {tag}", "Someone Else", search_genre),
        }
        for title in ("Zebra", "beta", "Ärger", "alpha"):
            add(kind, title, "Sorter", sort_genre)
    return made


def listed(http: httpx.Client, fleet: Fleet, kind: str, **params: str) -> list[Any]:
    base = fleet.song if kind == "songs" else fleet.album
    return expect(http.get(f"{base}/{kind}", params={"limit": "200", **params}), 200)


@pytest.mark.parametrize("kind", KINDS)
def test_the_genre_filter_folds_case(
    http: httpx.Client, fleet: Fleet, catalogue: dict[str, Any], kind: str
) -> None:
    artist = f"Tag {catalogue['tag']}"
    found = {
        genre: [row["id"] for row in listed(http, fleet, kind, genre=genre, artist=artist)]
        for genre in ("Jazz", "jazz", "JAZZ")
    }
    wanted = [catalogue[kind]["jazz"]]
    assert found == {"Jazz": wanted, "jazz": wanted, "JAZZ": wanted}


@pytest.mark.parametrize("kind", KINDS)
def test_search_folds_case_and_accents(
    http: httpx.Client, fleet: Fleet, catalogue: dict[str, Any], kind: str
) -> None:
    ids = catalogue[kind]
    found = {
        q: [row["id"] for row in listed(http, fleet, kind, q=q, genre=catalogue["search"])]
        for q in ("ärzte", "ÄRZTE", "Ärzte", "beyonce", "BEYONCÉ")
    }
    assert found == {
        "ärzte": [ids["arzte"]],
        "ÄRZTE": [ids["arzte"]],
        "Ärzte": [ids["arzte"]],
        "beyonce": [ids["beyonce"]],
        "BEYONCÉ": [ids["beyonce"]],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_sorting_by_title_folds_case_and_accents(
    http: httpx.Client, fleet: Fleet, catalogue: dict[str, Any], kind: str
) -> None:
    rows = listed(http, fleet, kind, genre=catalogue["sort"], sort="title")
    assert [row["title"] for row in rows] == ["alpha", "Ärger", "beta", "Zebra"]
