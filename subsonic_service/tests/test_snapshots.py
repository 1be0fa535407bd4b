"""Snapshots of every method's answer, XML and JSON, on the fixed catalogue of
conftest.py: a change of shape (a field renamed, dropped, typed otherwise, moved)
is a visible diff under snapshots/, reviewed like code.

`UPDATE_SNAPSHOTS=1 pytest subsonic_service/tests/test_snapshots.py` rewrites
them; without it a missing or different snapshot fails. What differs from run
to run is replaced before comparing: times of "now" (anything after the fixed
catalogue's month) by `<now>`, the order of random picks (sorted by id), and the
files' checksums (Ogg streams carry random serial numbers).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.dom import minidom

import pytest

from subsonic_service.registry import METHODS
from subsonic_service.tests.conftest import EPOCH, Library, running_library

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
# The fixed catalogue's times are within days of EPOCH; later ones are the run's.
FIXED_UNTIL = EPOCH.replace(month=EPOCH.month + 1)
RANDOM_METHODS = {"getRandomSongs", "getAlbumList2-random"}
BINARY_HEADERS = ("content-type", "accept-ranges", "content-disposition", "cache-control")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, key_dir: Path) -> Iterator[Library]:
    """A catalogue of its own: no other test's writes show in these answers."""
    with running_library(tmp_path_factory.mktemp("snapshots"), key_dir) as running:
        yield running


def _calls(library: Library) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """(snapshot name, method, user, parameters), reads first, then the writes in
    an order whose answers do not depend on one another's timing."""
    song, album, artist = library.song_ids, library.album_ids, library.artist_ids
    road_trip = _playlist_id(library, "Road trip")
    reads: list[tuple[str, str, str | None, dict[str, Any]]] = [
        ("ping", "ping", "alice", {}),
        ("getLicense", "getLicense", "alice", {}),
        ("getOpenSubsonicExtensions", "getOpenSubsonicExtensions", None, {}),
        ("getMusicFolders", "getMusicFolders", "alice", {}),
        ("getUser", "getUser", "alice", {"username": "alice"}),
        ("getIndexes", "getIndexes", "alice", {}),
        ("getArtists", "getArtists", "alice", {}),
        ("getArtist", "getArtist", "alice", {"id": f"ar-{artist['The Beatles']}"}),
        ("getAlbum", "getAlbum", "alice", {"id": f"al-{album['Abbey Road']}"}),
        ("getSong", "getSong", "alice", {"id": f"so-{song['Something']}"}),
        ("getGenres", "getGenres", "alice", {}),
        ("getRandomSongs", "getRandomSongs", "alice", {"size": 500}),
        ("getSongsByGenre", "getSongsByGenre", "alice", {"genre": "Pop"}),
        ("getStarred2", "getStarred2", "alice", {}),
        ("search3-empty", "search3", "alice", {"query": ""}),
        ("search3-query", "search3", "alice", {"query": "abba"}),
        ("getPlaylists", "getPlaylists", "alice", {}),
        ("getPlaylist", "getPlaylist", "alice", {"id": f"pl-{road_trip}"}),
        ("getScanStatus", "getScanStatus", "alice", {}),
        ("error-10", "getAlbum", "alice", {}),
        ("error-70", "getAlbum", "alice", {"id": "al-999999"}),
        ("error-50", "startScan", "alice", {}),
    ]
    for kind in ("newest", "highest", "frequent", "recent", "alphabeticalByName",
                 "alphabeticalByArtist", "starred", "random"):  # fmt: skip
        reads.append((f"getAlbumList2-{kind}", "getAlbumList2", "alice", {"type": kind}))
    reads.append(("getAlbumList2-byYear", "getAlbumList2", "alice",
                  {"type": "byYear", "fromYear": 2005, "toYear": 1970}))  # fmt: skip
    reads.append(("getAlbumList2-byGenre", "getAlbumList2", "alice",
                  {"type": "byGenre", "genre": "Chanson"}))  # fmt: skip
    writes: list[tuple[str, str, str | None, dict[str, Any]]] = [
        ("star", "star", "carol",
         {"id": f"so-{song['Waterloo']}", "albumId": f"al-{album['Zaz']}"}),
        ("unstar", "unstar", "carol", {"id": f"so-{song['Waterloo']}"}),
        ("scrobble", "scrobble", "carol", {"id": f"so-{song['Waterloo']}", "time": 1768644000000}),
        ("createPlaylist", "createPlaylist", "carol",
         {"name": "Snapshot", "songId": [f"so-{song['Je veux']}", f"so-{song['Unrockbar']}"]}),
        ("startScan", "startScan", "admin", {}),
    ]  # fmt: skip
    return reads + writes


