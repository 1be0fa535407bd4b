"""HTTP for listening history: translate requests to ListeningService calls.

Its routes must come before songs.protected's `/songs/{song_id}` in the app's
router list (routes match in list order): `/songs/played` is not a song id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from common.auth import AppUser, CurrentUser
from common.db import in_database
from common.paging import PageParams, page_params
from common.responses import model_response, page_response
from common.schemas import ResourceId, error_responses
from song_service.dependencies import listening_service
from song_service.schemas import PlayCreate, PlayedSongOut, PlayRecorded, TopPeriod, TopSongOut

router = APIRouter(prefix="/songs", tags=["listening history"], responses=error_responses(401, 503))
Paging = Annotated[PageParams, Depends(page_params)]


@router.post(
    "/{song_id}/plays",
    status_code=201,
    response_model=PlayRecorded,
    responses={
        200: {"model": PlayRecorded, "description": "That play was already recorded"},
        **error_responses(404, 413),
    },
    summary="Record that you played a song (idempotent per time)",
)
async def record_play(
    request: Request,
    song_id: ResourceId,
    caller: AppUser,
    body: Annotated[PlayCreate | None, Body()] = None,
) -> Response:
    """Record one play of the song by the caller, at `played_at` (ISO 8601 with
    an offset, UTC when it has none, or integer epoch milliseconds; default: now).
    A time more than one day ahead of the server's clock or before 1970 is a 422.

    201 with `{"song_id", "played_at", "play_count"}` for a new play, where
    `play_count` is the song's plays by every user. The same (caller, song,
    `played_at`) again, even sent by two requests at once, is 200 with the same
    body and counts once: a scrobbler may safely retry. 404 for an unknown song,
    401 when the caller's account was deleted. Streaming a song never records a
    play; only this endpoint does."""
    plays = listening_service(request)
    played_at = body.played_at if body is not None else None
    created, play = await in_database(request, lambda: plays.record(song_id, caller, played_at))
    return model_response(play, status_code=201 if created else 200)


@router.get(
    "/played",
    response_model=list[PlayedSongOut],
    summary="Your listening history, newest play first",
)
async def played_songs(request: Request, caller: CurrentUser, page: Paging) -> Response:
    """The caller's plays, newest `played_at` first (ties by song id, descending),
    each the song (with its like and play state) plus `played_at`. A song played
    twice appears twice. Paged by `limit` and an opaque cursor (`Link: rel="next"`)."""
    plays = listening_service(request)
    result = await in_database(request, lambda: plays.history(page, caller))
    return page_response(request, result, PlayedSongOut)


@router.get(
    "/top",
    response_model=list[TopSongOut],
    summary="Your most played songs in a period",
)
async def top_songs(
    request: Request,
    caller: CurrentUser,
    page: Paging,
    period: Annotated[
        TopPeriod,
        Query(description="A rolling window ending now: week = 7 days, month = 30, year = 365"),
    ] = "month",
) -> Response:
    """The caller's songs played in the period, each the song plus `plays` (the
    caller's plays of it in the period), most played first, ties by song id.
    Periods are rolling windows ending at the time of the request: `week` the last
    7 days, `month` 30 days, `year` 365 days, `all` every play. Paged by
    `limit`/`offset`; `Link: rel="next"` carries an opaque cursor for the next page."""
    plays = listening_service(request)
    result = await in_database(request, lambda: plays.top(page, caller, period))
    return page_response(request, result, TopSongOut)
