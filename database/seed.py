"""`python -m database.seed` (`make seed`): a demo library a frontend developer sees at once.

- Forty-eight albums by sixteen artists (some with accents: Beyoncé, Die Ärzte,
  Zoë Lefèvre, Ансамбль Привет, so folding shows in `/search`) with ten to
  fourteen tracks each (about 570 songs), with durations, genres, release dates,
  cover and file URLs, linked in track order on disc 1. Every album and song
  points at its artist row (`artist_id`).
- Four public playlists owned by the demo owner, entries at positions 0..n-1
  (one has a song twice: duplicates are allowed).
- Real audio for every demo song (database.seed_audio): a 20-second tagged Ogg
  Vorbis tune with its album's cover embedded, under MEDIA_DIR/demo/, so the
  songs play (GET /songs/{id}/stream, the player page).
- Four hundred plays by the demo owner spread over the last six months, with
  favourites, so `/songs/played` and `/songs/top?period=…` show something for
  every period; and a few of the owner's likes of songs, albums and artists
  (`/songs/liked`, `/albums/liked`, `/artists/liked`, like counts).

The demo owner is the account of ADMIN_EMAIL (created by `make run` / `make
admin`), else the first admin, else a `demo` account that cannot log in.

Deterministic and idempotent: an album that is already there (same title and
artist) is left as it is, with its songs (only a missing release date or artist
link is filled in); an artist, or a playlist of the owner with the same name, is not added
twice; the history (the likes of a kind) only while the owner has no plays (no
likes of that kind) at all.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, NamedTuple

from pydantic_settings import SettingsConfigDict
from sqlalchemy import Connection, func, insert, select, update

from database import Database
from database.artists import FIND, artist_fields
from database.search import sync_terms
from database.settings import DatabaseSettings
from database.tables import (
    album_likes,
    album_songs,
    albums,
    artist_likes,
    artists,
    folded_key,
    playlist_songs,
    playlists,
    plays,
    songs,
    user_likes,
    users,
    words_key,
)
from database.text import canonical_email, fold
from database.types import utcnow

CDN = "https://cdn.musicplayer.example"
# Artist → genre. New artists go at the end: the albums of the earlier ones then
# come out of the random sequence exactly as before, so a database seeded by an
# older version gains only the new albums.
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
    "Beyoncé": "R&B",
    "Die Ärzte": "Punk",
    "Zoë Lefèvre": "Chanson",
    "Ансамбль Привет": "Folk",
}
ALBUM_WORDS = ["Midnight", "Golden", "Paper", "Electric", "Quiet", "Northern", "Wild",
               "Silver", "Hollow", "Summer", "Glass", "Velvet", "Distant", "Neon"]  # fmt: skip
ALBUM_NOUNS = ["Rivers", "Lights", "Houses", "Signals", "Gardens", "Tides", "Roads",
               "Echoes", "Machines", "Letters", "Skies", "Fires"]  # fmt: skip
SONG_WORDS = ["Love", "Ghost", "Morning", "Rain", "Heart", "City", "Dance", "Shadow",
              "Ocean", "Fever", "Home", "Stars", "Window", "Mirror", "Train", "Dream",
              "Honey", "Thunder", "Lonely", "Runaway", "Blue", "Satellite", "Wonder"]  # fmt: skip
# name → (description, genres its songs come from, entries); every playlist is public.
PLAYLISTS = {
    "Late Night Jazz & Soul": ("Slow and warm, for after ten.", {"Jazz", "Soul", "Blues"}, 18),
    "Café Focus": ("Quiet music to work to.", {"Ambient", "Classical", "Folk", "Chanson"}, 15),
    "Weekend Warm-Up": ("Before going out.", {"Pop", "Electronic", "Hip-Hop", "Latin", "R&B"}, 25),
    "Loud & Fast": ("Guitars first.", {"Metal", "Punk", "Indie Rock"}, 20),
}
# The playlist whose first song comes back at its end: entries may repeat a song.
REPEATS_FIRST = "Loud & Fast"
HISTORY_PLAYS = 400
LIKED_SONGS, LIKED_ALBUMS, LIKED_ARTISTS = 12, 5, 4
HISTORY_DAYS = 180
DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@musicplayer.example"
# No hash at all: the demo account exists to own the demo playlists, and nobody
# can log in as it (common.passwords treats a value without the bcrypt prefix as
# "no password").
NO_PASSWORD = "!"  # noqa: S105 - not a password, the absence of one


class Seeded(NamedTuple):
    """What one run added."""

    albums: int
    songs: int
    artists: int
    playlists: int
    plays: int
    likes: int


class SeedSettings(DatabaseSettings):
    """The database, and the admin whose account owns the demo playlists."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    admin_email: str | None = None


