"""Request and response bodies of song_service."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictInt, WithJsonSchema

from common.schemas import (
    ApiInput,
    CalendarDate,
    HttpUrlField,
    PartialUpdate,
    SongFields,
    non_blank_text,
)

Title = non_blank_text(100)
Artist = non_blank_text(100)
Genre = non_blank_text(50)
FileUrl = HttpUrlField
# Strict: `true` is not a duration (pydantic would otherwise read it as 1).
Duration = Annotated[StrictInt, Field(ge=0, le=7 * 24 * 3600, description="Seconds")]
Description = Annotated[str, Field(max_length=500)]
CoverUrl = HttpUrlField

SongSort = Literal[
    "id", "-id", "title", "-title", "artist", "-artist", "genre", "-genre",
    "created_at", "-created_at",
]  # fmt: skip
REQUIRED = ("title", "artist", "genre", "file_url")


class SongCreate(ApiInput):
    # id, created_at and updated_at are set by the server; sent values are ignored.
    title: Title
    artist: Artist
    genre: Genre
    file_url: FileUrl
    duration: Duration | None = None
    description: Description | None = None
    cover_image_url: CoverUrl | None = None
    release_date: CalendarDate | None = None


class SongUpdate(PartialUpdate):
    """A partial update: only the fields sent are changed."""

    not_nullable = REQUIRED

    title: Title | None = None
    artist: Artist | None = None
    genre: Genre | None = None
    file_url: FileUrl | None = None
    duration: Duration | None = None
    description: Description | None = None
    cover_image_url: CoverUrl | None = None
    release_date: CalendarDate | None = None


class SongOut(SongFields):
    like_count: int = 0
    liked_by_me: bool | None = Field(
        default=None, description="Whether the caller likes it; null without a token"
    )
    play_count: int = Field(default=0, description="Plays recorded by every user")
    my_play_count: int | None = Field(
        default=None, description="Plays recorded by the caller; null without a token"
    )
    last_played_at: datetime | None = Field(
        default=None, description="The caller's latest play; null without a token or play"
    )


class LikedSongOut(SongOut):
    liked_at: datetime


class LikeState(BaseModel):
    song_id: int
    liked: bool
    like_count: int


class SongDeleted(BaseModel):
    detail: Literal["Song deleted successfully"] = "Song deleted successfully"


# Playlists (API.md, Playlists) ---------------------------------------------------

PlaylistName = non_blank_text(100)
# A song id as the 64-bit identity column holds it; `true` is not an id.
PlaylistSongId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
# Entries are numbered with 32-bit integers; a larger one can name no entry.
EntryPosition = Annotated[StrictInt, Field(ge=0, le=2**31 - 1, description="0 is the first entry")]
# How many song ids one request may add (or set, with PUT).
MAX_PLAYLIST_SONG_IDS = 500


class PlaylistCreate(ApiInput):
    # id, owner, the figures and the timestamps are the server's; sent values are ignored.
    name: PlaylistName
    description: Description | None = None
    public: Annotated[bool, Field(strict=True)] = False
    song_ids: list[PlaylistSongId] = Field(
        default_factory=list,
        max_length=MAX_PLAYLIST_SONG_IDS,
        description="The first entries, in order (a song may appear more than once)",
    )


class PlaylistUpdate(PartialUpdate):
    """A partial update of the playlist's own fields: only the fields sent change."""

    not_nullable = ("name", "public")

    name: PlaylistName | None = None
    description: Description | None = None
    public: Annotated[bool, Field(strict=True)] | None = None


class PlaylistOwner(BaseModel):
    id: int
    username: str


class PlaylistOut(BaseModel):
    id: int
    name: str
    description: str | None
    public: bool
    owner: PlaylistOwner
    song_count: int = Field(description="Entries (a song there twice counts twice)")
    duration: int = Field(description="Seconds: the entries' durations, unknown ones as 0")
    cover: str | None = Field(description="cover_image_url of the first entry's song that has one")
    created_at: datetime
    updated_at: datetime = Field(description="Changes with the playlist's fields or entries")


class PlaylistEntryOut(SongOut):
    position: int = Field(description="The entry's place in the playlist, from 0")


class PlaylistSongsAdd(ApiInput):
    song_ids: list[PlaylistSongId] = Field(min_length=1, max_length=MAX_PLAYLIST_SONG_IDS)
    position: EntryPosition | None = Field(
        default=None, description="Where the first goes (0..song_count); default: at the end"
    )


class PlaylistSongsReplace(ApiInput):
    song_ids: list[PlaylistSongId] = Field(
        max_length=MAX_PLAYLIST_SONG_IDS, description="The new entries, in order; [] empties it"
    )


