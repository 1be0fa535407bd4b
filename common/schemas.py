"""API types every service shares: the error body, path ids, documented error responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict

# Ids are 64-bit identity columns; anything outside is refused with 422, never a 500.
MAX_ID = 2**63 - 1
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="Numeric id")]


class ApiModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


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