def slug(text: str) -> str:
    """A URL path segment: folded (so "Beyoncé" is "beyonce"), words joined by "-"."""
    words = ("".join(c for c in word if c.isalnum()) for word in fold(text).split())
    return "-".join(word for word in words if word)


def sort_name(name: str) -> str:
    """How an artist sorts: "The Velvet Hours" under V ("Velvet Hours, The")."""
    return f"{name[4:]}, The" if name.startswith("The ") else name


def demo_albums(rng: random.Random) -> list[dict[str, Any]]:
    result = []
    for artist, genre in ARTISTS.items():
        titles: set[str] = set()
        while len(titles) < 3:
            titles.add(f"{rng.choice(ALBUM_WORDS)} {rng.choice(ALBUM_NOUNS)}")
        for title in sorted(titles):
            released = date(rng.randint(1994, 2025), rng.randint(1, 12), rng.randint(1, 28))
            tracks = []
            for number in range(1, rng.randint(10, 14) + 1):
                song_title = f"{rng.choice(SONG_WORDS)} {rng.choice(SONG_WORDS)}".title()
                tracks.append((number, song_title, rng.randint(95, 420)))
            result.append({"title": title, "artist": artist, "genre": genre,
                           "released": released, "tracks": tracks})  # fmt: skip
    return result


def ensure_artist(connection: Connection, name: str) -> tuple[int, bool]:
    """The artist called `name` (under folding), inserted with its sort name and
    search terms when missing; (id, whether it was added)."""
    found = connection.scalar(FIND, {"name_key": folded_key("name", name)})
    if found is not None:
        return int(found), False
    now = utcnow()
    artist_id = connection.execute(
        insert(artists).values(**artist_fields(name, sort_name(name)), created_at=now,
                               updated_at=now)
    ).inserted_primary_key[0]  # fmt: skip
    sync_terms(connection, artists, artist_id, name, "")
    return int(artist_id), True


def add_album(connection: Connection, album: dict[str, Any], artist_id: int) -> int:
    """Insert one album with its songs and track links; how many songs."""
    now = utcnow()
    cover = f"{CDN}/covers/{slug(album['artist'])}/{slug(album['title'])}.jpg"
    album_id = connection.execute(insert(albums).values(
        title=album["title"], artist=album["artist"], genre=album["genre"],
        artist_id=artist_id, release_date=album["released"],
        description=f"{album['genre']} album by {album['artist']}, "
                    f"released {album['released']:%B %Y}.",
        cover_image_url=cover, created_at=now, updated_at=now,
    )).inserted_primary_key[0]  # fmt: skip
    sync_terms(connection, albums, album_id, album["title"], album["artist"])
    for number, title, duration in album["tracks"]:
        song_id = connection.execute(insert(songs).values(
            title=title, artist=album["artist"], genre=album["genre"], artist_id=artist_id,
            file_url=f"{CDN}/audio/{slug(album['artist'])}/{slug(album['title'])}/"
                     f"{number:02d}-{slug(title)}.mp3",
            duration=duration, cover_image_url=cover, release_date=album["released"],
            description=f"Track {number} of {album['title']}.",
            created_at=now, updated_at=now,
        )).inserted_primary_key[0]  # fmt: skip
        sync_terms(connection, songs, song_id, title, album["artist"])
        connection.execute(
            insert(album_songs).values(
                album_id=album_id, song_id=song_id, disc_number=1, track_number=number
            )
        )
    return len(album["tracks"])


