"""search3 in-process: the REST /search's matching and ranking, folded text, the
empty query that lists everything, paging per kind, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from subsonic_service.tests.conftest import TRACKS, Library


def _result(library: Library, user: str = "alice", **params: Any) -> dict[str, list[str]]:
    """search3's names: artist names, album names, song titles."""
    found = library.ok("search3", user, **params)["searchResult3"]
    return {
        "artist": [artist["name"] for artist in found.get("artist", [])],
        "album": [album["name"] for album in found.get("album", [])],
        "song": [song["title"] for song in found.get("song", [])],
    }


def test_folded_query_finds_accented_names(library: Library) -> None:
    found = _result(library, query="arzte")
    assert found == {
        "artist": ["Die Ärzte"],
        "album": ["Geräusch"],
        "song": ["Unrockbar", "Dinge von denen"],
    }
    assert _result(library, query="ÄRZTE") == found
    assert _result(library, query="gerausch")["album"] == ["Geräusch"]


def test_word_prefixes_and_every_word(library: Library) -> None:
    found = _result(library, query="beat")
    assert found["artist"] == ["The Beatles"]
    assert found["album"] == ["Abbey Road"]
    assert sorted(found["song"]) == ["Come Together", "Her Majesty", "Something"]
    # Every word must match: "beat" and "some" together only find Something.
    assert _result(library, query="beat some")["song"] == ["Something"]
    assert _result(library, query="beat zaz") == {"artist": [], "album": [], "song": []}


def test_ranking_exact_title_then_prefix_then_words(library: Library) -> None:
    found = _result(library, query="zaz")
    assert found["artist"] == ["Zaz"]
    assert found["album"] == ["Zaz"]  # exact title; "Hits" is by Various Artists
    assert found["song"] == ["Je veux", "Les passants"]  # by the artist's word
    # "Money, Money, Money" starts with the query: a title prefix.
    assert _result(library, query="money")["song"] == ["Money, Money, Money"]


def test_agrees_with_the_rest_search(library: Library) -> None:
    headers = {"Authorization": f"Bearer {library.token('alice')}"}
    for query in ("arzte", "beat", "a", "zaz", "les", "hits"):
        rest = library.apps["song"].get("/search", params={"q": query}, headers=headers).json()
        found = library.ok("search3", query=query)["searchResult3"]
        assert [a["id"] for a in found["artist"]] == [f"ar-{a['id']}" for a in rest["artists"]]
        assert [a["id"] for a in found["album"]] == [f"al-{a['id']}" for a in rest["albums"]]
        assert [s["id"] for s in found["song"]] == [f"so-{s['id']}" for s in rest["songs"]]


@pytest.mark.parametrize("empty", ["", '""', "''", "  "])
def test_empty_query_lists_everything_in_a_stable_order(library: Library, empty: str) -> None:
    found = _result(library, query=empty, songCount=100)
    assert found["artist"] == ["ABBA", "Die Ärzte", "The Beatles", "Various Artists", "Zaz"]
    assert found["album"] == ["Abbey Road", "Arrival", "Geräusch", "Hits", "Zaz"]
    titles = sorted((track.title.casefold(), track.title) for track in TRACKS)
    assert found["song"] == [title for _, title in titles]


def test_each_kind_pages_on_its_own(library: Library) -> None:
    everything = _result(library, query="", songCount=100)
    pages: list[str] = []
    for offset in range(0, 12, 3):
        page = _result(library, query="", songCount=3, songOffset=offset, artistCount=0,
                       albumCount=1, albumOffset=2)  # fmt: skip
        assert page["artist"] == []
        assert page["album"] == ["Geräusch"]
        pages.extend(page["song"])
    assert pages == everything["song"]
    assert len(pages) == 10
    defaults = _result(library, query="")
    assert len(defaults["song"]) == 10  # the default count, 20, is more than there are
    artists = _result(library, query="", artistCount=2, artistOffset=1)["artist"]
    assert artists == everything["artist"][1:3]


def test_search_shows_the_callers_state(library: Library) -> None:
    user = library.new_user()
    song_id = library.song_ids["Waterloo"]
    liked = library.apps["song"].post(
        f"/songs/{song_id}/like", headers={"Authorization": f"Bearer {library.token(user)}"}
    )
    assert liked.status_code in (200, 201, 204), liked.text
    mine = library.ok("search3", user, query="waterloo")["searchResult3"]["song"]
    assert [song["id"] for song in mine] == [f"so-{song_id}"]
    assert mine[0]["starred"].endswith("Z")
    theirs = library.ok("search3", library.new_user(), query="waterloo")["searchResult3"]["song"]
    assert "starred" not in theirs[0]


def test_search_errors(library: Library) -> None:
    assert library.json("search3")["error"]["code"] == 10
    assert library.json("search3", query="a", songCount="lots")["error"]["code"] == 0
    assert library.json("search3", query="a", songOffset=-1)["error"]["code"] == 0
    assert library.json("search3", query="a", songCount=10**6)["error"]["code"] == 0
    assert library.json("search3", query="a", musicFolderId=2)["error"]["code"] == 70
    # Control characters and absurd lengths are folded away, never a failure.
    assert library.ok("search3", query="\x00arzte")["searchResult3"]["artist"]
    assert library.ok("search3", query="zaz " * 500)["searchResult3"]


def test_search_xml(library: Library) -> None:
    response = library.get("search3", query="arzte")
    root = ET.fromstring(response.content)  # noqa: S314 - our own server's answer
    ns = "{http://subsonic.org/restapi}"
    result = root.find(f"{ns}searchResult3")
    assert result is not None
    assert [a.get("name") for a in result.findall(f"{ns}artist")] == ["Die Ärzte"]
    assert [s.get("title") for s in result.findall(f"{ns}song")] == ["Unrockbar", "Dinge von denen"]
