"""subsonic_service's list, index and search reads on every SQL backend: the
artist index order, each getAlbumList2 type, random picks (both the sample and
the index-seek path), getSongsByGenre, getStarred2 and search3. The facade is
SQL-only (it reads the shared tables), so the memory backend is skipped; on
SQLite every statement is also compiled for SQL Server (MssqlStatementCheck).
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from database.artists import artist_id_for
from database.search import sync_terms
from database.tables import (
    album_likes,
    album_songs,
    albums,
    artist_likes,
    plays,
    songs,
    user_likes,
    users,
)
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork
from subsonic_service.services import browsing, lists
from subsonic_service.services.lists import SearchPages
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
# (album artist, album, release year, genre, song titles)
CATALOGUE = (
    ("The Beatles", "Abbey Road", 1969, "Rock", ("Come Together", "Something")),
    ("ABBA", "Arrival", 1976, "Pop", ("Dancing Queen", "Money, Money, Money")),
    ("Die Ärzte", "Geräusch", 2003, "Punk", ("Unrockbar", "Dinge von denen")),
    ("Zaz", "Zaz", 2010, "Chanson", ("Je veux",)),
    ("2Pac", "All Eyez on Me", 1996, "Hip-Hop", ("California Love",)),
    ("Édith Piaf", "La Vie en rose", 1947, "Chanson", ("La Vie en rose",)),
)
NOISE_SONGS = 40  # enough that random picks of 5 take the index-seek path


class Catalogue:
    def __init__(self, backend: Backend) -> None:
        if backend.database is None:
            pytest.skip("subsonic_service reads SQL only")
        self.database = backend.database
        self.unit = functools.partial(SqlSubsonicUnitOfWork, backend.database)
        self.album_ids: dict[str, int] = {}
        self.song_ids: dict[str, int] = {}
        self.artist_ids: dict[str, int] = {}
        with self.database.connect(write=True) as connection:
            self.user = self._user(connection, "reader")
            self.other = self._user(connection, "other")
            for minute, (artist, album, year, genre, titles) in enumerate(CATALOGUE):
                artist_id = artist_id_for(connection, artist)
                self.artist_ids[artist] = artist_id
                at = T0 + timedelta(minutes=minute)
                album_id = connection.execute(
                    insert(albums).values(
                        title=album, artist=artist, genre=genre, artist_id=artist_id,
                        release_date=date(year, 6, 1), created_at=at, updated_at=at,
                    )
                ).inserted_primary_key[0]  # fmt: skip
                sync_terms(connection, albums, album_id, album, artist)
                self.album_ids[album] = album_id
                for track, title in enumerate(titles, 1):
                    song_id = self._song(connection, title, artist, artist_id, genre, year, at)
                    connection.execute(
                        insert(album_songs).values(
                            album_id=album_id, song_id=song_id, track_number=track
                        )
                    )
            noise_artist = artist_id_for(connection, "Noise Maker")
            self.artist_ids["Noise Maker"] = noise_artist
            for number in range(NOISE_SONGS):
                self._song(connection, f"Noise {number:02d}", "Noise Maker", noise_artist,
                           "Noise", 1990, T0)  # fmt: skip
            connection.commit()

    @staticmethod
    def _user(connection: object, name: str) -> int:
        return connection.execute(  # type: ignore[attr-defined]
            insert(users).values(
                username=name, email=f"{name}@example.com", password_hash="!",
                first_name=name, role="user", created_at=T0, updated_at=T0,
            )
        ).inserted_primary_key[0]  # fmt: skip

    def _song(
        self, connection: object, title: str, artist: str, artist_id: int, genre: str,
        year: int, at: datetime,
    ) -> int:  # fmt: skip
        song_id = connection.execute(  # type: ignore[attr-defined]
            insert(songs).values(
                title=title, artist=artist, artist_id=artist_id, genre=genre,
                file_url=f"/media/{title}.ogg", duration=60, release_date=date(year, 6, 1),
                created_at=at, updated_at=at,
            )
        ).inserted_primary_key[0]  # fmt: skip
        sync_terms(connection, songs, song_id, title, artist)  # type: ignore[arg-type]
        self.song_ids[title] = song_id
        return song_id

    def album_names(self, kind: str, **options: object) -> list[str]:
        params = {"offset": 0, "size": 10, "user_id": self.user} | options
        found = lists.album_list(self.unit, kind, **params)  # type: ignore[arg-type]
        return [album["name"] for album in found["album"]]


@pytest.fixture
def catalogue(backend: Backend) -> Catalogue:
    return Catalogue(backend)


def test_artist_index_order(catalogue: Catalogue) -> None:
    found = browsing.artists(catalogue.unit, catalogue.user)
    layout = [(index["name"], [a["name"] for a in index["artist"]]) for index in found["index"]]
    assert layout == [
        ("#", ["2Pac"]),
        ("A", ["ABBA", "Die Ärzte"]),
        ("B", ["The Beatles"]),
        ("E", ["Édith Piaf"]),
        ("N", ["Noise Maker"]),
        ("Z", ["Zaz"]),
    ]
    counts = {a["name"]: a["albumCount"] for index in found["index"] for a in index["artist"]}
    assert counts["The Beatles"] == 1 and counts["Noise Maker"] == 0
    indexes = browsing.indexes(catalogue.unit, catalogue.user, None)
    # The artists were made now (artist_id_for); the newest album is T0 + 5 minutes.
    newest_album = int((T0 + timedelta(minutes=5)).timestamp() * 1000)
    assert indexes["lastModified"] >= newest_album
    unchanged = browsing.indexes(catalogue.unit, catalogue.user, indexes["lastModified"])
    assert "index" not in unchanged


def test_album_list_types(catalogue: Catalogue) -> None:
    c = catalogue
    added = ["Abbey Road", "Arrival", "Geräusch", "Zaz", "All Eyez on Me", "La Vie en rose"]
    assert c.album_names("newest") == added[::-1]
    assert c.album_names("newest", offset=2, size=2) == ["Zaz", "Geräusch"]
    assert c.album_names("alphabeticalByName") == sorted(added, key=str.casefold)
    assert c.album_names("alphabeticalByArtist", size=3) == [
        "All Eyez on Me", "Arrival", "Geräusch",  # 2pac, abba, die arzte
    ]  # fmt: skip
    assert c.album_names("byYear", years=(1960, 2000)) == [
        "Abbey Road",
        "Arrival",
        "All Eyez on Me",
    ]
    assert c.album_names("byYear", years=(2000, 1960), size=2) == ["All Eyez on Me", "Arrival"]
    assert c.album_names("byGenre", genre="chanson") == ["Zaz", "La Vie en rose"]
    assert c.album_names("starred") == []
    assert c.album_names("highest") == []
    with c.database.connect(write=True) as connection:
        connection.execute(insert(album_likes), [
            {"user_id": c.user, "album_id": c.album_ids["Zaz"], "created_at": T0},
            {"user_id": c.user, "album_id": c.album_ids["Arrival"], "created_at": T0 + DAY},
            {"user_id": c.other, "album_id": c.album_ids["Zaz"], "created_at": T0},
        ])  # fmt: skip
        connection.execute(insert(plays), [
            {"user_id": c.user, "song_id": c.song_ids["Je veux"], "played_at": T0},
            {"user_id": c.user, "song_id": c.song_ids["Unrockbar"], "played_at": T0 + timedelta(2)},
            {"user_id": c.user, "song_id": c.song_ids["Je veux"], "played_at": T0 + timedelta(1)},
            {"user_id": c.other, "song_id": c.song_ids["Something"], "played_at": T0},
        ])  # fmt: skip
        connection.commit()
    assert c.album_names("starred") == ["Arrival", "Zaz"]
    assert c.album_names("highest") == ["Zaz", "Arrival"]
    assert c.album_names("frequent") == ["Zaz", "Geräusch"]
    assert c.album_names("recent") == ["Geräusch", "Zaz"]
    assert c.album_names("recent", offset=1, size=5) == ["Zaz"]
    random_albums = c.album_names("random", size=4)
    assert len(set(random_albums)) == 4 and set(random_albums) <= set(added)


def test_random_songs_seek_path(catalogue: Catalogue) -> None:
    noise = {f"Noise {number:02d}" for number in range(NOISE_SONGS)}
    for _ in range(3):
        picked = lists.random_songs(catalogue.unit, size=5, user_id=catalogue.user, genre="noise")
        titles = [song["title"] for song in picked["song"]]
        assert 1 <= len(titles) <= 5 and len(set(titles)) == len(titles)
        assert set(titles) <= noise
    dated = lists.random_songs(
        catalogue.unit, size=3, user_id=catalogue.user, from_year=2000, to_year=2005
    )
    assert sorted(song["title"] for song in dated["song"]) == ["Dinge von denen", "Unrockbar"]
    everything = lists.random_songs(catalogue.unit, size=500, user_id=catalogue.user)
    assert len(everything["song"]) == len(catalogue.song_ids)


def test_songs_by_genre_and_starred(catalogue: Catalogue) -> None:
    c = catalogue
    page = lists.songs_by_genre(c.unit, "NOISE", offset=5, count=3, user_id=c.user)
    assert [song["title"] for song in page["song"]] == ["Noise 05", "Noise 06", "Noise 07"]
    with c.database.connect(write=True) as connection:
        connection.execute(insert(user_likes), [
            {"user_id": c.user, "song_id": c.song_ids["Je veux"], "created_at": T0},
            {"user_id": c.user, "song_id": c.song_ids["Something"], "created_at": T0 + DAY},
        ])  # fmt: skip
        connection.execute(insert(artist_likes), [
            {"user_id": c.user, "artist_id": c.artist_ids["Zaz"], "created_at": T0},
        ])  # fmt: skip
        connection.commit()
    starred = lists.starred(c.unit, c.user)
    assert [song["title"] for song in starred["song"]] == ["Something", "Je veux"]
    assert [artist["name"] for artist in starred["artist"]] == ["Zaz"]
    assert starred["album"] == []
    assert lists.starred(c.unit, c.other) == {"artist": [], "album": [], "song": []}


def test_search3(catalogue: Catalogue) -> None:
    c = catalogue

    def search(query: str, songs: tuple[int, int] = (0, 20)) -> dict[str, list[str]]:
        found = lists.search(c.unit, query, SearchPages((0, 20), (0, 20), songs), c.user)
        return {
            "artist": [a["name"] for a in found["artist"]],
            "album": [a["name"] for a in found["album"]],
            "song": [s["title"] for s in found["song"]],
        }

    assert search("arzte") == {
        "artist": ["Die Ärzte"],
        "album": ["Geräusch"],
        "song": ["Unrockbar", "Dinge von denen"],
    }
    assert search("EDITH")["artist"] == ["Édith Piaf"]
    assert search("la vie")["album"] == ["La Vie en rose"]
    everything = search('""', songs=(0, 100))
    assert len(everything["song"]) == len(c.song_ids)
    assert everything["artist"][:3] == ["2Pac", "ABBA", "Die Ärzte"]
    paged = search("", songs=(10, 5))["song"]
    assert paged == everything["song"][10:15]
