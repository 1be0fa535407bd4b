"""API types every service shares: the error body, path ids, documented error responses."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Self
from urllib.parse import urlsplit

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# Ids are 64-bit identity columns; anything outside is refused with 422, never a 500.
MAX_ID = 2**63 - 1


def _digits_only(value: object) -> object:
    """A path number is written in ASCII digits. Python's int() (and pydantic's lax
    mode) would also read `1_0` as 10, `+1`, ` 1` and `1.0` as 1: a delete of
    `/playlists/5/songs/1_0` must not remove position 10."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number written in digits")
    return value


PathNumber = BeforeValidator(_digits_only)
ResourceId = Annotated[int, PathNumber, Path(ge=1, le=MAX_ID, description="Numeric id")]


def _iso_date_only(value: object) -> object:
    """A date is `YYYY-MM-DD` in JSON: pydantic's lax mode would also read a Unix
    timestamp (`0`, `"1577836800"`, `1577836800.0`) or a midnight datetime."""
    if isinstance(value, date):
        return value
    if not (isinstance(value, str) and len(value) == 10 and value[4] == value[7] == "-"):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# A calendar date (songs' and albums' release dates), years kept to four digits
# so every database stores it.
CalendarDate = Annotated[
    date,
    BeforeValidator(_iso_date_only),
    Field(ge=date(1, 1, 1), le=date(9999, 12, 31), description="YYYY-MM-DD"),
]


# Text parameters (query and path) refuse NUL: PostgreSQL cannot store it and
# no name, title or email needs it, so every database sees the same input.
NO_NUL = r"^[^\x00]*$"


# The catalogue's filters, shared by album_service and song_service.
SearchFilter = Annotated[
    str | None,
    Query(max_length=100, pattern=NO_NUL, description="Title or artist contains (any case)"),
]
GenreFilter = Annotated[str | None, Query(max_length=50, pattern=NO_NUL, description="Exact genre")]
ArtistFilter = Annotated[
    str | None, Query(max_length=100, pattern=NO_NUL, description="Exact artist")
]


# Body field types shared by the services. Each rule is checked in Python and
# also written into the OpenAPI document (as a `pattern`), so clients and the
# schema fuzzer see it.


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def non_blank_text(max_length: int) -> Any:
    """A text of 1 to `max_length` characters that is not only whitespace (kept as sent)."""
    return Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_length),
        Field(json_schema_extra={"pattern": r"\S"}),
        AfterValidator(_not_blank),
    ]


_URL_SCHEMES = frozenset({"http", "https"})
# Characters no URL may carry: whitespace, controls and invisible format
# characters (a right-to-left override turns "gnp.exe" into "exe.png").
_NOT_IN_URLS = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# The same rule for the OpenAPI document: an http(s) URL with a host, or a path on
# this origin ("/music/a.mp3" but not "//host", which browsers take as a host).
URL_PATTERN = r"^(?:[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#\\@]+|/(?![/\\]))[^\s\\]*$"


def _http_url(value: str) -> str:
    if "\\" in value or any(unicodedata.category(char) in _NOT_IN_URLS for char in value):
        raise ValueError("URL must not contain spaces, control characters or backslashes")
    if value.startswith("/") and not value.startswith("//"):
        return value  # a path on the server that serves it: http(s) by construction
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as exc:
        raise ValueError("not a valid URL") from exc
    if parts.scheme.lower() not in _URL_SCHEMES or not parts.hostname:
        raise ValueError("URL must be http(s)://host/... or a path starting with /")
    if "@" in parts.netloc:  # "https://trusted.example@evil.example/" goes to evil.example
        raise ValueError("URL must not carry a user name or password")
    return value


# `file_url`, `cover_image_url`: API.md, Media: "URL fields accept http/https only".
# Stored as sent (no normalisation), so what a client posts is what it reads back.
HttpUrlField = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255),
    Field(
        json_schema_extra={"pattern": URL_PATTERN},
        description="An http(s) URL, or a path on this server starting with /",
    ),
    AfterValidator(_http_url),
]


class ApiModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MediaInfo(BaseModel):
    """A song's local audio file (API.md, Media)."""

    content_type: str = Field(description="MIME type, e.g. audio/ogg")
    suffix: str = Field(description="The file's format: mp3, flac, ogg, opus, m4a or wav")
    size: int = Field(description="Bytes")
    bitrate: int | None = Field(description="kbps")
    sample_rate: int | None = Field(description="Hz")
    channels: int | None
    duration: float | None = Field(description="Seconds, to the millisecond")


class SongFields(ApiModel):
    """A song's own fields, as song_service's songs and album_service's tracks
    both show them: one definition, so a new song field is one edit."""

    id: int
    title: str
    artist: str
    artist_id: int | None = Field(description="The artist's id (GET /artists/{id})")
    genre: str
    file_url: str
    duration: int | None = Field(description="Seconds")
    description: str | None
    cover_image_url: str | None
    release_date: date | None
    created_at: datetime
    updated_at: datetime
    media: MediaInfo | None = Field(
        default=None,
        description="The local audio file; null when the song has none (file_url is then "
        "an http(s) URL GET /songs/{id}/stream redirects to)",
    )


class ApiInput(BaseModel):
    """Base of every request body: fields the client may not set (id, role,
    timestamps...) are ignored, and no string may carry a NUL character."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters are not accepted")
        return value


class Detail(BaseModel):
    detail: str


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid or expired token",
    403: "Valid token, but not allowed",
    404: "Not found",
    409: "Conflict with existing data",
    413: "Request body too large",
    415: "Unsupported media type (not an audio file)",
    416: "Range not satisfiable",
    429: "Too many attempts; see Retry-After",
    503: "Database unavailable",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return."""
    return {code: {"model": Detail, "description": _DESCRIPTIONS[code]} for code in codes}


class PartialUpdate(ApiInput):
    """A PUT/PATCH body: only the fields sent change. Sending null for a column
    that cannot be empty is a 422, not a silent no-op."""

    not_nullable: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_null_for_required_columns(self) -> Self:
        for field in self.not_nullable:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self
