"""The whole library at scale, for `make bench-catalogue`, bulk-loaded into a fresh
SQLite file: users, artists, albums, songs (linked to their album on disc 1, in
track order), playlists with their entries, and the listening history, with
every folded key and search term the repositories would have written.

Sizes follow the song count (`LibrarySize.scaled`): at 1,000,000 songs there are
100,000 artists, 100,000 albums, 10,000 playlists of 10 to 100 entries,
10,000,000 plays by 10,000 users over the last two years; at 1,000 songs, a
thousandth of each. The rows the bench measures have the same shape at every
size, so the ratio of two sizes shows what the table size costs and nothing else:

- every artist has one album of ten songs; every fourth artist's name has the
  word "Love" (first or second), and every fourth album's title starts with it,
  so a search for "love" fills a page of each type even at a thousand songs;
- playlist 1 has exactly 100 entries and belongs to user 1 (HEAVY_USER), who
  has HEAVY_PLAYS plays of a pool of HEAVY_POOL songs over the two years.

Fast because it is SQLite's own bulk path: plain tuples through the sqlite3
driver's executemany in large batches inside one transaction, journal and fsync
off for the load, rows in primary key order, and the secondary indexes (exactly
as the migrations created them) dropped before and created again after, which
sorts each once instead of updating it a row at a time.
"""

from __future__ import annotations

import math
import random
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from database.search import search_terms
from database.tables import folded_key, words_key

GENRES = ["Rock", "Pop", "Jazz", "Blues", "Soul", "Folk", "Metal", "Ambient",
          "Latin", "Hip-Hop", "Classical", "Electronic"]  # fmt: skip
WORDS = ["Ghost", "Morning", "Rain", "Heart", "City", "Dance", "Shadow", "Ocean", "Fever",
         "Home", "Stars", "Window", "Mirror", "Train", "Dream", "Honey", "Thunder", "Lonely",
         "Runaway", "Blue", "Satellite", "Wonder", "Love"]  # fmt: skip
# Artist names, some with accents, so their keys and terms are really folded.
ARTIST_WORDS = ["Velvet", "Zoë", "Ärzte", "Beyoncé", "Kilowatt", "Sable", "Iron", "Paper",
                "Deep", "Northern", "Привет", "Señor"]  # fmt: skip
ARTIST_NOUNS = ["Hours", "Pines", "Harbor", "Satellites", "Cassette", "Rust", "Trio",
                "Orchestra", "Collective", "Brothers"]  # fmt: skip
