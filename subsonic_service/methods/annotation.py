"""star, unstar, scrobble: each change is the owner's REST call, made with the
caller's token (upstream.py): likes in song_service (songs) and album_service
(albums, artists), plays in song_service."""

from __future__ import annotations

from subsonic_service.envelope import Payload
from subsonic_service.registry import Call, method
from subsonic_service.services import annotation
from subsonic_service.services.annotation import NOW_PLAYING, Target
from subsonic_service.upstream import Service

# Where a target's like lives: POST likes it, DELETE takes it back (both idempotent).
LIKE_PATHS: dict[str, tuple[Service, str]] = {
    "so": ("song", "/songs/{}/like"),
    "al": ("album", "/albums/{}/like"),
    "ar": ("album", "/artists/{}/like"),
}


async def _set_stars(call: Call, http_method: str) -> Payload:
    targets = annotation.star_targets(call.params)
    await call.read(lambda: annotation.require_existing(call.unit, targets))
    # One call per id, in the order given. Each is idempotent, so a call that
    # fails half way (an id deleted meanwhile: 70) is safely sent again.
    for target in targets:
        await _like(call, http_method, target)
    return {}


async def _like(call: Call, http_method: str, target: Target) -> None:
    service, path = LIKE_PATHS[target.kind]
    await call.upstream.call(service, http_method, path.format(target.row_id), call.user.token)


@method("star")
async def star(call: Call) -> Payload:
    """Star songs (`id`), albums (`albumId`, or an `al-` id in `id`) and artists
    (`artistId`, or an `ar-` id in `id`), each repeatable: the caller's likes.
    Error 10 without any id; 70 for a malformed or unknown one, and then nothing
    is starred. Starring again changes nothing. Empty answer (star.md)."""
    return await _set_stars(call, "POST")


@method("unstar")
async def unstar(call: Call) -> Payload:
    """Take stars back; the same ids and errors as star (unstar.md)."""
    return await _set_stars(call, "DELETE")


@method("scrobble")
async def scrobble(call: Call) -> Payload:
    """`id` (songs, repeatable), `time` (epoch milliseconds, paired with the ids
    by position; default now), `submission` (default true).

    A submission records one play per id in song_service (POST
    /songs/{id}/plays), which counts the same (user, song, time) once, so a
    client that sends a scrobble again is not counted twice. submission=false
    ("now playing") records no play: the last id is noted as the caller's
    current song in this process (services.annotation.NowPlaying). Every id is
    checked first: 70 for one that names no song, and then nothing is recorded
    (scrobble.md)."""
    request = annotation.scrobble_call(call.params)
    song_ids = [song_id for song_id, _ in request.plays]
    targets = [Target("so", song_id) for song_id in song_ids]
    await call.read(lambda: annotation.require_existing(call.unit, targets))
    if not request.submission:
        NOW_PLAYING.note(call.user.user_id, song_ids[-1])
        return {}
    for song_id, played_at in request.plays:
        body = {} if played_at is None else {"played_at": played_at}
        await call.upstream.call(
            "song", "POST", f"/songs/{song_id}/plays", call.user.token, json=body
        )
    return {}
