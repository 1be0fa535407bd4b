"""getIndexes, getArtists, getArtist, getAlbum, getSong, getGenres in-process."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from subsonic_service.services.browsing import IGNORED_ARTICLES, index_name, sort_key
from subsonic_service.tests.conftest import Library

NS = "{http://subsonic.org/restapi}"


def _bearer(library: Library, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {library.token(user)}"}


def _xml(library: Library, method: str, **params: Any) -> ET.Element:
    response = library.get(method, f="xml", **params)
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own server's answer
    assert root.get("status") == "ok", response.text
    return root


def _json_scalars(obj: dict[str, Any]) -> dict[str, str]:
    """A JSON object's scalar fields as XML attributes write them."""
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for key, value in obj.items()
        if not isinstance(value, dict | list)
    }


# The artist index -------------------------------------------------------------


def test_sort_keys_drop_one_article_and_fold_accents() -> None:
    assert sort_key("The Beatles") == "beatles"
    assert sort_key("Die Ärzte") == "arzte"
    assert sort_key("The") == "the"  # only an article: kept
    assert sort_key("Theatre of Tragedy") == "theatre of tragedy"
    assert sort_key("A Tribe Called Quest") == "tribe called quest"
    assert index_name("arzte") == "A"
    assert index_name("2pac") == "#"
    assert index_name("!!!") == "#"
    assert index_name("") == "#"


def test_get_artists_files_by_sort_name_without_articles(library: Library) -> None:
    artists = library.ok("getArtists")["artists"]
    assert artists["ignoredArticles"] == IGNORED_ARTICLES
    layout = [(index["name"], [a["name"] for a in index["artist"]]) for index in artists["index"]]
    assert layout == [
        ("A", ["ABBA", "Die Ärzte"]),  # "abba" < "arzte": the article and the accent go
        ("B", ["The Beatles"]),
        ("V", ["Various Artists"]),
        ("Z", ["Zaz"]),
    ]
    beatles = artists["index"][1]["artist"][0]
    assert beatles["id"] == f"ar-{library.artist_ids['The Beatles']}"
    assert beatles["albumCount"] == 1
    assert beatles["coverArt"] == beatles["id"]
    assert beatles["sortName"] == "The Beatles"


def test_get_artists_shows_the_callers_star(library: Library) -> None:
    user = library.new_user()
    zaz = library.artist_ids["Zaz"]
    liked = library.apps["album"].post(f"/artists/{zaz}/like", headers=_bearer(library, user))
    assert liked.status_code in (200, 201, 204), liked.text
    mine = library.ok("getArtists", user)["artists"]["index"]
    starred = {a["name"]: a.get("starred") for index in mine for a in index["artist"]}
    assert starred["Zaz"] is not None and starred["Zaz"].endswith("Z")
    assert [name for name, at in starred.items() if at] == ["Zaz"]
    fresh = library.new_user()
    others = library.ok("getArtists", fresh)["artists"]["index"]
    assert all("starred" not in a for index in others for a in index["artist"])


def test_get_artists_xml_matches_json(library: Library) -> None:
    as_json = library.ok("getArtists")["artists"]
    artists = _xml(library, "getArtists").find(f"{NS}artists")
    assert artists is not None
    assert artists.get("ignoredArticles") == as_json["ignoredArticles"]
    indexes = artists.findall(f"{NS}index")
    assert [index.get("name") for index in indexes] == [i["name"] for i in as_json["index"]]
    for element, index in zip(indexes, as_json["index"], strict=True):
        entries = element.findall(f"{NS}artist")
        assert [dict(entry.attrib) for entry in entries] == [
            _json_scalars(artist) for artist in index["artist"]
        ]


def test_get_indexes_lists_artists_with_last_modified(library: Library) -> None:
    indexes = library.ok("getIndexes")["indexes"]
    assert indexes["ignoredArticles"] == IGNORED_ARTICLES
    assert isinstance(indexes["lastModified"], int) and indexes["lastModified"] > 0
    layout = [(index["name"], [a["name"] for a in index["artist"]]) for index in indexes["index"]]
    assert layout[0] == ("A", ["ABBA", "Die Ärzte"])
    assert [name for name, _ in layout] == ["A", "B", "V", "Z"]
    abba = indexes["index"][0]["artist"][0]
    assert abba["id"] == f"ar-{library.artist_ids['ABBA']}"
    assert abba["albumCount"] == 1


def test_get_indexes_if_modified_since(library: Library) -> None:
    last = library.ok("getIndexes")["indexes"]["lastModified"]
    unchanged = library.ok("getIndexes", ifModifiedSince=last)["indexes"]
    assert unchanged == {"lastModified": last, "ignoredArticles": IGNORED_ARTICLES}
    older = library.ok("getIndexes", ifModifiedSince=last - 1)["indexes"]
    assert len(older["index"]) == 4
    xml = _xml(library, "getIndexes", ifModifiedSince=last).find(f"{NS}indexes")
    assert xml is not None and list(xml) == [] and xml.get("lastModified") == str(last)