SEARCH_WORD = "Love"
CDN = "https://cdn.musicplayer.example"
SONGS_PER_ALBUM = 10
MEASURED_PLAYLIST = 1
MEASURED_PLAYLIST_ENTRIES = 100
HEAVY_USER = 1
HEAVY_PLAYS = 5_000
HEAVY_POOL = 500
HISTORY_SECONDS = 2 * 365 * 86_400
BATCH = 100_000
# How SQLAlchemy's SQLite DateTime stores a value (the services compare these strings).
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class LibrarySize:
    songs: int
    artists: int
    albums: int
    playlists: int
    plays: int
    users: int

    @classmethod
    def scaled(cls, songs: int) -> LibrarySize:
        """The issue's proportions: per million songs, 100,000 artists and albums,
        10,000 playlists and users, 10,000,000 plays."""
        return cls(
            songs=songs,
            artists=max(songs // 10, 1),
            albums=max(songs // SONGS_PER_ALBUM, 1),
            playlists=max(songs // 100, 1),
            plays=songs * 10,
            users=max(songs // 100, 2),
        )


@dataclass(frozen=True)
class Library:
    """What was loaded, and what the measured requests need."""

    size: LibrarySize
    seconds: float
    measured_artist: int
    measured_playlist: int
    heavy_user: int
    heavy_user_plays: int


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(DATETIME_FORMAT)


class _Stamps:
    """Timestamps `seconds` before `now` as stored text, fast: 10,000,000 of them
    would spend most of the load in datetime.strftime."""

    def __init__(self, now: datetime) -> None:
        self.epoch = int(now.timestamp())
        self._days: dict[int, str] = {}
        self._clock = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(86_400)
        ]

    def before(self, seconds: int) -> str:
        at = self.epoch - seconds
        day, second = divmod(at, 86_400)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d ")
        return text + self._clock[second]


def _insert(
    cursor: sqlite3.Cursor, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """executemany in batches of BATCH tuples; how many rows."""
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - fixed names
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    done = 0
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            cursor.executemany(statement, batch)
            done += len(batch)
            batch = []
    if batch:
        cursor.executemany(statement, batch)
        done += len(batch)
    return done


BULK_TABLES = ("users", "artists", "artist_terms", "albums", "album_terms", "songs",
               "song_terms", "album_songs", "playlists", "playlist_songs", "plays")  # fmt: skip


def _drop_indexes(cursor: sqlite3.Cursor) -> list[str]:
    """Drop the explicit secondary indexes of the loaded tables; their CREATE
    statements, exactly as the migrations wrote them, to run after the load."""
    marks = ", ".join("?" * len(BULK_TABLES))
    found = cursor.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
        f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
        BULK_TABLES,
    ).fetchall()
    for name, _ in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


def load_library(path: str, size: LibrarySize, seed: int | None = None) -> Library:
    """Fill the migrated, empty SQLite database at `path` (see the module doc)."""
    rng = random.Random(size.songs if seed is None else seed)  # noqa: S311 - bench data
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    created = _stamp(now)
    connection = sqlite3.connect(path, isolation_level=None)
    cursor = connection.cursor()
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF",
                   "locking_mode=EXCLUSIVE", "temp_store=MEMORY",
                   "cache_size=-2000000"):  # fmt: skip
        cursor.execute(f"PRAGMA {pragma}")
    try:
        cursor.execute("BEGIN")
        indexes = _drop_indexes(cursor)

        _insert(cursor, "users",
                ("id", "username", "email", "password_hash", "first_name", "role",
                 "session_version", "created_at", "updated_at"),
                ((u, f"listener{u}", f"listener{u}@bench.example", "!", "Listener", "user", 0,
                  created, created) for u in range(1, size.users + 1)))  # fmt: skip

        artist_names = []
        for number in range(size.artists):
            first, second = rng.choice(ARTIST_WORDS), rng.choice(ARTIST_NOUNS)
            # "Love" starts one name in eight and is the second word of another: a
            # search for it has both title-prefix and word matches among artists,
            # as among songs and albums.
            if number % 8 == 0:
                first = SEARCH_WORD
            elif number % 8 == 4:
                second = SEARCH_WORD
            artist_names.append(f"{first} {second} {number}")
        _insert(cursor, "artists",
                ("id", "name", "sort_name", "name_key", "sort_name_key", "created_at",
                 "updated_at"),
                ((i + 1, name, name, folded_key("name", name), folded_key("sort_name", name),
                  created, created) for i, name in enumerate(artist_names)))  # fmt: skip
        _insert(cursor, "artist_terms", ("term", "artist_id"),
                sorted((term, i + 1) for i, name in enumerate(artist_names)
                       for term in search_terms(name, "")))  # fmt: skip
        artist_terms: dict[str, list[str]] = {}

        album_rows = []
        for number in range(size.albums):
            artist = number % size.artists
            first = SEARCH_WORD if number % 4 == 0 else rng.choice(WORDS)
            released = date(2000, 1, 1) + timedelta(days=rng.randrange(9000))
            album_rows.append((number + 1, f"{first} {rng.choice(WORDS)} {number}",
                               artist_names[artist], GENRES[number % len(GENRES)], artist + 1,
                               released.isoformat()))  # fmt: skip
        folded_genres = {genre: folded_key("genre", genre) for genre in GENRES}
        folded_artists: dict[str, str] = {}

        def artist_key(name: str) -> str:
            key = folded_artists.get(name)
            if key is None:
                key = folded_artists[name] = folded_key("artist", name)
            return key

        def artist_words(name: str) -> set[str]:
            words = artist_terms.get(name)
            if words is None:
                words = artist_terms[name] = search_terms("", name)
            return set(words)

        _insert(cursor, "albums",
                ("id", "title", "artist", "genre", "description", "cover_image_url",
                 "release_date", "artist_id", "title_key", "artist_key", "genre_key",
                 "created_at", "updated_at"),
                ((a, title, artist, genre, None, f"{CDN}/covers/{a}.jpg", released, artist_id,
                  folded_key("title", title), artist_key(artist), folded_genres[genre],
                  created, created)
                 for a, title, artist, genre, artist_id, released in album_rows))  # fmt: skip
        _insert(cursor, "album_terms", ("term", "album_id"),
                sorted((term, a) for a, title, artist, *_ in album_rows
                       for term in {*search_terms(title, ""), *artist_words(artist)}))  # fmt: skip

        per_album = math.ceil(size.songs / size.albums)

        def song_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(size.songs):
                a, _, artist, genre, artist_id, released = album_rows[i // per_album]
                title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}"
                yield (i + 1, title, artist, genre, f"{CDN}/audio/{i}.mp3",
                       rng.randint(90, 420), f"{CDN}/covers/{a}.jpg", released, artist_id,
                       folded_key("title", title), artist_key(artist), folded_genres[genre],
                       created, created)  # fmt: skip

        song_titles: list[str] = []

        def remembered(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
            for row in rows:
                song_titles.append(row[1])
                yield row

        _insert(cursor, "songs",
                ("id", "title", "artist", "genre", "file_url", "duration", "cover_image_url",
                 "release_date", "artist_id", "title_key", "artist_key", "genre_key",
                 "created_at", "updated_at"),
                remembered(song_rows()))  # fmt: skip
        # The terms in primary key order (term, song): the b-tree is then appended to.
        postings: list[tuple[str, int]] = []
        for i, title in enumerate(song_titles):
            artist = album_rows[i // per_album][2]
            for term in set(search_terms(title, "")) | artist_words(artist):
                postings.append((term, i + 1))
        postings.sort()
        _insert(cursor, "song_terms", ("term", "song_id"), postings)
        # Freed before the plays: a million titles and several million postings.
        postings.clear()
        song_titles.clear()
        _insert(cursor, "album_songs", ("album_id", "song_id", "disc_number", "track_number"),
                ((i // per_album + 1, i + 1, 1, i % per_album + 1)
                 for i in range(size.songs)))  # fmt: skip

        entries: list[tuple[int, int, int, str]] = []
        playlist_rows = []
        for p in range(1, size.playlists + 1):
            owner = HEAVY_USER if p == MEASURED_PLAYLIST else rng.randrange(size.users) + 1
            public = p == MEASURED_PLAYLIST or p % 2 == 0
            name = f"Playlist {p}"
            playlist_rows.append((p, owner, name, words_key("name", name), None, int(public),
                                  created, created))  # fmt: skip
            count = MEASURED_PLAYLIST_ENTRIES if p == MEASURED_PLAYLIST else rng.randint(10, 100)
            entries.extend((p, position, rng.randrange(size.songs) + 1, created)
                           for position in range(count))  # fmt: skip
        _insert(cursor, "playlists",
                ("id", "owner_id", "name", "name_key", "description", "public", "created_at",
                 "updated_at"), playlist_rows)  # fmt: skip
        _insert(cursor, "playlist_songs", ("playlist_id", "position", "song_id", "added_at"),
                entries)  # fmt: skip
        del entries

        stamps = _Stamps(now)
        heavy = min(HEAVY_PLAYS, size.plays // 2)
        others = size.users - 1
        per_user, extra = divmod(size.plays - heavy, others) if others else (0, 0)
        pool = rng.sample(range(1, size.songs + 1), min(HEAVY_POOL, size.songs))

        def play_rows() -> Iterator[tuple[int, str, int]]:
            for user in range(1, size.users + 1):
                if user == HEAVY_USER:
                    count, choose = heavy, (lambda: rng.choice(pool))
                else:
                    count = per_user + (1 if user - 2 < extra else 0)
                    choose = lambda: rng.randrange(size.songs) + 1  # noqa: E731
                # Newest first in `ago` is oldest first in played_at: key order.
                for ago in sorted(rng.sample(range(HISTORY_SECONDS), count), reverse=True):
                    yield (user, stamps.before(ago), choose())

        _insert(cursor, "plays", ("user_id", "played_at", "song_id"), play_rows())
        for statement in indexes:
            cursor.execute(statement)
        cursor.execute("COMMIT")
    finally:
        cursor.execute("PRAGMA locking_mode=NORMAL")
        # The services expect WAL (database.engine); the next connection sees it.
        cursor.execute("PRAGMA journal_mode=WAL")
        connection.close()
    return Library(
        size=size,
        seconds=time.perf_counter() - started,
        measured_artist=size.artists // 2 + 1,
        measured_playlist=MEASURED_PLAYLIST,
        heavy_user=HEAVY_USER,
        heavy_user_plays=heavy,
    )
