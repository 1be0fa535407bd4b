"""Request and response bodies of song_service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from common.schemas import ApiInput, ApiModel, PartialUpdate

Title = Annotated[str, Field(min_length=1, max_length=100)]
Artist = Annotated[str, Field(min_length=1, max_length=100)]
Genre = Annotated[str, Field(min_length=1, max_length=50)]
FileUrl = Annotated[str, Field(min_length=1, max_length=255)]
Duration = Annotated[int, Field(ge=0, le=7 * 24 * 3600, description="Seconds")]
Description = Annotated[str, Field(max_length=500)]
CoverUrl = Annotated[str, Field(max_length=255)]
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


class SongOut(ApiModel):
    id: int
    title: str
    artist: str
    genre: str
    file_url: str
    duration: int | None
    description: str | None
    cover_image_url: str | None
    release_date: date | None
    created_at: datetime
    updated_at: datetime
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