def seed_catalogue(database: Database) -> tuple[int, int, int]:
    """Artists, albums and songs; (albums, songs, artists) added. One transaction
    per album, as a half-finished run leaves whole albums only."""
    added_albums = added_songs = added_artists = 0
    linked: set[str] = set()
    for album in demo_albums(random.Random(20260117)):  # noqa: S311 - demo data, not secrets
        with database.connect(write=True) as connection:
            artist_id, new_artist = ensure_artist(connection, album["artist"])
            added_artists += new_artist
            if album["artist"] not in linked:
                # Rows an older seed wrote without an artist: linked, not added.
                linked.add(album["artist"])
                for table in (albums, songs):
                    connection.execute(
                        update(table)
                        .where(
                            table.c.artist_id.is_(None),
                            table.c.artist_key == folded_key("artist", album["artist"]),
                        )
                        .values(artist_id=artist_id)
                    )
            existing = connection.execute(
                select(albums.c.id, albums.c.release_date).where(
                    albums.c.title == album["title"], albums.c.artist == album["artist"]
                )
            ).first()
            if existing is None:
                added_songs += add_album(connection, album, artist_id)
                added_albums += 1
            elif existing.release_date is None:
                # Seeded before albums had release dates: not a new row, a gap filled.
                connection.execute(
                    update(albums)
                    .where(albums.c.id == existing.id)
                    .values(release_date=album["released"])
                )
            connection.commit()
    return added_albums, added_songs, added_artists


