"""HTTP for albums: translate requests to AlbumService calls, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from album_service.dependencies import AlbumServiceDep
from album_service.repos.base import SORTABLE, AlbumQuery
from album_service.schemas import AlbumCreate, AlbumDeleted, AlbumOut, AlbumSort, AlbumUpdate
from common.auth import get_principal, require_admin
from common.paging import PageParams, keyset_cursor, page_params, parse_keyset_cursor, set_next_link
from common.schemas import ArtistFilter, GenreFilter, ResourceId, SearchFilter, error_responses
from database.keyset import Sort

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
def list_albums(
    request: Request,
    response: Response,
    albums: AlbumServiceDep,
    page: Annotated[PageParams, Depends(page_params)],
    q: SearchFilter = None,
    genre: GenreFilter = None,
    artist: ArtistFilter = None,
    sort: Annotated[AlbumSort, Query(description="Column, `-` for descending")] = "id",
) -> list[AlbumOut]:
    order = Sort.parse(sort)
    result = albums.list(
        AlbumQuery(
            q=q,
            genre=genre,
            artist=artist,
            sort=order,
            after=parse_keyset_cursor(page.cursor, order, SORTABLE[order.field]),
            offset=page.offset,
            limit=page.limit,
        )
    )
    if result.next_after is not None:
        next_cursor = keyset_cursor(order, result.next_after.value, result.next_after.id)
        set_next_link(request, response, next_cursor)
    return [AlbumOut.model_validate(album) for album in result.albums]


@protected.get(
    "/{album_id}", response_model=AlbumOut, responses=error_responses(404), summary="An album"
)
def get_album(album_id: ResourceId, albums: AlbumServiceDep) -> AlbumOut:
    return AlbumOut.model_validate(albums.get(album_id))


@admin.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AlbumOut,
    responses=error_responses(413),
    summary="Create an album (admin)",
)
def create_album(body: AlbumCreate, albums: AlbumServiceDep) -> AlbumOut:
    return AlbumOut.model_validate(albums.create(body))


_UPDATE = {
    "response_model": AlbumOut,
    "responses": error_responses(404, 413),
    "summary": "Update an album (partial; admin)",
}


@admin.put("/{album_id}", **_UPDATE)
@admin.patch("/{album_id}", **_UPDATE)
def update_album(album_id: ResourceId, body: AlbumUpdate, albums: AlbumServiceDep) -> AlbumOut:
    return AlbumOut.model_validate(albums.update(album_id, body))


@admin.delete(
    "/{album_id}",
    response_model=AlbumDeleted,
    responses=error_responses(404),
    summary="Delete an album and its song links; the songs stay (admin)",
)
def delete_album(album_id: ResourceId, albums: AlbumServiceDep) -> AlbumDeleted:
    albums.delete(album_id)
    return AlbumDeleted()
