"""getAlbumList2, getRandomSongs, getSongsByGenre, getStarred2 in-process. Tests
that write (likes, plays) do it through the owning services' REST APIs as fresh
accounts, so their state shows only in their own lists."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from database.tables import album_likes
from subsonic_service.tests.conftest import TRACKS, Library

ALL_ALBUMS = ["Abbey Road", "Arrival", "Geräusch", "Zaz", "Hits"]  # in the order added


def _bearer(library: Library, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {library.token(user)}"}


def _like(library: Library, user: str, kind: str, row_id: int) -> None:
    app = library.apps["song" if kind == "songs" else "album"]
    response = app.post(f"/{kind}/{row_id}/like", headers=_bearer(library, user))
    assert response.status_code in (200, 201, 204), response.text


def _play(library: Library, user: str, title: str, at: str) -> None:
    song_id = library.song_ids[title]
    response = library.apps["song"].post(
        f"/songs/{song_id}/plays", json={"played_at": at}, headers=_bearer(library, user)
    )
    assert response.status_code == 201, response.text


def _albums(library: Library, user: str = "alice", **params: Any) -> list[str]:
    body = library.ok("getAlbumList2", user, **params)["albumList2"]
    return [album["name"] for album in body.get("album", [])]


def _songs(body: dict[str, Any], key: str) -> list[str]:
    return [song["title"] for song in body[key].get("song", [])]


# getAlbumList2 -----------------------------------------------------------------


def test_newest_is_reverse_creation_order_and_pages(library: Library) -> None:
    assert _albums(library, type="newest") == ALL_ALBUMS[::-1]
    assert _albums(library, type="newest", size=2) == ["Hits", "Zaz"]
    assert _albums(library, type="newest", size=2, offset=2) == ["Geräusch", "Arrival"]
    assert _albums(library, type="newest", size=2, offset=4) == ["Abbey Road"]
    assert _albums(library, type="newest", offset=5) == []


def test_alphabetical_lists(library: Library) -> None:
    assert _albums(library, type="alphabeticalByName") == [
        "Abbey Road", "Arrival", "Geräusch", "Hits", "Zaz",
    ]  # fmt: skip
    assert _albums(library, type="alphabeticalByName", size=2, offset=1) == ["Arrival", "Geräusch"]
    # By the album artist's folded name: abba, die arzte, the beatles, various artists, zaz.
    assert _albums(library, type="alphabeticalByArtist") == [
        "Arrival", "Geräusch", "Abbey Road", "Hits", "Zaz",
    ]  # fmt: skip


def test_size_defaults_to_ten_and_is_capped(library: Library) -> None:
    assert len(_albums(library, type="alphabeticalByName")) == 5
    assert len(_albums(library, type="alphabeticalByName", size=100000)) == 5
    assert _albums(library, type="alphabeticalByName", size=0) == []
    assert library.json("getAlbumList2", type="newest", size=-1)["error"]["code"] == 0
    assert library.json("getAlbumList2", type="newest", offset="x")["error"]["code"] == 0


def test_by_year_either_direction(library: Library) -> None:
    assert _albums(library, type="byYear", fromYear=1960, toYear=1980) == ["Abbey Road", "Arrival"]
    assert _albums(library, type="byYear", fromYear=1980, toYear=1960) == ["Arrival", "Abbey Road"]
    assert _albums(library, type="byYear", fromYear=2000, toYear=2010) == [
        "Hits", "Geräusch", "Zaz",
    ]  # fmt: skip
    assert _albums(library, type="byYear", fromYear=2010, toYear=2000, size=1, offset=1) == [
        "Geräusch"
    ]
    assert _albums(library, type="byYear", fromYear=1976, toYear=1976) == ["Arrival"]
    assert _albums(library, type="byYear", fromYear=1900, toYear=1950) == []


def test_by_genre_folds_the_name(library: Library) -> None:
    assert _albums(library, type="byGenre", genre="Pop") == ["Arrival", "Hits"]
    assert _albums(library, type="byGenre", genre="pop") == ["Arrival", "Hits"]
    assert _albums(library, type="byGenre", genre="Pop", offset=1) == ["Hits"]
    assert _albums(library, type="byGenre", genre="Polka") == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, 10),
        ({"type": ""}, 10),
        ({"type": "bogus"}, 0),
        ({"type": "byYear"}, 10),
        ({"type": "byYear", "fromYear": 1990}, 10),
        ({"type": "byYear", "toYear": 1990}, 10),
        ({"type": "byYear", "fromYear": "soon", "toYear": 1990}, 0),
        ({"type": "byGenre"}, 10),
        ({"type": "newest", "musicFolderId": 7}, 70),
    ],
)
def test_album_list_errors(library: Library, params: dict[str, Any], code: int) -> None:
    body = library.json("getAlbumList2", **params)
    assert body["status"] == "failed"
    assert body["error"]["code"] == code


def test_starred_albums_newest_like_first(library: Library) -> None:
    user = library.new_user()
    assert _albums(library, user, type="starred") == []
    for title in ("Zaz", "Abbey Road", "Geräusch"):
        _like(library, user, "albums", library.album_ids[title])
    assert _albums(library, user, type="starred") == ["Geräusch", "Abbey Road", "Zaz"]
    assert _albums(library, user, type="starred", size=1, offset=1) == ["Abbey Road"]
    starred = library.ok("getAlbumList2", user, type="starred")["albumList2"]["album"]
    assert all(album["starred"].endswith("Z") for album in starred)


def test_highest_is_most_liked(library: Library) -> None:
    fans = [library.new_user() for _ in range(3)]
    for fan in fans:
        _like(library, fan, "albums", library.album_ids["Geräusch"])
    _like(library, fans[0], "albums", library.album_ids["Zaz"])
    listed = _albums(library, type="highest", size=500)
    # Every account's likes count (other tests like too): compare with the table.
    with library.database.connect() as connection:
        counts = dict(
            connection.execute(
                select(album_likes.c.album_id, func.count()).group_by(album_likes.c.album_id)
            ).all()
        )
    by_name = {name: counts.get(album_id, 0) for name, album_id in library.album_ids.items()}
    assert set(listed) == {name for name, count in by_name.items() if count}
    assert [by_name[name] for name in listed] == sorted(
        (by_name[name] for name in listed), reverse=True
    )
    assert by_name["Geräusch"] >= 3


def test_frequent_and_recent_are_the_callers_plays(library: Library) -> None:
    user = library.new_user()
    assert _albums(library, user, type="frequent") == []
    assert _albums(library, user, type="recent") == []
    _play(library, user, "Something", "2026-02-01T10:00:00Z")
    _play(library, user, "Come Together", "2026-02-01T10:05:00Z")
    _play(library, user, "Dancing Queen", "2026-02-01T11:00:00Z")
    _play(library, user, "Je veux", "2026-02-01T09:00:00Z")
    _play(library, user, "Je veux", "2026-02-01T09:30:00Z")
    _play(library, user, "Je veux", "2026-02-01T09:45:00Z")
    # Zaz 3 plays, Abbey Road 2, Arrival 1.
    assert _albums(library, user, type="frequent") == ["Zaz", "Abbey Road", "Arrival"]
    assert _albums(library, user, type="frequent", size=1, offset=1) == ["Abbey Road"]
    # Last played: Arrival 11:00, Abbey Road 10:05, Zaz 09:45.
    assert _albums(library, user, type="recent") == ["Arrival", "Abbey Road", "Zaz"]
    # Another account's lists are its own.
    assert _albums(library, library.new_user(), type="recent") == []


def test_random_albums_are_distinct_and_real(library: Library) -> None:
    everything = _albums(library, type="random", size=50)
    assert sorted(everything) == sorted(ALL_ALBUMS)
    three = _albums(library, type="random", size=3)
    assert len(three) == 3 and len(set(three)) == 3 and set(three) <= set(ALL_ALBUMS)
    draws = {tuple(_albums(library, type="random")) for _ in range(12)}
    assert len(draws) > 1  # 5! orders: twelve equal draws would be a fixed order


# getRandomSongs ------------------------------------------------------------------


def test_random_songs_filters(library: Library) -> None:
    every = _songs(library.ok("getRandomSongs", size=500), "randomSongs")
    assert sorted(every) == sorted(track.title for track in TRACKS)
    assert len(_songs(library.ok("getRandomSongs"), "randomSongs")) == 10
    assert len(_songs(library.ok("getRandomSongs", size=3), "randomSongs")) == 3
    pop = _songs(library.ok("getRandomSongs", genre="pop", size=10), "randomSongs")
    assert sorted(pop) == ["Dancing Queen", "Money, Money, Money", "Waterloo"]
    years = _songs(library.ok("getRandomSongs", fromYear=2000, toYear=2005), "randomSongs")
    assert sorted(years) == ["Dinge von denen", "Les passants", "Unrockbar", "Waterloo"]
    since = _songs(library.ok("getRandomSongs", fromYear=2004), "randomSongs")
    assert since == ["Je veux"]
    until = _songs(library.ok("getRandomSongs", toYear=1970), "randomSongs")
    assert sorted(until) == ["Come Together", "Her Majesty", "Something"]
    both = library.ok("getRandomSongs", genre="Chanson", toYear=2005, musicFolderId=1)
    assert _songs(both, "randomSongs") == ["Les passants"]
    assert library.json("getRandomSongs", musicFolderId=3)["error"]["code"] == 70
    assert library.json("getRandomSongs", fromYear="last year")["error"]["code"] == 0


def test_random_songs_with_a_filter_are_drawn_evenly(library: Library) -> None:
    """A filter leaves gaps of songs that do not match (here Je veux, of 2010, just
    before Waterloo): every matching song is as likely as any other, and a draw is
    never short."""
    params = {"jwt": library.token(), "f": "json", "size": 1, "fromYear": 1969, "toYear": 2003}
    draws = [
        [song["title"] for song in library.client.get("/rest/getRandomSongs", params=params)
         .json()["subsonic-response"]["randomSongs"]["song"]]
        for _ in range(600)
    ]  # fmt: skip
    assert all(len(draw) == 1 for draw in draws)
    counts = Counter(draw[0] for draw in draws)
    assert set(counts) == {track.title for track in TRACKS} - {"Je veux"}
    # 600 / 9 = 67 each (sd 7.7). Probing random ids would give Waterloo, which
    # follows the gap, twice the others' chance (about 120).
    assert counts["Waterloo"] < 100
    assert min(counts.values()) > 30


# getSongsByGenre ----------------------------------------------------------------


def test_songs_by_genre_pages_in_the_order_added(library: Library) -> None:
    body = library.ok("getSongsByGenre", genre="Pop")
    assert _songs(body, "songsByGenre") == ["Dancing Queen", "Money, Money, Money", "Waterloo"]
    paged = library.ok("getSongsByGenre", genre="POP", count=1, offset=1)
    assert _songs(paged, "songsByGenre") == ["Money, Money, Money"]
    assert _songs(library.ok("getSongsByGenre", genre="Pop", offset=3), "songsByGenre") == []
    assert _songs(library.ok("getSongsByGenre", genre="Polka"), "songsByGenre") == []
    assert library.json("getSongsByGenre")["error"]["code"] == 10
    assert library.json("getSongsByGenre", genre="Pop", count="many")["error"]["code"] == 0


# getStarred2 ----------------------------------------------------------------------


def test_starred2_lists_the_callers_likes_newest_first(library: Library) -> None:
    user = library.new_user()
    empty = library.ok("getStarred2", user)["starred2"]
    assert empty == {"artist": [], "album": [], "song": []}
    # Higher ids liked first: newest-first must not be id order.
    for title in ("Je veux", "Something", "Come Together"):
        _like(library, user, "songs", library.song_ids[title])
    _like(library, user, "albums", library.album_ids["Arrival"])
    _like(library, user, "artists", library.artist_ids["Zaz"])
    _like(library, user, "artists", library.artist_ids["ABBA"])
    starred = library.ok("getStarred2", user)["starred2"]
    assert [song["title"] for song in starred["song"]] == ["Come Together", "Something", "Je veux"]
    assert [album["name"] for album in starred["album"]] == ["Arrival"]
    assert [artist["name"] for artist in starred["artist"]] == ["ABBA", "Zaz"]
    assert all(item["starred"] for kind in starred.values() for item in kind)
    assert starred["song"][0]["id"] == f"so-{library.song_ids['Come Together']}"
    assert starred["artist"][0]["albumCount"] == 1
    # Nobody else sees them.
    other = library.ok("getStarred2", library.new_user())["starred2"]
    assert other == {"artist": [], "album": [], "song": []}