class PlaylistSongsRemove(ApiInput):
    positions: list[EntryPosition] = Field(
        min_length=1,
        max_length=MAX_PLAYLIST_SONG_IDS,
        description="The entries to remove, by their positions before this request, in any "
        "order; a position given twice is removed once",
    )


class PlaylistMove(ApiInput):
    source: EntryPosition = Field(alias="from", description="The entry's position now")
    target: EntryPosition = Field(alias="to", description="Its position afterwards")


# Listening history (API.md, Listening history) -----------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A client's clock may run ahead of ours: a play up to a day ahead is taken as
# given, one further ahead is a client bug (seconds sent as milliseconds, say).
MAX_PLAY_AHEAD = timedelta(days=1)
TopPeriod = Literal["week", "month", "year", "all"]


def _played_at(value: Any) -> datetime:
    """A play time from JSON: an ISO 8601 string (naive means UTC) or integer epoch
    milliseconds; between 1970 and a day from now."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("played_at is an ISO 8601 time or integer epoch milliseconds")
    latest = datetime.now(UTC) + MAX_PLAY_AHEAD
    if isinstance(value, int):
        # Bounded before converting: a huge integer would overflow the datetime.
        if not 0 <= value <= (latest - EPOCH) // timedelta(milliseconds=1):
            raise ValueError("played_at must lie between 1970 and one day from now")
        return EPOCH + timedelta(milliseconds=value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("played_at is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError as exc:  # year 1 with a positive offset, say
        raise ValueError("played_at must lie between 1970 and one day from now") from exc
    if not EPOCH <= parsed <= latest:
        raise ValueError("played_at must lie between 1970 and one day from now")
    return parsed


PlayedAt = Annotated[
    datetime,
    BeforeValidator(_played_at),
    Field(
        description="ISO 8601 (an offset, or UTC when none) or integer epoch milliseconds; "
        "from 1970 to one day ahead",
        examples=["2026-01-17T10:00:00Z", 1768644000000],
    ),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}],
            "description": "ISO 8601 (an offset, or UTC when none) or integer epoch "
            "milliseconds; from 1970 to one day ahead",
        }
    ),
]


class PlayCreate(ApiInput):
    played_at: PlayedAt | None = None


class PlayRecorded(BaseModel):
    song_id: int
    played_at: datetime
    play_count: int = Field(description="The song's plays by every user, this one included")


class PlayedSongOut(SongOut):
    played_at: datetime


class TopSongOut(SongOut):
    plays: int = Field(description="The caller's plays of the song in the period")


# Search and genres (API.md, Search and genres) -------------------------------------

SEARCH_TYPES = ("artist", "album", "song")


class ArtistHit(BaseModel):
    id: int
    name: str
    sort_name: str
    album_count: int = Field(description="Albums whose artist_id is this artist")
    song_count: int = Field(description="Songs whose artist_id is this artist")


class AlbumHit(BaseModel):
    id: int
    title: str
    artist: str
    artist_id: int | None
    genre: str
    release_date: date | None
    cover_image_url: str | None
    song_count: int = Field(description="Songs linked to the album")
    duration: int = Field(description="Seconds: the linked songs' durations, unknown ones as 0")
    created_at: datetime
    updated_at: datetime


class SearchResults(BaseModel):
    artists: list[ArtistHit] = Field(description="Ranked; empty when not asked for")
    albums: list[AlbumHit] = Field(description="Ranked; empty when not asked for")
    songs: list[SongOut] = Field(description="Ranked; empty when not asked for")


class GenreOut(BaseModel):
    name: str = Field(description="As the lowest-id song (else album) of the genre spells it")
    song_count: int
    album_count: int


# Media (API.md, Media) -----------------------------------------------------------

ScanState = Literal["queued", "running", "done", "failed"]


class ScanStart(ApiInput):
    path: str | None = Field(
        default=None,
        max_length=700,
        description="A folder under LIBRARY_DIR, relative to it; the whole library when absent",
    )


class ScanError(BaseModel):
    path: str = Field(description="The file, relative to LIBRARY_DIR")
    detail: str


class ScanOut(BaseModel):
    """A library scan: its state and what it did so far."""

    id: int
    state: ScanState
    path: str = Field(description="The folder scanned, relative to LIBRARY_DIR; empty for all")
    files_seen: int = Field(description="Audio files found so far")
    added: int
    updated: int = Field(description="Changed or moved files re-read")
    removed: int = Field(description="Songs whose files are gone")
    skipped: int = Field(description="Files unchanged since the last scan (not opened)")
    errors: list[ScanError] = Field(description="Files that could not be imported (first 200)")
    started_at: datetime | None
    finished_at: datetime | None
