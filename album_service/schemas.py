"""Request and response bodies of album_service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from common.schemas import (
    ApiInput,
    ApiModel,
    CalendarDate,
    HttpUrlField,
    PartialUpdate,
    SongFields,
    non_blank_text,
)

Title = non_blank_text(100)
Artist = non_blank_text(100)
Genre = non_blank_text(50)
Description = Annotated[str, Field(max_length=500)]
CoverImageUrl = HttpUrlField
# Strict: `true` is not a track number (pydantic would otherwise read it as 1).
TrackNumber = Annotated[StrictInt, Field(ge=1, le=10_000)]
DiscNumber = Annotated[StrictInt, Field(ge=1, le=999)]

# The allow-list of `sort` values; an unknown one is a 422 before any query runs.
AlbumSort = Literal[
    "id",
    "-id",
    "title",
    "-title",
    "artist",
    "-artist",
    "genre",
    "-genre",
    "created_at",
    "-created_at",
]


class AlbumCreate(ApiInput):
    # id, created_at and updated_at are set by the server; a client's are ignored.
    title: Title
    artist: Artist
    genre: Genre
    description: Description | None = None
    cover_image_url: CoverImageUrl | None = None
    release_date: CalendarDate | None = None


class AlbumUpdate(PartialUpdate):
    """A partial update: only the fields sent are changed."""

    not_nullable = ("title", "artist", "genre")

    title: Title | None = None
    artist: Artist | None = None
    genre: Genre | None = None
    description: Description | None = None
    cover_image_url: CoverImageUrl | None = None
    release_date: CalendarDate | None = None


class AlbumOut(ApiModel):
    id: int
    title: str
    artist: str
    artist_id: int | None = Field(description="The artist's id (GET /artists/{id})")
    genre: str
    description: str | None
    cover_image_url: str | None
    release_date: date | None
    created_at: datetime
    updated_at: datetime
    song_count: int = Field(default=0, description="Songs linked to the album")
    duration: int = Field(
        default=0,
        description="Sum of the linked songs' durations in seconds (unknown ones count 0)",
    )
    like_count: int = 0
    liked_by_me: bool | None = Field(
        default=None, description="Whether the caller likes it; null without a token"
    )


class LikedAlbumOut(AlbumOut):
    liked_at: datetime


class AlbumLikeState(BaseModel):
    album_id: int
    liked: bool
    like_count: int


class TrackOut(SongFields):
    """A song on an album: the song's fields plus its place on the album."""

    disc_number: int
    track_number: int


class LinkBody(ApiInput):
    track_number: TrackNumber | None = Field(
        default=None,
        description="Place on its disc; a new link without one goes after the disc's last track",
    )
    disc_number: DiscNumber | None = Field(
        default=None, description="Disc of the album; a new link without one is on disc 1"
    )


class LinkOut(ApiModel):
    album_id: int
    song_id: int
    disc_number: int
    track_number: int


class AlbumDeleted(BaseModel):
    detail: Literal["Album deleted successfully"] = "Album deleted successfully"


# Artists ---------------------------------------------------------------------

ArtistName = non_blank_text(100)

ArtistSort = Literal["id", "-id", "name", "-name", "created_at", "-created_at"]


class ArtistCreate(ApiInput):
    # id, created_at and updated_at are set by the server; a client's are ignored.
    name: ArtistName
    sort_name: ArtistName | None = Field(
        default=None, description='How the name sorts ("Beatles, The"); the name when absent'
    )


class ArtistUpdate(PartialUpdate):
    """A partial update: only the fields sent are changed. `sort_name: null` makes
    the sort name the name again."""

    not_nullable = ("name",)

    name: ArtistName | None = None
    sort_name: ArtistName | None = None


class ArtistOut(ApiModel):
    id: int
    name: str
    sort_name: str
    album_count: int = Field(description="Albums whose artist_id is this artist")
    song_count: int = Field(description="Songs whose artist_id is this artist")
    like_count: int
    liked_by_me: bool | None = Field(
        default=None, description="Whether the caller likes the artist; null without a token"
    )
    cover: str | None = Field(
        description="cover_image_url of the artist's newest album that has one (newest "
        "release first, undated last, then newest id), else null"
    )
    created_at: datetime
    updated_at: datetime


class LikedArtistOut(ArtistOut):
    liked_at: datetime


class ArtistLikeState(BaseModel):
    artist_id: int
    liked: bool
    like_count: int


class ArtistSongOut(SongFields):
    """A song of the artist: the song's own fields."""


class ArtistDeleted(BaseModel):
    detail: Literal["Artist deleted"] = "Artist deleted"
