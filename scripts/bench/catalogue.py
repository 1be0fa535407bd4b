"""Bulk-loading the bench catalogue with SQLAlchemy Core, on any database: N songs
and M albums, every song on one album, linked in track order on disc 1, each
album and song pointing at its artist row; then a few public playlists of
PLAYLIST_ENTRIES songs owned by an account of their own, and, when asked, a
listening history (plays) of a few listeners."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, create_engine, func, insert, select

from database.artists import artist_fields
from database.backfill import backfill_artists, backfill_text
from database.models import Album, AlbumSong, Song
from database.tables import artists, playlist_songs, playlists, plays, users
from database.types import utcnow

GENRES = ["Rock", "Pop", "Jazz", "Blues", "Soul", "Folk", "Metal", "Ambient",
          "Latin", "Hip-Hop", "Classical", "Electronic"]  # fmt: skip
WORDS = ["Ghost", "Morning", "Rain", "Heart", "City", "Dance", "Shadow", "Ocean", "Fever",
         "Home", "Stars", "Window", "Mirror", "Train", "Dream", "Honey", "Thunder", "Lonely",
         "Runaway", "Blue", "Satellite", "Wonder", "Love"]  # fmt: skip
CHUNK = 10_000
CDN = "https://cdn.musicplayer.example"
PLAYLISTS = 10
PLAYLIST_ENTRIES = 100
# The accounts the loader makes (they own the playlists and the plays; nobody logs
# in as them) get ids far above those of the accounts the bench signs up, and
# of the ones tests insert by hand (tests/bench/test_reference.py: 1 and 2).
FIRST_LOADED_USER = 1_000_000_000
LISTENERS = 10
HISTORY_DAYS = 365


@dataclass(frozen=True)
class Catalogue:
    first_song: int
    last_song: int
    first_album: int
    last_album: int
    seconds: float
    first_playlist: int = 0
    last_playlist: int = 0
    first_artist: int = 0
    last_artist: int = 0


def load(url: str, songs: int, albums: int, *, plays_count: int = 0) -> Catalogue:
    """Insert the catalogue in one transaction; ids are read back, never assumed.
    `plays_count`: plays spread over LISTENERS accounts and the last year."""
    rng = random.Random(songs)  # noqa: S311 - benchmark data
    now = utcnow()
    per_album = math.ceil(songs / albums)
    started = time.perf_counter()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            names = sorted({f"Artist {number % 1000}" for number in range(albums)})
            connection.execute(
                insert(artists),
                [artist_fields(name) | {"created_at": now, "updated_at": now} for name in names],
            )
            artist_ids = dict(
                connection.execute(
                    select(artists.c.name, artists.c.id).order_by(artists.c.id)
                ).all()
            )
            # Their folded keys are set above; their search terms here.
            backfill_artists(connection)
            album_rows = []
            for number in range(albums):
                genre = GENRES[number % len(GENRES)]
                album_rows.append({
                    "title": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {number}",
                    "artist": f"Artist {number % 1000}", "genre": genre,
                    "artist_id": artist_ids[f"Artist {number % 1000}"],
                    "release_date": now.date() - timedelta(days=number % 9000),
                    "cover_image_url": f"{CDN}/covers/{number}.jpg",
                    "created_at": now, "updated_at": now,
                })  # fmt: skip
            for first in range(0, albums, CHUNK):
                connection.execute(insert(Album), album_rows[first : first + CHUNK])
            # A fresh database: ascending ids are insertion order on every backend.
            album_ids = connection.scalars(select(Album.id).order_by(Album.id)).all()

            for first in range(0, songs, CHUNK):
                rows = []
                for i in range(first, min(first + CHUNK, songs)):
                    album = album_rows[i // per_album]
                    rows.append({
                        "title": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
                        "artist": album["artist"], "genre": album["genre"],
                        "artist_id": album["artist_id"], "release_date": album["release_date"],
                        "file_url": f"{CDN}/audio/{i}.mp3", "duration": rng.randint(90, 420),
                        "cover_image_url": album["cover_image_url"],
                        "created_at": now, "updated_at": now,
                    })  # fmt: skip
                connection.execute(insert(Song), rows)
            song_ids = connection.scalars(select(Song.id).order_by(Song.id)).all()
            # The folded keys came from the column defaults; the search terms too.
            backfill_text(connection)

            for first in range(0, songs, CHUNK):
                links = [
                    {"album_id": album_ids[i // per_album], "song_id": song_ids[i],
                     "disc_number": 1, "track_number": i % per_album + 1}
                    for i in range(first, min(first + CHUNK, songs))
                ]  # fmt: skip
                connection.execute(insert(AlbumSong), links)
            linked = connection.scalar(select(func.count()).select_from(AlbumSong))
            playlist_ids = add_playlists(connection, rng, song_ids)
            add_plays(connection, rng, song_ids, plays_count)
        if linked != songs:
            raise RuntimeError(f"linked {linked} songs, expected {songs}")
    finally:
        engine.dispose()
    return Catalogue(
        first_song=song_ids[0],
        last_song=song_ids[-1],
        first_album=album_ids[0],
        last_album=album_ids[-1],
        seconds=time.perf_counter() - started,
        first_playlist=playlist_ids[0],
        last_playlist=playlist_ids[-1],
        first_artist=min(artist_ids.values()),
        last_artist=max(artist_ids.values()),
    )


def add_users(connection: Connection, first_id: int, count: int, name: str) -> list[int]:
    """`count` accounts nobody can log in as (no password hash), from id `first_id`."""
    now = utcnow()
    ids = list(range(first_id, first_id + count))
    connection.execute(
        insert(users),
        [{"id": user_id, "username": f"{name}{user_id}", "email": f"{name}{user_id}@bench.example",
          "password_hash": "!", "first_name": name.title(), "role": "user",
          "created_at": now, "updated_at": now} for user_id in ids],
    )  # fmt: skip
    return ids


def add_playlists(connection: Connection, rng: random.Random, song_ids: list[int]) -> list[int]:
    """PLAYLISTS public playlists of PLAYLIST_ENTRIES random songs (positions 0..n-1),
    owned by one loaded account; their ids."""
    (owner,) = add_users(connection, FIRST_LOADED_USER, 1, "curator")
    now = utcnow()
    connection.execute(
        insert(playlists),
        [{"owner_id": owner, "name": f"Bench mix {number}", "public": True,
          "description": "Random songs for the bench.", "created_at": now, "updated_at": now}
         for number in range(PLAYLISTS)],
    )  # fmt: skip
    ids = list(
        connection.scalars(
            select(playlists.c.id).where(playlists.c.owner_id == owner).order_by(playlists.c.id)
        )
    )
    connection.execute(
        insert(playlist_songs),
        [{"playlist_id": playlist_id, "position": position,
          "song_id": rng.choice(song_ids), "added_at": now}
         for playlist_id in ids for position in range(PLAYLIST_ENTRIES)],
    )  # fmt: skip
    return ids


def add_plays(connection: Connection, rng: random.Random, song_ids: list[int], count: int) -> None:
    """`count` plays of random songs by LISTENERS loaded accounts over the last
    HISTORY_DAYS, each (listener, played_at) once."""
    if count <= 0:
        return
    listeners = add_users(connection, FIRST_LOADED_USER + 1, LISTENERS, "listener")
    now = utcnow().replace(microsecond=0)
    seconds = HISTORY_DAYS * 86_400
    per_listener = -(-count // len(listeners))
    rows = [
        {"user_id": user_id, "played_at": now - timedelta(seconds=ago),
         "song_id": rng.choice(song_ids)}
        for user_id in listeners
        for ago in rng.sample(range(seconds), min(per_listener, seconds))
    ][:count]  # fmt: skip
    for first in range(0, len(rows), CHUNK):
        connection.execute(insert(plays), rows[first : first + CHUNK])
