"""HTTP for the search across artists, albums and songs, and the genre list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from common.auth import OptionalUser
from common.db import in_database
from common.errors import InvalidInputError
from common.paging import MAX_LIMIT, MAX_OFFSET, PageParams, page_params
from common.responses import page_response
from common.schemas import NO_NUL, error_responses
from song_service.dependencies import search_service
from song_service.schemas import SEARCH_TYPES, GenreOut, SearchResults

router = APIRouter(tags=["search"], responses=error_responses(503))
Paging = Annotated[PageParams, Depends(page_params)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows of this type to skip")]
DEFAULT_SEARCH_LIMIT = 20


def parse_types(types: str | None) -> frozenset[str]:
    """`types` as a set of SEARCH_TYPES (absent or empty: all of them); any other
    name is a 422 in FastAPI's list form."""
    if types is None or not types.strip():
        return frozenset(SEARCH_TYPES)
    asked = frozenset(name.strip() for name in types.split(","))
    if unknown := asked - set(SEARCH_TYPES):
        names = ", ".join(sorted(unknown))
        raise InvalidInputError(
            ("query", "types"), f"Unknown type(s) {names}: use {', '.join(SEARCH_TYPES)}"
        )
    return asked


@router.get(
    "/search",
    response_model=SearchResults,
    responses=error_responses(401),
    summary="Search artists, albums and songs at once",
)
async def search(
    request: Request,
    caller: OptionalUser,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=NO_NUL,
            description="Words; each must start a word of the name or title (or artist), "
            "any case or accent. Empty or absent: everything, by name/title",
        ),
    ] = None,
    types: Annotated[
        str | None,
        Query(max_length=100, description="Comma list of artist, album, song (default: all)"),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Results per type")
    ] = DEFAULT_SEARCH_LIMIT,
    artist_offset: Offset = 0,
    album_offset: Offset = 0,
    song_offset: Offset = 0,
) -> SearchResults:
    """`{"artists": [...], "albums": [...], "songs": [...]}`, each list ranked as
    every search is (API.md, Text): exact title (or artist name) first, then title
    prefix, then other word matches; up to `limit` per type, from that type's
    offset. A type not in `types` comes back as an empty list; an unknown type is
    a 422. Artists: `{id, name, sort_name, album_count, song_count}`; albums: the
    album's fields with `song_count` and `duration` (seconds); songs: as GET
    /songs, with the caller's like and play state when a token is sent. Each list
    pages by its own offset (no Link header: the next page of each type is its
    offset plus `limit`)."""
    asked = parse_types(types)
    offsets = {"artist": artist_offset, "album": album_offset, "song": song_offset}
    service = search_service(request)
    return await in_database(
        request,
        lambda: service.search(q or "", types=asked, limit=limit, offsets=offsets, caller=caller),
    )


@router.get(
    "/genres",
    response_model=list[GenreOut],
    responses=error_responses(401),
    summary="Genres of songs and albums",
)
async def genres(request: Request, page: Paging, _: OptionalUser) -> Response:
    """A token is optional, but a bad one is a 401, as on every list.

    `[{"name", "song_count", "album_count"}]`: one entry per genre as search and
    the `genre` filter compare it (case and accents folded), in that folded order.
    `name` is the genre as the lowest-id song of it spells it, else the lowest-id
    album. Paged by `limit` (default 50, max 200) and `offset`, with an opaque
    cursor in `Link: rel="next"`."""
    service = search_service(request)
    # Counting reads every song and album of the page's genres: a scan.
    result = await in_database(request, lambda: service.genres(page), scan=True)
    return page_response(request, result, GenreOut)
