"""HTTP for albums: translate requests to AlbumService calls, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from album_service.dependencies import album_service
from album_service.schemas import AlbumCreate, AlbumDeleted, AlbumOut, AlbumSort, AlbumUpdate
from common.auth import get_principal, require_admin
from common.db import in_database
from common.paging import PageParams, page_params
from common.responses import model_response, page_response
from common.schemas import ArtistFilter, GenreFilter, ResourceId, SearchFilter, error_responses

public = APIRouter(prefix="/albums", tags=["albums"])
protected = APIRouter(
    prefix="/albums",
    tags=["albums"],
    dependencies=[Depends(get_principal)],
    responses=error_responses(401, 503),
)
admin = APIRouter(
    prefix="/albums",
    tags=["albums"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(401, 403, 503),
)


@public.get(
    "",
    response_model=list[AlbumOut],
    responses=error_responses(503),
    summary="List albums (filter, search, sort, page)",
)
async def list_albums(
    request: Request,
    page: Annotated[PageParams, Depends(page_params)],
    q: SearchFilter = None,
    genre: GenreFilter = None,
    artist: ArtistFilter = None,
    sort: Annotated[
        AlbumSort | None,
        Query(description="Column, `-` for descending; default: relevance with `q`, else id"),
    ] = None,
) -> Response:
    albums = album_service(request)
    result = await in_database(
        request,
        lambda: albums.list(page, sort=sort, q=q, genre=genre, artist=artist),
        # A ranked search and an exact filter in id order read one index range; a
        # search or filter in another order may read far into the table first.
        scan=(q is not None and sort is not None)
        or (sort not in (None, "id", "-id") and (genre, artist) != (None, None)),
    )
    return page_response(request, result, AlbumOut)


@protected.get(
    "/{album_id}", response_model=AlbumOut, responses=error_responses(404), summary="An album"
)
async def get_album(request: Request, album_id: ResourceId) -> Response:
    albums = album_service(request)
    return model_response(await in_database(request, lambda: albums.get(album_id)))


@admin.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AlbumOut,
    responses=error_responses(413),
    summary="Create an album (admin)",
)
async def create_album(request: Request, body: AlbumCreate) -> AlbumOut:
    albums = album_service(request)
    return await in_database(request, lambda: albums.create(body))


_UPDATE = {
    "response_model": AlbumOut,
    "responses": error_responses(404, 413),
    "summary": "Update an album (partial; admin)",
}


@admin.put("/{album_id}", **_UPDATE)
@admin.patch("/{album_id}", **_UPDATE)
async def update_album(request: Request, album_id: ResourceId, body: AlbumUpdate) -> AlbumOut:
    albums = album_service(request)
    return await in_database(request, lambda: albums.update(album_id, body))


@admin.delete(
    "/{album_id}",
    response_model=AlbumDeleted,
    responses=error_responses(404),
    summary="Delete an album and its song links; the songs stay (admin)",
)
async def delete_album(request: Request, album_id: ResourceId) -> AlbumDeleted:
    albums = album_service(request)
    await in_database(request, lambda: albums.delete(album_id))
    return AlbumDeleted()
