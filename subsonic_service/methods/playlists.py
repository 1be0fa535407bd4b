"""getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist.

Reads come from the shared tables (services/playlists.py); every change is a
call to song_service's /playlists API with the caller's token, so its unit of
work, row lock and owner rules apply (upstream.py maps its answers: 404 → 70,
403 → 50, 409/422 → 0 with its sentence).
"""

from __future__ import annotations

from typing import Any

from subsonic_service import ids
from subsonic_service.envelope import Payload
from subsonic_service.errors import missing
from subsonic_service.registry import Call, method
from subsonic_service.services import playlists

# Song ids song_service takes per request (its MAX_PLAYLIST_SONG_IDS): longer
# lists go in several calls of this many, in order.
SONG_IDS_PER_CALL = 500


def _chunks(values: list[int]) -> list[list[int]]:
    size = SONG_IDS_PER_CALL
    return [values[start : start + size] for start in range(0, len(values), size)]


async def _song_call(call: Call, http_method: str, path: str, body: Any = None) -> Any:
    response = await call.upstream.call("song", http_method, path, call.user.token, json=body)
    return response.json() if response.content else None


async def _append(call: Call, playlist_id: int, song_ids: list[int]) -> None:
    for chunk in _chunks(song_ids):
        await _song_call(call, "POST", f"/playlists/{playlist_id}/songs", {"song_ids": chunk})


async def _with_songs(call: Call, playlist_id: int) -> Payload:
    caller = call.user
    return await call.read(lambda: playlists.playlist_with_songs(call.unit, playlist_id, caller))


@method("getPlaylists")
async def get_playlists(call: Call) -> Payload:
    """`playlists`: the caller's playlists (private and public) and everyone's
    public ones, the caller's first (at most 1,000). `username` (an admin only,
    else 50) lists what that user may play instead (getplaylists.md)."""
    username = call.params.get("username")
    caller = call.user
    found = await call.read(lambda: playlists.playlists(call.unit, caller, username))
    return {"playlists": found}


@method("getPlaylist")
async def get_playlist(call: Call) -> Payload:
    """`playlist` with `entry` (Child, in position order) for `id` (pl-N): the
    caller's own, a public one, or any for an admin; 70 otherwise
    (getplaylist.md, Responses/playlistWithSongs.md)."""
    playlist_id = ids.parse(call.params.require("id"), "pl")
    return {"playlist": await _with_songs(call, playlist_id)}


@method("createPlaylist")
async def create_playlist(call: Call) -> Payload:
    """Create a playlist `name` with the songs `songId` (repeatable, in order);
    or, with `playlistId`, make `songId` the entries of that playlist of the
    caller's (all replaced) and rename it when `name` is given. Answers the
    playlist with its entries (1.14.0 on). Every song is checked first (70);
    10 without `name` or `playlistId`; 50 for another's public playlist, 70 for
    one the caller cannot see (createplaylist.md)."""
    caller = call.user
    song_ids = [ids.parse(value, "so") for value in call.params.list("songId")]
    name = call.params.get("name")
    existing = call.params.get("playlistId")
    if existing:
        playlist_id = ids.parse(existing, "pl")
        await call.read(lambda: playlists.check_edit(call.unit, playlist_id, caller, song_ids))
        # The rename first: song_service's check of the name (length, not blank) is
        # then made before any entry changes, as in updatePlaylist.
        if name:
            await _song_call(call, "PATCH", f"/playlists/{playlist_id}", {"name": name})
        first, rest = song_ids[:SONG_IDS_PER_CALL], song_ids[SONG_IDS_PER_CALL:]
        await _song_call(call, "PUT", f"/playlists/{playlist_id}/songs", {"song_ids": first})
        await _append(call, playlist_id, rest)
    else:
        if not name:
            raise missing("name")
        await call.read(lambda: playlists.require_songs(call.unit, song_ids))
        first, rest = song_ids[:SONG_IDS_PER_CALL], song_ids[SONG_IDS_PER_CALL:]
        created = await _song_call(call, "POST", "/playlists", {"name": name, "song_ids": first})
        playlist_id = created["id"]
        await _append(call, playlist_id, rest)
    return {"playlist": await _with_songs(call, playlist_id)}


@method("updatePlaylist")
async def update_playlist(call: Call) -> Payload:
    """The owner's edit of `playlistId`: `name`, `comment` (its description; empty
    clears it), `public`; `songIndexToRemove` (repeatable: positions as they are
    before this call) go in one song_service request, then `songIdToAdd`
    (repeatable) are appended. Everything is checked before the first change:
    70 for an unknown song or a playlist the caller cannot see, 50 for another's
    public playlist, 0 for a position that is no entry's; the fields change
    first, so a name or comment song_service refuses (0) changes nothing. Empty answer
    (updateplaylist.md)."""
    caller = call.user
    params = call.params
    playlist_id = ids.parse(params.require("playlistId"), "pl")
    to_add = [ids.parse(value, "so") for value in params.list("songIdToAdd")]
    to_remove = sorted(set(params.ints("songIndexToRemove")))
    public = params.bool("public")
    await call.read(lambda: playlists.check_edit(call.unit, playlist_id, caller, to_add, to_remove))
    # The fields first: song_service's checks of a name or comment (length, not
    # blank) are then made before any entry changes.
    changes: dict[str, Any] = {}
    if params.get("name"):
        changes["name"] = params.get("name")
    if "comment" in params:
        changes["description"] = params.get("comment") or None
    if public is not None:
        changes["public"] = public
    if changes:
        await _song_call(call, "PATCH", f"/playlists/{playlist_id}", changes)
    if to_remove:
        await _song_call(
            call, "POST", f"/playlists/{playlist_id}/songs/remove", {"positions": to_remove}
        )
    await _append(call, playlist_id, to_add)
    return {}


@method("deletePlaylist")
async def delete_playlist(call: Call) -> Payload:
    """Delete playlist `id` (its owner, or an admin): song_service's DELETE
    /playlists/{id}. 70 for one the caller cannot see, 50 for another's public
    one (deleteplaylist.md)."""
    playlist_id = ids.parse(call.params.require("id"), "pl")
    await _song_call(call, "DELETE", f"/playlists/{playlist_id}")
    return {}
