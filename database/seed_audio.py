"""Real, playable audio for the demo library (`make seed`, after database.seed).

Every demo song without a file gets one: a short Ogg Vorbis tune made by
media.synth with Python packages alone (libsndfile in the soundfile wheel; no
ffmpeg on a laptop), tagged like a real release (title, artist, album, track,
genre, date) with its album's cover embedded, kept under MEDIA_DIR/demo/. Its
song then streams from this server: `file_url` becomes `/songs/{id}/stream`,
`duration` the clip's length, and a `media_files` row describes the file.

Idempotent: a song that has a media row is left alone. Files are written in
worker processes (about 0.1 s of CPU each); rows, one transaction per album.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from database import Database
from database.tables import album_songs, albums, media_files, songs
from database.types import utcnow

# The clip each demo song plays, in seconds: long enough to hear and to seek in,
# short enough that 570 of them take about a minute of CPU and 28 MB.
CLIP_SECONDS = 20.0
DEMO_FOLDER = "demo"
COVER_PIXELS = 600


@dataclass(frozen=True, slots=True)
class DemoTrack:
    song_id: int
    title: str
    artist: str
    album: str
    genre: str
    track: int
    track_total: int
    date: str | None
    path: Path  # absolute
    relative: str  # under MEDIA_DIR


def demo_tracks(
    connection: Connection, media_dir: Path, album_ids: Iterable[int] | None = None
) -> list[DemoTrack]:
    """The demo album tracks that have no media row yet, album by album."""
    from database.seed import CDN, slug

    query = (
        select(
            songs.c.id,
            songs.c.title,
            songs.c.artist,
            songs.c.genre,
            albums.c.id.label("album_id"),
            albums.c.title.label("album"),
            albums.c.release_date,
            album_songs.c.track_number,
        )
        .join(album_songs, album_songs.c.song_id == songs.c.id)
        .join(albums, albums.c.id == album_songs.c.album_id)
        .outerjoin(media_files, media_files.c.song_id == songs.c.id)
        .where(media_files.c.song_id.is_(None), songs.c.file_url.startswith(f"{CDN}/audio/"))
        .order_by(albums.c.id, album_songs.c.track_number)
    )
    if album_ids is not None:
        query = query.where(albums.c.id.in_(list(album_ids)))
    rows = connection.execute(query).all()
    totals: dict[int, int] = {}
    for row in rows:
        totals[row.album_id] = max(totals.get(row.album_id, 0), row.track_number)
    tracks = []
    for row in rows:
        relative = (
            f"{DEMO_FOLDER}/{slug(row.artist)}/{slug(row.album)}/"
            f"{row.track_number:02d}-{slug(row.title)}.ogg"
        )
        tracks.append(
            DemoTrack(
                row.id,
                row.title,
                row.artist,
                row.album,
                row.genre,
                row.track_number,
                totals[row.album_id],
                row.release_date.isoformat() if row.release_date else None,
                media_dir / relative,
                relative,
            )
        )
    return tracks


def _write(track: DemoTrack) -> tuple[int, dict[str, object]]:
    """Write one track's file (in a worker process); its media_files values."""
    from media.storage import sha256_file
    from media.synth import cover_image, write_song
    from media.tags import read_tags

    cover = cover_image(f"{track.album}\n{track.artist}", size=COVER_PIXELS,
                        seed=hash_seed(track.artist, track.album))  # fmt: skip
    write_song(
        track.path, title=track.title, artists=[track.artist], album=track.album,
        track=track.track, track_total=track.track_total, genres=[track.genre],
        date=track.date, seconds=CLIP_SECONDS, cover=cover, seed=track.song_id,
    )  # fmt: skip
    tags = read_tags(track.path, relative=track.relative)
    stat = track.path.stat()
    return track.song_id, {
        "song_id": track.song_id, "root": "media", "path": track.relative,
        "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "checksum": sha256_file(track.path),
        "content_type": tags.content_type, "suffix": tags.suffix, "bitrate": tags.bitrate,
        "sample_rate": tags.sample_rate, "channels": tags.channels,
        "duration_ms": round(tags.duration * 1000), "embedded_cover": tags.has_picture,
        "cover_path": None,
    }  # fmt: skip


def hash_seed(*parts: str) -> int:
    """A stable small number from text (Python's hash() changes per process)."""
    return sum((i + 1) * ord(ch) for i, ch in enumerate("|".join(parts))) % 10_000


def seed_audio(database: Database, media_dir: Path, album_ids: Iterable[int] | None = None) -> int:
    """Give the demo songs (of `album_ids`, or all) real audio; how many were given."""
    with database.connect() as connection:
        tracks = demo_tracks(connection, media_dir.resolve(), album_ids)
    if not tracks:
        return 0
    workers = max(1, min(4, os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:
        written = dict(pool.map(_write, tracks, chunksize=8))
    now = utcnow()
    with database.connect(write=True) as connection:
        for song_id, values in written.items():
            connection.execute(insert(media_files).values(**values, created_at=now, updated_at=now))
            connection.execute(
                update(songs)
                .where(songs.c.id == song_id)
                .values(
                    file_url=f"/songs/{song_id}/stream",
                    duration=round(int(values["duration_ms"]) / 1000),  # type: ignore[call-overload]
                    updated_at=now,
                )
            )
        connection.commit()
    return len(written)
