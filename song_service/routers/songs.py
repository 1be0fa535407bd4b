"""HTTP for songs and likes: translate requests to SongService calls, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from common.auth import AdminUser, CurrentUser, OptionalUser, get_principal
from common.paging import PageParams, page_params, set_next_link
from common.schemas import (
    MAX_ID,
    ArtistFilter,
    GenreFilter,
    ResourceId,
    SearchFilter,
    error_responses,
)
from song_service.dependencies import SongServiceDep
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
protected = APIRouter(
    prefix="/songs",
    tags=["songs"],
    dependencies=[Depends(get_principal)],
    responses=error_responses(401, 503),
)
Paging = Annotated[PageParams, Depends(page_params)]


@public.get(
    "",
    response_model=list[SongOut],
    responses=error_responses(401, 503),
    summary="Browse songs: filters, sort and paging (Link: rel=next)",
)
def list_songs(
    request: Request,
    response: Response,
    songs: SongServiceDep,
    caller: OptionalUser,
    page: Paging,
    q: SearchFilter = None,
    genre: GenreFilter = None,
    artist: ArtistFilter = None,
    album_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    sort: SongSort = "id",
) -> list[SongOut]:
    result = songs.list(
        page, sort=sort, caller=caller, q=q, genre=genre, artist=artist, album_id=album_id
    )
    set_next_link(request, response, result.next_cursor)
    return result.items


@protected.get(
    "/liked", response_model=list[LikedSongOut], summary="Your liked songs, newest like first"
)
def liked_songs(
    request: Request, response: Response, songs: SongServiceDep, caller: CurrentUser, page: Paging
) -> list[LikedSongOut]:
    result = songs.liked(page, caller)
    set_next_link(request, response, result.next_cursor)
    return result.items


@protected.get(
    "/{song_id}",
    response_model=SongOut,
    responses=error_responses(404),
    summary="A song with its like count and whether you like it",
)
def get_song(song_id: ResourceId, songs: SongServiceDep, caller: CurrentUser) -> SongOut:
    return songs.get(song_id, caller)


@protected.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SongOut,
    responses=error_responses(403, 413),
    summary="Add a song (admin)",
)
def create_song(body: SongCreate, songs: SongServiceDep, _: AdminUser) -> SongOut:
    return songs.create(body)


_UPDATE = {
    "response_model": SongOut,
    "responses": error_responses(403, 404, 413),
    "summary": "Update a song (admin; partial)",
}


@protected.put("/{song_id}", **_UPDATE)
@protected.patch("/{song_id}", **_UPDATE)
def update_song(
    song_id: ResourceId, body: SongUpdate, songs: SongServiceDep, admin: AdminUser
) -> SongOut:
    return songs.update(song_id, body, admin)


@protected.delete(
    "/{song_id}",
    response_model=SongDeleted,
    responses=error_responses(403, 404),
    summary="Delete a song with its likes and album links (admin)",
)
def delete_song(song_id: ResourceId, songs: SongServiceDep, _: AdminUser) -> SongDeleted:
    songs.delete(song_id)
    return SongDeleted()


@protected.post(
    "/{song_id}/like",
    response_model=LikeState,
    responses=error_responses(404),
    summary="Like a song (idempotent)",
)
def like_song(song_id: ResourceId, songs: SongServiceDep, caller: CurrentUser) -> LikeState:
    return songs.like(song_id, caller)


@protected.delete(
    "/{song_id}/like",
    response_model=LikeState,
    responses=error_responses(404),
    summary="Unlike a song (idempotent)",
)
def unlike_song(song_id: ResourceId, songs: SongServiceDep, caller: CurrentUser) -> LikeState:
    return songs.unlike(song_id, caller)