def test_music_folder_other_than_one_names_nothing(library: Library) -> None:
    assert library.ok("getArtists", musicFolderId=1)["artists"]["index"]
    assert library.json("getArtists", musicFolderId=2)["error"]["code"] == 70
    assert library.json("getIndexes", musicFolderId="x")["error"]["code"] == 70


# Artist, album, song ----------------------------------------------------------


def test_get_artist_with_albums(library: Library) -> None:
    artist_id = library.artist_ids["The Beatles"]
    artist = library.ok("getArtist", id=f"ar-{artist_id}")["artist"]
    assert artist["id"] == f"ar-{artist_id}"
    assert artist["name"] == "The Beatles"
    assert artist["albumCount"] == 1
    assert [album["name"] for album in artist["album"]] == ["Abbey Road"]
    assert artist["album"][0]["id"] == f"al-{library.album_ids['Abbey Road']}"
    assert artist["album"][0]["songCount"] == 3


def test_get_album_songs_in_disc_and_track_order(library: Library) -> None:
    album_id = library.album_ids["Abbey Road"]
    album = library.ok("getAlbum", id=f"al-{album_id}")["album"]
    assert album["name"] == "Abbey Road"
    assert album["artist"] == "The Beatles"
    assert album["artistId"] == f"ar-{library.artist_ids['The Beatles']}"
    assert album["songCount"] == 3 and album["year"] == 1969
    songs = album["song"]
    assert [(s["discNumber"], s["track"], s["title"]) for s in songs] == [
        (1, 1, "Come Together"),
        (1, 2, "Something"),
        (2, 1, "Her Majesty"),
    ]
    assert all(s["albumId"] == f"al-{album_id}" and s["parent"] == f"al-{album_id}" for s in songs)
    assert album["duration"] == sum(s["duration"] for s in songs)


def test_get_album_xml_matches_json(library: Library) -> None:
    album_id = f"al-{library.album_ids['Hits']}"
    as_json = library.ok("getAlbum", id=album_id)["album"]
    album = _xml(library, "getAlbum", id=album_id).find(f"{NS}album")
    assert album is not None
    assert dict(album.attrib) == _json_scalars(as_json)
    assert album.get("isCompilation") == "true"
    songs = album.findall(f"{NS}song")
    assert [dict(song.attrib) for song in songs] == [_json_scalars(s) for s in as_json["song"]]
    assert [song.get("title") for song in songs] == ["Waterloo", "Les passants"]
    # Nested objects are elements in XML: the album's genres and artists.
    assert [g.get("name") for g in album.findall(f"{NS}genres")] == [
        g["name"] for g in as_json["genres"]
    ]
    assert [a.get("id") for a in album.findall(f"{NS}artists")] == [
        a["id"] for a in as_json["artists"]
    ]


def test_get_song(library: Library) -> None:
    song_id = library.song_ids["Dancing Queen"]
    song = library.ok("getSong", id=f"so-{song_id}")["song"]
    assert song["id"] == f"so-{song_id}"
    assert song["title"] == "Dancing Queen"
    assert song["album"] == "Arrival"
    assert song["albumId"] == f"al-{library.album_ids['Arrival']}"
    assert song["artistId"] == f"ar-{library.artist_ids['ABBA']}"
    assert song["isDir"] is False and song["type"] == "music"
    assert song["suffix"] == "ogg"


@pytest.mark.parametrize(
    ("method", "kind"),
    [("getArtist", "ar"), ("getAlbum", "al"), ("getSong", "so")],
)
def test_ids_missing_malformed_mistyped_or_unknown(
    library: Library, method: str, kind: str
) -> None:
    assert library.json(method)["error"]["code"] == 10
    assert library.json(method, id="")["error"]["code"] == 10
    for bad in ("nonsense", f"{kind}-", f"{kind}-x", f"{kind}--1", f"{kind}-99999999",
                "pl-1", f"{kind}-99999999999999999999999"):  # fmt: skip
        body = library.json(method, id=bad)
        assert body["status"] == "failed", bad
        assert body["error"]["code"] == 70, bad
    other = "so" if kind != "so" else "al"
    assert library.json(method, id=f"{other}-1")["error"]["code"] == 70


# Genres ----------------------------------------------------------------------


def test_get_genres_by_name_with_counts(library: Library) -> None:
    genres = library.ok("getGenres")["genres"]["genre"]
    assert genres == [
        {"value": "Chanson", "songCount": 2, "albumCount": 1},
        {"value": "Pop", "songCount": 3, "albumCount": 2},
        {"value": "Punk", "songCount": 2, "albumCount": 1},
        {"value": "Rock", "songCount": 3, "albumCount": 1},
    ]


def test_get_genres_xml_has_the_name_as_text(library: Library) -> None:
    genres = _xml(library, "getGenres").find(f"{NS}genres")
    assert genres is not None
    found = [(g.text, g.get("songCount"), g.get("albumCount")) for g in genres]
    assert found == [
        ("Chanson", "2", "1"),
        ("Pop", "3", "2"),
        ("Punk", "2", "1"),
        ("Rock", "3", "1"),
    ]
