"""Request and response bodies of song_service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from common.schemas import ApiInput, HttpUrlField, PartialUpdate, SongFields, non_blank_text

Title = non_blank_text(100)
Artist = non_blank_text(100)
Genre = non_blank_text(50)
FileUrl = HttpUrlField
# Strict: `true` is not a duration (pydantic would otherwise read it as 1).
Duration = Annotated[StrictInt, Field(ge=0, le=7 * 24 * 3600, description="Seconds")]
Description = Annotated[str, Field(max_length=500)]
CoverUrl = HttpUrlField
# A year is kept to four digits so every database stores it.
ReleaseDate = Annotated[date, Field(ge=date(1, 1, 1), le=date(9999, 12, 31))]

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
    release_date: ReleaseDate | None = None


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
    release_date: ReleaseDate | None = None


class SongOut(SongFields):
    like_count: int = 0
    liked_by_me: bool | None = Field(
        default=None, description="Whether the caller likes it; null without a token"
    )


class LikedSongOut(SongOut):
    liked_at: datetime


class LikeState(BaseModel):
    song_id: int
    liked: bool
    like_count: int


class SongDeleted(BaseModel):
    detail: Literal["Song deleted successfully"] = "Song deleted successfully"
