"""`python -m database.seed` (`make seed`): a demo catalogue a frontend developer sees at once.

Thirty-six albums by twelve artists with ten to fourteen tracks each (about four
hundred songs), with durations, genres, release dates, cover and file URLs,
linked in track order. Deterministic and idempotent: an album that is already
there (same title and artist) is left as it is, with its songs.
"""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import insert, select

from database import Database
from database.models import Album, AlbumSong, Song
from database.search import sync_terms
from database.settings import get_database_settings
from database.types import utcnow

CDN = "https://cdn.musicplayer.example"
ARTISTS = {
    "The Velvet Hours": "Indie Rock",
    "Nadia Okafor": "Soul",
    "Kilowatt Pines": "Electronic",
    "Los Hermanos Ruiz": "Latin",
    "Mara Lindqvist": "Folk",
    "Deep Harbor Trio": "Jazz",
    "Sable & Rust": "Blues",
    "Paper Satellites": "Pop",
    "Orchestra of the North": "Classical",
    "Kid Cassette": "Hip-Hop",
    "Ironbark": "Metal",
    "Yuki Tanabe": "Ambient",
}
ALBUM_WORDS = ["Midnight", "Golden", "Paper", "Electric", "Quiet", "Northern", "Wild",
               "Silver", "Hollow", "Summer", "Glass", "Velvet", "Distant", "Neon"]  # fmt: skip
ALBUM_NOUNS = ["Rivers", "Lights", "Houses", "Signals", "Gardens", "Tides", "Roads",
               "Echoes", "Machines", "Letters", "Skies", "Fires"]  # fmt: skip
SONG_WORDS = ["Love", "Ghost", "Morning", "Rain", "Heart", "City", "Dance", "Shadow",
              "Ocean", "Fever", "Home", "Stars", "Window", "Mirror", "Train", "Dream",
              "Honey", "Thunder", "Lonely", "Runaway", "Blue", "Satellite", "Wonder"]  # fmt: skip


def slug(text: str) -> str:
    return "-".join("".join(c for c in word if c.isalnum()) for word in text.lower().split())


def demo_albums(rng: random.Random) -> list[dict]:
    albums = []
    for artist, genre in ARTISTS.items():
        titles = set()
        while len(titles) < 3:
            titles.add(f"{rng.choice(ALBUM_WORDS)} {rng.choice(ALBUM_NOUNS)}")
        for title in sorted(titles):
            released = date(rng.randint(1994, 2025), rng.randint(1, 12), rng.randint(1, 28))
            tracks = []
            for number in range(1, rng.randint(10, 14) + 1):
                song_title = f"{rng.choice(SONG_WORDS)} {rng.choice(SONG_WORDS)}".title()
                tracks.append((number, song_title, rng.randint(95, 420)))
            albums.append({"title": title, "artist": artist, "genre": genre,
                           "released": released, "tracks": tracks})  # fmt: skip
    return albums


def seed(database: Database) -> tuple[int, int]:
    """Insert what is missing; returns (albums added, songs added)."""
    added_albums = added_songs = 0
    for album in demo_albums(random.Random(20260117)):  # noqa: S311 - demo data, not secrets
        with database.transaction() as session:
            exists = session.scalar(
                select(Album.id).where(
                    Album.title == album["title"], Album.artist == album["artist"]
                )
            )
            if exists is not None:
                continue
            now = utcnow()
            cover = f"{CDN}/covers/{slug(album['artist'])}/{slug(album['title'])}.jpg"
            album_id = session.execute(insert(Album).values(
                title=album["title"], artist=album["artist"], genre=album["genre"],
                description=f"{album['genre']} album by {album['artist']}, "
                            f"released {album['released']:%B %Y}.",
                cover_image_url=cover, created_at=now, updated_at=now,
            )).inserted_primary_key[0]  # fmt: skip
            sync_terms(session.connection(), "albums", album_id, album["title"], album["artist"])
            for number, title, duration in album["tracks"]:
                song_id = session.execute(insert(Song).values(
                    title=title, artist=album["artist"], genre=album["genre"],
                    file_url=f"{CDN}/audio/{slug(album['artist'])}/{slug(album['title'])}/"
                             f"{number:02d}-{slug(title)}.mp3",
                    duration=duration, cover_image_url=cover, release_date=album["released"],
                    description=f"Track {number} of {album['title']}.",
                    created_at=now, updated_at=now,
                )).inserted_primary_key[0]  # fmt: skip
                sync_terms(session.connection(), "songs", song_id, title, album["artist"])
                session.execute(
                    insert(AlbumSong).values(
                        album_id=album_id, song_id=song_id, track_number=number
                    )
                )
                added_songs += 1
            added_albums += 1
    return added_albums, added_songs


def main() -> None:
    settings = get_database_settings()
    database = Database(settings.sqlalchemy_url)
    try:
        albums, songs = seed(database)
    finally:
        database.dispose()
    if albums:
        print(f"demo catalogue: added {albums} albums and {songs} songs")
    else:
        print("demo catalogue already present: nothing added")


if __name__ == "__main__":
    main()