def _playlist_id(library: Library, name: str) -> int:
    body = library.ok("getPlaylists")
    return next(int(p["id"][3:]) for p in body["playlists"]["playlist"] if p["name"] == name)


def _now(match: re.Match[str]) -> str:
    value = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
    return match.group(0) if value < FIXED_UNTIL else "<now>"


def _stable_json(name: str, body: dict[str, Any]) -> str:
    inner = body["subsonic-response"]
    if name in RANDOM_METHODS:
        for holder in (inner.get("randomSongs"), inner.get("albumList2")):
            for key in ("song", "album"):
                if holder and key in holder:
                    holder[key].sort(key=lambda item: int(item["id"][3:]))
    if "scanStatus" in inner:  # a scan of an empty library may be over already
        inner["scanStatus"] = {key: f"<{key}>" for key in inner["scanStatus"]}
    text = json.dumps(body, indent=2, ensure_ascii=False)
    return ISO_TIME.sub(_now, text) + "\n"


def _stable_xml(name: str, text: str) -> str:
    document = minidom.parseString(text)  # noqa: S318 - the answer of our own server
    if name in RANDOM_METHODS:
        for parent_tag in ("randomSongs", "albumList2"):
            for parent in document.getElementsByTagName(parent_tag):
                children = [
                    node for node in parent.childNodes if node.nodeType == node.ELEMENT_NODE
                ]
                for child in children:
                    parent.removeChild(child)
                for child in sorted(children, key=lambda node: int(node.getAttribute("id")[3:])):
                    parent.appendChild(child)
    for status in document.getElementsByTagName("scanStatus"):
        for attribute in list(status.attributes.keys()):
            status.setAttribute(attribute, f"<{attribute}>")
    pretty = document.toprettyxml(indent="  ")
    return ISO_TIME.sub(_now, pretty)


def _compare(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} changed"


def test_every_method_answers_as_its_snapshot(pristine: Library) -> None:
    pristine.new_user(username="carol")
    snapped: set[str] = set()
    for name, method, user, params in _calls(pristine):
        snapped.add(method)
        as_json = pristine.get(method, user, f="json", **params)
        _compare(SNAPSHOTS / f"{name}.json", _stable_json(name, as_json.json()))
        # The XML twin is the same call again: every write here is idempotent but
        # createPlaylist, whose second playlist is harmless.
        as_xml = pristine.get(method, user, **params)
        _compare(SNAPSHOTS / f"{name}.xml", _stable_xml(name, as_xml.text))
    # updatePlaylist and deletePlaylist answer an empty envelope, on the playlist
    # createPlaylist made.
    playlists = pristine.ok("getPlaylists", "carol")["playlists"]["playlist"]
    made = next(p["id"] for p in playlists if p["name"] == "Snapshot")
    for method, params in (
        ("updatePlaylist", {"playlistId": made, "name": "Snapshot 2", "songIndexToRemove": 0}),
        ("deletePlaylist", {"id": made}),
    ):
        snapped.add(method)
        as_json = pristine.get(method, "carol", f="json", **params)
        _compare(SNAPSHOTS / f"{method}.json", _stable_json(method, as_json.json()))
    # The binary methods: their status and headers (the bytes are the file's).
    for method, params in (
        ("stream", {"id": f"so-{pristine.song_ids['Something']}"}),
        ("download", {"id": f"so-{pristine.song_ids['Something']}"}),
        ("getCoverArt", {"id": f"al-{pristine.album_ids['Abbey Road']}", "size": 64}),
    ):
        snapped.add(method)
        response = pristine.get(method, "alice", **params)
        headers = {key: response.headers.get(key) for key in BINARY_HEADERS}
        shown = {"status": response.status_code, "headers": headers}
        _compare(SNAPSHOTS / f"{method}.json", json.dumps(shown, indent=2) + "\n")
    assert set(METHODS) - snapped == set(), "every method has a snapshot"
