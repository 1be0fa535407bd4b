"""HTTP for artists and artist likes: translate requests to ArtistService calls,
nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from album_service.dependencies import artist_service
from album_service.schemas import (
    AlbumOut,
    ArtistCreate,
    ArtistDeleted,
    ArtistLikeState,
    ArtistOut,
    ArtistSongOut,
    ArtistSort,
    ArtistUpdate,
    LikedArtistOut,
)
from common.auth import AdminUser, AppUser, CurrentUser, OptionalUser
from common.db import in_database
from common.paging import PageParams, page_params
from common.responses import model_response, page_response
from common.schemas import ResourceId, SearchFilter, error_responses

public = APIRouter(prefix="/artists", tags=["artists"], responses=error_responses(503))
# Every protected route names its caller (CurrentUser or AdminUser): no router guard.
protected = APIRouter(prefix="/artists", tags=["artists"], responses=error_responses(401, 503))
Paging = Annotated[PageParams, Depends(page_params)]


@public.get(
    "",
    response_model=list[ArtistOut],
    responses=error_responses(401),
    summary="Browse artists: search, sort and paging (Link: rel=next)",
)
async def list_artists(
    request: Request,
    caller: OptionalUser,
    page: Paging,
    q: SearchFilter = None,
    sort: Annotated[
        ArtistSort | None,
        Query(
            description="Column, `-` for descending; `name` sorts by the folded sort name. "
            "Default: relevance with `q`, else id"
        ),
    ] = None,
) -> Response:
    """Artists with `album_count`, `song_count`, `like_count`, `liked_by_me` (null
    without a token; a bad token is a 401) and `cover`. `q` matches name word
    prefixes, case- and accent-insensitively. Paged with `limit` and `offset` or
    `cursor`; a `Link: rel="next"` header points at the next page."""
    artists = artist_service(request)
    result = await in_database(
        request,
        lambda: artists.list(page, sort=sort, q=q, caller=caller),
        # A search in a column's order may read far into the table first.
        scan=q is not None and sort is not None,
    )
    return page_response(request, result, ArtistOut)


@protected.get(
    "/liked", response_model=list[LikedArtistOut], summary="Your liked artists, newest like first"
)
async def liked_artists(request: Request, caller: CurrentUser, page: Paging) -> Response:
    """The caller's liked artists with `liked_at`, newest like first (ties by
    artist id, descending); paged, with a keyset `cursor` in the `Link` header."""
    artists = artist_service(request)
    result = await in_database(request, lambda: artists.liked(page, caller))
    return page_response(request, result, LikedArtistOut)


@public.get(
    "/{artist_id}",
    response_model=ArtistOut,
    responses=error_responses(401, 404),
    summary="An artist with counts, cover and like state",
)
async def get_artist(request: Request, artist_id: ResourceId, caller: OptionalUser) -> Response:
    """`album_count` and `song_count` count the albums and songs whose `artist_id`
    is this artist; `cover` is the `cover_image_url` of its newest album that has
    one (newest release first, undated last), else null; `liked_by_me` is null
    without a token."""
    artists = artist_service(request)
    return model_response(await in_database(request, lambda: artists.get(artist_id, caller)))


@public.get(
    "/{artist_id}/albums",
    response_model=list[AlbumOut],
    responses=error_responses(401, 404),
    summary="The artist's albums, newest release first",
)
async def artist_albums(
    request: Request, artist_id: ResourceId, caller: OptionalUser, page: Paging
) -> Response:
    """Albums whose `artist_id` is this artist: `release_date` descending, albums
    without one last, then newest id first. Paged (`Link: rel="next"`). 404 for
    an unknown artist."""
    artists = artist_service(request)
    result = await in_database(request, lambda: artists.albums(artist_id, page, caller))
    return page_response(request, result, AlbumOut)


@public.get(
    "/{artist_id}/songs",
    response_model=list[ArtistSongOut],
    responses=error_responses(401, 404),
    summary="The artist's songs, by title",
)
async def artist_songs(
    request: Request, artist_id: ResourceId, page: Paging, _: OptionalUser
) -> Response:
    """Songs whose `artist_id` is this artist, by folded title, then id; their
    likes and plays are at GET /songs/{id}. Paged (`Link: rel="next"`). 404 for an
    unknown artist; a token is optional, but a bad one is a 401, as on every list."""
    artists = artist_service(request)
    result = await in_database(request, lambda: artists.songs(artist_id, page))
    return page_response(request, result, ArtistSongOut)


@protected.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ArtistOut,
    responses=error_responses(403, 409, 413),
    summary="Create an artist (admin)",
)
async def create_artist(request: Request, body: ArtistCreate, caller: AdminUser) -> ArtistOut:
    """Body: `name` (1-100 characters, not blank) and optional `sort_name` (the
    name when absent). 409 when an artist's name is the same under case and
    accent folding (`Beyoncé` and `BEYONCE` are one artist)."""
    artists = artist_service(request)
    return await in_database(request, lambda: artists.create(body, caller))


@protected.patch(
    "/{artist_id}",
    response_model=ArtistOut,
    responses=error_responses(403, 404, 409, 413),
    summary="Rename an artist or change its sort name (partial; admin)",
)
async def update_artist(
    request: Request, artist_id: ResourceId, body: ArtistUpdate, caller: AdminUser
) -> ArtistOut:
    """Change `name` and/or `sort_name`; `sort_name: null` makes it the name again,
    and a sort name that was the name follows a new name. 409 when the new name
    folds to another artist's. This does not rewrite the display `artist` text of
    the artist's songs and albums: they keep their `artist_id` and their text."""
    artists = artist_service(request)
    return await in_database(request, lambda: artists.update(artist_id, body, caller))


@protected.delete(
    "/{artist_id}",
    response_model=ArtistDeleted,
    responses=error_responses(403, 404, 409),
    summary="Delete an artist no album or song names (admin)",
)
async def delete_artist(request: Request, artist_id: ResourceId, _: AdminUser) -> ArtistDeleted:
    """The artist and its likes go. 409 while any album or song has this
    `artist_id`: give them another artist, or delete them, first."""
    artists = artist_service(request)
    await in_database(request, lambda: artists.delete(artist_id))
    return ArtistDeleted()


@protected.post(
    "/{artist_id}/like",
    response_model=ArtistLikeState,
    responses=error_responses(404),
    summary="Like an artist (idempotent)",
)
async def like_artist(request: Request, artist_id: ResourceId, caller: AppUser) -> ArtistLikeState:
    """Like the artist; liking it again changes nothing. `like_count` is the
    artist's count right after this request. 404 for an unknown artist."""
    artists = artist_service(request)
    return await in_database(request, lambda: artists.like(artist_id, caller))


@protected.delete(
    "/{artist_id}/like",
    response_model=ArtistLikeState,
    responses=error_responses(404),
    summary="Unlike an artist (idempotent)",
)
async def unlike_artist(
    request: Request, artist_id: ResourceId, caller: AppUser
) -> ArtistLikeState:
    """Take back a like; unliking an artist not liked changes nothing. 404 for an
    unknown artist."""
    artists = artist_service(request)
    return await in_database(request, lambda: artists.unlike(artist_id, caller))