def demo_owner(connection: Connection, admin_email: str | None) -> int:
    """The account that owns the demo playlists and history (see the module doc)."""
    if admin_email:
        found = connection.scalar(
            select(users.c.id).where(users.c.email == canonical_email(admin_email))
        )
        if found is not None:
            return int(found)
    found = connection.scalar(
        select(users.c.id).where(users.c.role == "admin").order_by(users.c.id).limit(1)
    )
    if found is None:
        found = connection.scalar(select(users.c.id).where(users.c.email == DEMO_EMAIL))
    if found is not None:
        return int(found)
    now = utcnow()
    return int(
        connection.execute(
            insert(users).values(
                username=DEMO_USERNAME, email=DEMO_EMAIL, password_hash=NO_PASSWORD,
                first_name="Demo", role="user", created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]
    )  # fmt: skip


def seed_library(connection: Connection, owner_id: int, rng: random.Random) -> tuple[int, int]:
    """The owner's demo playlists and listening history; (playlists, plays) added."""
    catalogue = connection.execute(
        select(songs.c.id, songs.c.genre)
        .where(songs.c.file_url.startswith(f"{CDN}/audio/"))
        .order_by(songs.c.id)
    ).all()
    if not catalogue:
        return 0, 0
    now = utcnow().replace(microsecond=0)
    added_playlists = 0
    for name, (description, genres, size) in PLAYLISTS.items():
        exists = connection.scalar(
            select(playlists.c.id).where(
                playlists.c.owner_id == owner_id,
                playlists.c.name_key == words_key("name", name),
            )
        )
        if exists is not None:
            continue
        pool = [row.id for row in catalogue if row.genre in genres] or [r.id for r in catalogue]
        entries = rng.sample(pool, min(size, len(pool)))
        if name == REPEATS_FIRST:
            entries.append(entries[0])
        playlist_id = connection.execute(
            insert(playlists).values(
                owner_id=owner_id, name=name, description=description, public=True,
                created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
        connection.execute(
            insert(playlist_songs),
            [
                {"playlist_id": playlist_id, "position": position, "song_id": song_id,
                 "added_at": now}
                for position, song_id in enumerate(entries)
            ],
        )  # fmt: skip
        added_playlists += 1

    added_plays = 0
    has_history = connection.scalar(
        select(func.count()).select_from(plays).where(plays.c.user_id == owner_id)
    )
    if not has_history:
        ids = [row.id for row in catalogue]
        favourites = rng.sample(ids, min(12, len(ids)))
        history = set()
        while len(history) < HISTORY_PLAYS:
            # Two plays in three are of a favourite: the top list then has a clear order.
            song_id = rng.choice(favourites) if rng.random() < 2 / 3 else rng.choice(ids)
            # More plays lately: squaring puts half of them within the last 45 days.
            ago = timedelta(seconds=int(rng.random() ** 2 * HISTORY_DAYS * 86_400))
            history.add((now - ago, song_id))
        connection.execute(
            insert(plays),
            [{"user_id": owner_id, "played_at": at, "song_id": song_id}
             for at, song_id in sorted(history)],
        )  # fmt: skip
        added_plays = len(history)
    return added_playlists, added_plays


def seed_likes(connection: Connection, owner_id: int, rng: random.Random) -> int:
    """A few likes of the owner's on demo songs, albums and artists, so the liked
    lists and like counts show something; a kind the owner has any likes of is
    left alone. How many likes were added."""
    added = 0
    now = utcnow().replace(microsecond=0)
    for likes, table, column, count in (
        (user_likes, songs, "song_id", LIKED_SONGS),
        (album_likes, albums, "album_id", LIKED_ALBUMS),
        (artist_likes, artists, "artist_id", LIKED_ARTISTS),
    ):
        if connection.scalar(
            select(func.count()).select_from(likes).where(likes.c.user_id == owner_id)
        ):
            continue
        demo = select(table.c.id).order_by(table.c.id)
        if table is not artists:
            demo = demo.where(table.c.cover_image_url.startswith(f"{CDN}/"))
        ids = list(connection.scalars(demo))
        chosen = rng.sample(ids, min(count, len(ids)))
        if not chosen:
            continue
        # One like a minute, the first an hour ago: "newest like first" has an order.
        connection.execute(
            insert(likes),
            [{"user_id": owner_id, column: row_id,
              "created_at": now - timedelta(minutes=60 - number)}
             for number, row_id in enumerate(chosen)],
        )  # fmt: skip
        added += len(chosen)
    return added


def seed(database: Database, admin_email: str | None = None) -> Seeded:
    """Insert what is missing; returns what was added. `admin_email`: the account
    that owns the playlists and the history, when it exists."""
    added_albums, added_songs, added_artists = seed_catalogue(database)
    with database.connect(write=True) as connection:
        owner_id = demo_owner(connection, admin_email)
        rng = random.Random(20260118)  # noqa: S311 - demo data, not secrets
        added_playlists, added_plays = seed_library(connection, owner_id, rng)
        added_likes = seed_likes(connection, owner_id, rng)
        connection.commit()
    return Seeded(
        added_albums, added_songs, added_artists, added_playlists, added_plays, added_likes
    )


def main() -> None:
    from common.settings import get_settings
    from database.seed_audio import seed_audio

    settings = SeedSettings()
    media_dir = get_settings().media_dir
    database = Database(settings.sqlalchemy_url)
    try:
        added = seed(database, settings.admin_email)
        if media_dir is not None:
            print(f"writing the demo songs' audio under {media_dir} ...", flush=True)
            audio = seed_audio(database, media_dir)
    finally:
        database.dispose()
    if any(added):
        print(
            f"demo library: added {added.albums} albums, {added.songs} songs, "
            f"{added.artists} artists, {added.playlists} public playlists, "
            f"{added.plays} plays and {added.likes} likes"
        )
    else:
        print("demo library already present: nothing added")
    print(f"demo audio: {audio} songs given a playable file" if audio else "demo audio: all there")


if __name__ == "__main__":
    main()
