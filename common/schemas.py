"""API types every service shares: the error body, path ids, documented error responses."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

# Ids are 64-bit identity columns; anything outside is refused with 422, never a 500.
MAX_ID = 2**63 - 1
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="Numeric id")]


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


class ApiModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


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
