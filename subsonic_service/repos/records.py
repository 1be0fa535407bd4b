"""What the facade reads from the shared catalogue, as plain records (never ORM
objects): one per Subsonic object kind, each carrying the caller's own state
(starred, play count) beside the row's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from database.media import MediaFile


@dataclass(frozen=True, slots=True)
class SongRecord:
    """A song with its album (the lowest-id album listing it), its file and the
    caller's like and plays."""

    id: int
    title: str
    artist: str
    artist_id: int | None
    genre: str
    duration: int | None  # seconds
    release_date: date | None
    created_at: datetime
    cover_image_url: str | None
    album_id: int | None
    album: str | None
    track: int | None
    disc: int | None
    media: MediaFile | None = None
    starred_at: datetime | None = None
    play_count: int = 0  # the caller's plays of the song
    played_at: datetime | None = None  # the caller's last play


@dataclass(frozen=True, slots=True)
class AlbumRecord:
    id: int
    title: str
    artist: str
    artist_id: int | None
    genre: str
    release_date: date | None
    created_at: datetime
    song_count: int = 0
    duration: int = 0  # seconds: the sum of its songs' durations, unknown ones as 0
    starred_at: datetime | None = None
    play_count: int = 0  # the caller's plays of its songs
    played_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ArtistRecord:
    id: int
    name: str
    sort_name: str
    album_count: int = 0
    starred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GenreRecord:
    """A genre as getGenres lists it: songs and albums with that folded genre."""

    name: str  # the spelling of the lowest-id song (else album) with the genre
    song_count: int
    album_count: int
