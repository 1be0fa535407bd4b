"""Bulk-loading the bench catalogue with SQLAlchemy Core (as scripts/bench_catalogue.py
does): N songs and M albums, every song on one album, linked in track order."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from sqlalchemy import create_engine, func, insert, select

from database.backfill import backfill_text
from database.models import Album, AlbumSong, Song
from database.types import utcnow

GENRES = ["Rock", "Pop", "Jazz", "Blues", "Soul", "Folk", "Metal", "Ambient",
          "Latin", "Hip-Hop", "Classical", "Electronic"]  # fmt: skip
WORDS = ["Ghost", "Morning", "Rain", "Heart", "City", "Dance", "Shadow", "Ocean", "Fever",
         "Home", "Stars", "Window", "Mirror", "Train", "Dream", "Honey", "Thunder", "Lonely",
         "Runaway", "Blue", "Satellite", "Wonder", "Love"]  # fmt: skip
CHUNK = 10_000
CDN = "https://cdn.musicplayer.example"


@dataclass(frozen=True)
class Catalogue:
    first_song: int
    last_song: int
    first_album: int
    last_album: int
    seconds: float


def load(url: str, songs: int, albums: int) -> Catalogue:
    """Insert the catalogue in one transaction; ids are read back, never assumed."""
    rng = random.Random(songs)  # noqa: S311 - benchmark data
    now = utcnow()
    per_album = math.ceil(songs / albums)
    started = time.perf_counter()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            album_rows = []
            for number in range(albums):
                genre = GENRES[number % len(GENRES)]
                album_rows.append({
                    "title": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {number}",
                    "artist": f"Artist {number % 1000}", "genre": genre,
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
                     "track_number": i % per_album + 1}
                    for i in range(first, min(first + CHUNK, songs))
                ]  # fmt: skip
                connection.execute(insert(AlbumSong), links)
            linked = connection.scalar(select(func.count()).select_from(AlbumSong))
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
    )
