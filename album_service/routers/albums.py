"""HTTP for albums: translate requests to AlbumService calls, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from album_service.dependencies import album_service
from album_service.schemas import (
    AlbumCreate,
    AlbumDeleted,
    AlbumLikeState,
    AlbumOut,
    AlbumSort,
    AlbumUpdate,
    LikedAlbumOut,
)
from common.auth import AdminUser, AppUser, CurrentUser, OptionalUser
from common.db import in_database
from common.paging import PageParams, page_params
from common.responses import model_response, page_response
from common.schemas import ArtistFilter, GenreFilter, ResourceId, SearchFilter, error_responses

public = APIRouter(prefix="/albums", tags=["albums"])
# Every protected route names its caller (CurrentUser or AdminUser); a router-level
# guard as well would make FastAPI verify the token twice per request.
protected = APIRouter(prefix="/albums", tags=["albums"], responses=error_responses(401, 503))
admin = APIRouter(prefix="/albums", tags=["albums"], responses=error_responses(401, 403, 503))
Paging = Annotated[PageParams, Depends(page_params)]


@public.get(
    "",
    response_model=list[AlbumOut],
    responses=error_responses(401, 503),
    summary="List albums (filter, search, sort, page)",
)
async def list_albums(
    request: Request,
    caller: OptionalUser,
    page: Paging,
    q: SearchFilter = None,
    genre: GenreFilter = None,
    artist: ArtistFilter = None,
    sort: Annotated[
        AlbumSort | None,
        Query(description="Column, `-` for descending; default: relevance with `q`, else id"),
    ] = None,
) -> Response:
    """Albums with `song_count`, `duration` (seconds, the sum of the linked songs'
    durations; songs without one count 0), `like_count` and `liked_by_me` (null
    without a token; a bad token is a 401). Paged with `limit` and `offset` or
    `cursor`; a `Link: rel="next"` header points at the next page."""
    albums = album_service(request)
    result = await in_database(
        request,
        lambda: albums.list(page, sort=sort, q=q, genre=genre, artist=artist, caller=caller),
        # A ranked search and an exact filter in id order read one index range; a
        # search or filter in another order may read far into the table first.
        scan=(q is not None and sort is not None)
        or (sort not in (None, "id", "-id") and (genre, artist) != (None, None)),
    )
    return page_response(request, result, AlbumOut)


@protected.get(
    "/liked",
    response_model=list[LikedAlbumOut],
    summary="Your liked albums, newest like first",
)
async def liked_albums(request: Request, caller: CurrentUser, page: Paging) -> Response:
    """The caller's liked albums with `liked_at`, newest like first (ties by album
    id, descending); paged, with a keyset `cursor` in the `Link` header."""
    albums = album_service(request)
    result = await in_database(request, lambda: albums.liked(page, caller))
    return page_response(request, result, LikedAlbumOut)


@protected.get(
    "/{album_id}", response_model=AlbumOut, responses=error_responses(404), summary="An album"
)
async def get_album(request: Request, album_id: ResourceId, caller: CurrentUser) -> Response:
    """The album with `song_count`, `duration` (seconds), `like_count` and whether
    the caller likes it (`liked_by_me`)."""
    albums = album_service(request)
    return model_response(await in_database(request, lambda: albums.get(album_id, caller)))


@protected.post(
    "/{album_id}/like",
    response_model=AlbumLikeState,
    responses=error_responses(404),
    summary="Like an album (idempotent)",
)
async def like_album(request: Request, album_id: ResourceId, caller: AppUser) -> AlbumLikeState:
    """Like the album; liking it again changes nothing. The answer's `like_count`
    is the album's count right after this request. 404 for an unknown album."""
    albums = album_service(request)
    return await in_database(request, lambda: albums.like(album_id, caller))


@protected.delete(
    "/{album_id}/like",
    response_model=AlbumLikeState,
    responses=error_responses(404),
    summary="Unlike an album (idempotent)",
)
async def unlike_album(request: Request, album_id: ResourceId, caller: AppUser) -> AlbumLikeState:
    """Take back a like; unliking an album not liked changes nothing. 404 for an
    unknown album."""
    albums = album_service(request)
    return await in_database(request, lambda: albums.unlike(album_id, caller))


@admin.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AlbumOut,
    responses=error_responses(413),
    summary="Create an album (admin)",
)
async def create_album(request: Request, body: AlbumCreate, caller: AdminUser) -> AlbumOut:
    """A new album; its `artist` name becomes an artist (`artist_id`) when no
    artist's name folds to the same key. `release_date` is optional (years 1-9999)."""
    albums = album_service(request)
    return await in_database(request, lambda: albums.create(body, caller))


_UPDATE = {
    "response_model": AlbumOut,
    "responses": error_responses(404, 413),
    "summary": "Update an album (partial; admin)",
}


@admin.put("/{album_id}", **_UPDATE)
@admin.patch("/{album_id}", **_UPDATE)
async def update_album(
    request: Request, album_id: ResourceId, body: AlbumUpdate, caller: AdminUser
) -> AlbumOut:
    """Change the fields sent; the album with its counts afterwards."""
    albums = album_service(request)
    return await in_database(request, lambda: albums.update(album_id, body, caller))


@admin.delete(
    "/{album_id}",
    response_model=AlbumDeleted,
    responses=error_responses(404),
    summary="Delete an album and its song links; the songs stay (admin)",
)
async def delete_album(request: Request, album_id: ResourceId, _: AdminUser) -> AlbumDeleted:
    albums = album_service(request)
    await in_database(request, lambda: albums.delete(album_id))
    return AlbumDeleted()
