"""Uploads and library scans raced by real clients over real HTTP, on each
database the fleet runs on (API.md, Media): one file is one song however many
upload it at once; the tracks of a new album uploaded at once make one album in
track order; two scans asked at once run once."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from media.synth import cover_image, write_song
from tests.e2e.clients import admin_headers, all_at_once, client, expect
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e

CLIENTS = 4


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


@pytest.fixture(scope="module")
def admin(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    return admin_headers(http, fleet)


def data_dir(fleet: Fleet) -> Path:
    """The fleet's DATA_DIR (its MEDIA_DIR and LIBRARY_DIR are folders of it)."""
    return fleet.logs["song"].parent


def new_album(folder: Path, tracks: int) -> tuple[str, list[Path]]:
    """A new album's Ogg files with full tags; its unique title."""
    title = f"Race {uuid.uuid4().hex[:8]}"
    cover = cover_image(title)
    files = [
        write_song(
            folder / f"{n:02d}.ogg", title=f"{title} {n}", artists=["Racers"], album=title,
            track=n, track_total=tracks, genres=["Race"], seconds=1.0, cover=cover,
            seed=hash(title) % 1000 + n,
        )
        for n in range(1, tracks + 1)
    ]  # fmt: skip
    return title, files


def upload(http: httpx.Client, fleet: Fleet, admin: dict[str, str], path: Path) -> httpx.Response:
    files = {"files": (path.name, path.read_bytes(), "audio/ogg")}
    return http.post(f"{fleet.song}/songs/upload", files=files, headers=admin)


def album_tracks(http: httpx.Client, fleet: Fleet, admin: dict[str, str], title: str) -> list[Any]:
    found = expect(http.get(f"{fleet.album}/albums", params={"q": title}, headers=admin), 200)
    assert len(found) == 1, found
    return expect(http.get(f"{fleet.album}/albums/{found[0]['id']}/songs", headers=admin), 200)


def test_one_file_uploaded_at_once_is_one_song(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str], tmp_path: Path
) -> None:
    _, (song,) = new_album(tmp_path, 1)
    answers = all_at_once([lambda own: upload(own, fleet, admin, song)] * CLIENTS)
    assert Counter(answer.status_code for answer in answers) == {201: 1, 409: CLIENTS - 1}
    created = next(answer for answer in answers if answer.status_code == 201).json()[0]
    assert {answer.json()["song_id"] for answer in answers if answer.status_code == 409} == {
        created["id"]
    }
    kept = [path for path in (data_dir(fleet) / "media").rglob("*.ogg")
            if path.read_bytes() == song.read_bytes()]  # fmt: skip
    assert len(kept) == 1
    got = expect(http.get(f"{fleet.song}/songs/{created['id']}", headers=admin), 200)
    assert got["media"]["size"] == song.stat().st_size


def test_an_album_uploaded_at_once_is_one_album_in_track_order(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str], tmp_path: Path
) -> None:
    title, files = new_album(tmp_path, CLIENTS)
    answers = all_at_once(
        [lambda own, path=path: upload(own, fleet, admin, path) for path in files]
    )
    assert [answer.status_code for answer in answers] == [201] * CLIENTS
    tracks = album_tracks(http, fleet, admin, title)
    assert [(t["track_number"], t["title"]) for t in tracks] == [
        (n, f"{title} {n}") for n in range(1, CLIENTS + 1)
    ]


def test_two_scans_asked_at_once_run_once(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    library = data_dir(fleet) / "library"
    title, _ = new_album(library / "Racers" / uuid.uuid4().hex[:6], 3)
    url = f"{fleet.song}/library/scans"
    answers = all_at_once([lambda own: own.post(url, json={}, headers=admin)] * 2)
    assert sorted(answer.status_code for answer in answers) == [202, 409]
    scan_id = next(answer for answer in answers if answer.status_code == 202).json()["id"]
    deadline = time.monotonic() + 120
    while (scan := expect(http.get(f"{url}/{scan_id}", headers=admin), 200))["state"] == "running":
        assert time.monotonic() < deadline, scan
        time.sleep(0.1)
    assert scan["state"] == "done", scan
    assert scan["added"] >= 3 and scan["errors"] == []
    tracks = album_tracks(http, fleet, admin, title)
    assert [t["track_number"] for t in tracks] == [1, 2, 3]
