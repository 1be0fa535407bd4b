"""An imported file's album: the one place a media import (upload or library
scan, song_service) finds or creates an album and links a track to it.

Albums and their tracks are album_service's rows (README, ownership), but a file
imported with a new album must be linked in the same transaction as its song, as
with artists (database.artists). Insert-only: nothing here changes or deletes an
album, and an album is found by (artist, folded title), so a second file of the
album joins the first file's album.

Serialised per album artist: `artist_id_for` leaves the artist's row locked, so
two imports of the same new album take turns and make one album, not two.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, bindparam, func, insert, select

from database.memory import MemoryDatabase
from database.search import sync_terms
from database.tables import album_songs, albums, folded_key
from database.unit_of_work import locked
from database.writes import insert_stamped

FIND = locked(
    select(albums.c.id)
    .where(
        albums.c.artist_id == bindparam("artist_id"),
        albums.c.title_key == bindparam("title_key"),
    )
    .order_by(albums.c.id)
    .limit(1),
    albums,
)
LAST_TRACK = select(func.max(album_songs.c.track_number)).where(
    album_songs.c.album_id == bindparam("album_id"),
    album_songs.c.disc_number == bindparam("disc_number"),
)
TRACK_TAKEN = select(album_songs.c.song_id).where(
    album_songs.c.album_id == bindparam("album_id"),
    album_songs.c.disc_number == bindparam("disc_number"),
    album_songs.c.track_number == bindparam("track_number"),
)


def album_id_for(
    connection: Connection,
    *,
    title: str,
    artist: str,
    artist_id: int,
    genre: str,
    release_date: date | None,
) -> int:
    """The id of `artist_id`'s album titled `title` (folded), inserted with its
    search terms when there is none. The caller holds the artist's row lock
    (database.artists.artist_id_for); the album's row stays locked until the unit
    ends, so its track numbers can be chosen safely (link_track)."""
    key = {"artist_id": artist_id, "title_key": folded_key("title", title)}
    found = connection.scalar(FIND, key)
    if found is not None:
        return int(found)
    values = {"title": title, "artist": artist, "artist_id": artist_id, "genre": genre,
              "release_date": release_date}  # fmt: skip
    album_id = insert_stamped(connection, albums, values)
    sync_terms(connection, albums, album_id, title, artist)
    return int(album_id)


def link_track(
    connection: Connection, *, album_id: int, song_id: int, disc: int, track: int | None
) -> int:
    """Add `song_id` to the album at (disc, track); a missing or already taken
    track number becomes the disc's next one. The track number used."""
    where = {"album_id": album_id, "disc_number": disc}
    if track is None or connection.scalar(TRACK_TAKEN, where | {"track_number": track}):
        track = (connection.scalar(LAST_TRACK, where) or 0) + 1
    connection.execute(
        insert(album_songs).values(
            album_id=album_id, song_id=song_id, disc_number=disc, track_number=track
        )
    )
    return track


def memory_album_id_for(
    db: MemoryDatabase,
    *,
    title: str,
    artist: str,
    artist_id: int,
    genre: str,
    release_date: date | None,
) -> int:
    """`album_id_for` over the in-memory store."""
    with db.lock:
        key = folded_key("title", title)
        for album in sorted(db.albums.values(), key=lambda row: row["id"]):
            if album["artist_id"] == artist_id and folded_key("title", album["title"]) == key:
                return int(album["id"])
        values = {"title": title, "artist": artist, "artist_id": artist_id, "genre": genre,
                  "release_date": release_date}  # fmt: skip
        values |= {"description": None, "cover_image_url": None}
        return int(db.insert("albums", values)["id"])


def memory_link_track(
    db: MemoryDatabase, *, album_id: int, song_id: int, disc: int, track: int | None
) -> int:
    """`link_track` over the in-memory store."""
    with db.lock:
        used = {
            row["track_number"]
            for (album, _), row in db.album_songs.items()
            if album == album_id and row["disc_number"] == disc
        }
        if track is None or track in used:
            track = max(used, default=0) + 1
        db.album_songs[(album_id, song_id)] = {
            "album_id": album_id, "song_id": song_id, "disc_number": disc, "track_number": track
        }  # fmt: skip
        return track
