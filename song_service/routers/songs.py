"""HTTP for songs and likes: translate requests to SongService calls, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from common.auth import AdminUser, AppUser, CurrentUser, OptionalUser
from common.db import in_database
from common.paging import PageParams, page_params
from common.responses import model_response, page_response
from common.schemas import (
    MAX_ID,
    ArtistFilter,
    GenreFilter,
    ResourceId,
    SearchFilter,
    error_responses,
)
from song_service.dependencies import song_service
from song_service.schemas import (
    LikedSongOut,
    LikeState,
    SongCreate,
    SongDeleted,
    SongOut,
    SongSort,
    SongUpdate,
)

public = APIRouter(prefix="/songs", tags=["songs"])
# Every protected route names its caller (CurrentUser or AdminUser); a router-level
# guard as well would make FastAPI verify the token twice per request.
protected = APIRouter(prefix="/songs", tags=["songs"], responses=error_responses(401, 503))
Paging = Annotated[PageParams, Depends(page_params)]


@public.get(
    "",
    response_model=list[SongOut],
    responses=error_responses(401, 503),
    summary="Browse songs: filters, sort and paging (Link: rel=next)",
)
async def list_songs(
    request: Request,
    caller: OptionalUser,
    page: Paging,
    q: SearchFilter = None,
    genre: GenreFilter = None,
    artist: ArtistFilter = None,
    album_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    sort: Annotated[
        SongSort | None,
        Query(description="Column, `-` for descending; default: relevance with `q`, else id"),
    ] = None,
) -> Response:
    songs = song_service(request)
    result = await in_database(
        request,
        lambda: songs.list(
            page, sort=sort, caller=caller, q=q, genre=genre, artist=artist, album_id=album_id
        ),
        # A ranked search and an exact filter in id order read one index range; a
        # search or filter in another order may read far into the table first.
        scan=(q is not None and sort is not None)
        or (sort not in (None, "id", "-id") and (genre, artist) != (None, None)),
    )
    return page_response(request, result, SongOut)


@protected.get(
    "/liked", response_model=list[LikedSongOut], summary="Your liked songs, newest like first"
)
async def liked_songs(request: Request, caller: CurrentUser, page: Paging) -> Response:
    songs = song_service(request)
    result = await in_database(request, lambda: songs.liked(page, caller))
    return page_response(request, result, LikedSongOut)


@protected.get(
    "/{song_id}",
    response_model=SongOut,
    responses=error_responses(404),
    summary="A song with its like count and whether you like it",
)
async def get_song(request: Request, song_id: ResourceId, caller: CurrentUser) -> Response:
    songs = song_service(request)
    return model_response(await in_database(request, lambda: songs.get(song_id, caller)))


@protected.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SongOut,
    responses=error_responses(403, 413),
    summary="Add a song (admin)",
)
async def create_song(request: Request, body: SongCreate, _: AdminUser) -> SongOut:
    songs = song_service(request)
    return await in_database(request, lambda: songs.create(body))


_UPDATE = {
    "response_model": SongOut,
    "responses": error_responses(403, 404, 413),
    "summary": "Update a song (admin; partial)",
}


@protected.put("/{song_id}", **_UPDATE)
@protected.patch("/{song_id}", **_UPDATE)
async def update_song(
    request: Request, song_id: ResourceId, body: SongUpdate, admin: AdminUser
) -> SongOut:
    songs = song_service(request)
    return await in_database(request, lambda: songs.update(song_id, body, admin))


@protected.delete(
    "/{song_id}",
    response_model=SongDeleted,
    responses=error_responses(403, 404),
    summary="Delete a song with its likes and album links (admin)",
)
async def delete_song(request: Request, song_id: ResourceId, _: AdminUser) -> SongDeleted:
    songs = song_service(request)
    await in_database(request, lambda: songs.delete(song_id))
    return SongDeleted()


@protected.post(
    "/{song_id}/like",
    response_model=LikeState,
    responses=error_responses(404),
    summary="Like a song (idempotent)",
)
async def like_song(request: Request, song_id: ResourceId, caller: AppUser) -> LikeState:
    songs = song_service(request)
    return await in_database(request, lambda: songs.like(song_id, caller))


@protected.delete(
    "/{song_id}/like",
    response_model=LikeState,
    responses=error_responses(404),
    summary="Unlike a song (idempotent)",
)
async def unlike_song(request: Request, song_id: ResourceId, caller: AppUser) -> LikeState:
    songs = song_service(request)
    return await in_database(request, lambda: songs.unlike(song_id, caller))
