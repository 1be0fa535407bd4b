"""Request and response bodies of album_service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from common.schemas import (
    ApiInput,
    ApiModel,
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


class AlbumUpdate(PartialUpdate):
    """A partial update: only the fields sent are changed."""

    not_nullable = ("title", "artist", "genre")

    title: Title | None = None
    artist: Artist | None = None
    genre: Genre | None = None
    description: Description | None = None
    cover_image_url: CoverImageUrl | None = None


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


class TrackOut(SongFields):
    """A song on an album: the song's fields plus its place on the album."""

    track_number: int


class LinkBody(ApiInput):
    track_number: TrackNumber | None = Field(
        default=None, description="Place on the album; a new link without one goes last"
    )


class LinkOut(ApiModel):
    album_id: int
    song_id: int
    track_number: int


class AlbumDeleted(BaseModel):
    detail: Literal["Album deleted successfully"] = "Album deleted successfully"
