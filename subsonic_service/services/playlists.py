"""The playlist methods' reads and rules: who may see a playlist, the checks made
before an edit's first owner call, and the `playlist` shapes (Responses/
playlist.md, playlistWithSongs.md, playlists.md).

The same rules as song_service's (API.md, Playlists), which applies them again on
every edit: a user sees their own playlists and the public ones, an admin any
(getPlaylist); only the owner edits. Another user's private playlist is error 70
(its existence is not revealed: song_service answers 404), another's public one
error 50 (song_service: 403).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from subsonic_service import ids
from subsonic_service.auth import Caller
from subsonic_service.envelope import Payload
from subsonic_service.errors import invalid, not_authorized, not_found
from subsonic_service.repos.playlists_sql import PlaylistRecord
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork
from subsonic_service.shapes import child, iso

Unit = Callable[[], SqlSubsonicUnitOfWork]


def playlist_shape(record: PlaylistRecord, caller: Caller) -> Payload:
    """A playlist as Responses/playlist.md: `comment` is its description;
    `coverArt` (pl-N, the first entry's cover) only when it has entries;
    `readonly` (OpenSubsonic) true unless the caller owns it."""
    return {
        "id": ids.make("pl", record.id),
        "name": record.name,
        "comment": record.description,
        "owner": record.owner,
        "public": record.public,
        "songCount": record.song_count,
        "duration": record.duration,
        "created": iso(record.created_at),
        "changed": iso(record.updated_at),
        "coverArt": ids.make("pl", record.id) if record.song_count else None,
        "readonly": record.owner_id != caller.user_id,
    }


def may_read(record: PlaylistRecord, caller: Caller) -> bool:
    return record.public or record.owner_id == caller.user_id or caller.is_admin


def playlists(unit: Unit, caller: Caller, username: str | None) -> Payload:
    """`playlists` for getPlaylists: the playlists the caller (or, for an admin,
    the user `username`) may play: their own and the public ones, their own
    first. `username` of another account is error 50 for a non-admin, whether
    or not it exists; an unknown one is 70 for an admin."""
    with unit() as uow:
        viewer = caller.user_id
        if username:
            account = uow.system.user_named(username)
            if account is None or account["id"] != caller.user_id:
                if not caller.is_admin:
                    raise not_authorized("Only an admin may list another user's playlists")
                if account is None:
                    raise not_found("User")
            viewer = account["id"]
        records = uow.playlists.visible(viewer)
    # readonly is said for the caller: the one who would edit.
    return {"playlist": [playlist_shape(record, caller) for record in records]}


def playlist_with_songs(unit: Unit, playlist_id: int, caller: Caller) -> Payload:
    """`playlist` with its `entry` list (Child, position order) for getPlaylist
    and the answer of createPlaylist. Error 70 for no such playlist or another
    user's private one (an admin reads any)."""
    with unit() as uow:
        record = uow.playlists.playlist(playlist_id)
        if record is None or not may_read(record, caller):
            raise not_found("Playlist")
        songs = uow.playlists.entries(playlist_id, caller.user_id)
    return {**playlist_shape(record, caller), "entry": [child(song) for song in songs]}


def check_edit(
    unit: Unit,
    playlist_id: int,
    caller: Caller,
    song_ids: Sequence[int] = (),
    positions: Sequence[int] = (),
) -> PlaylistRecord:
    """Before an edit's owner calls: the playlist exists and is the caller's
    (70 when they cannot see it; 50 when they can but it is not theirs: another's
    public one, or any other's for an admin, as song_service answers), every song
    exists (70) and every position is an entry's (0). song_service checks all of
    it again in each call; checking here first means an edit spread over several
    calls (updatePlaylist) does not stop half way on a bad parameter."""
    with unit() as uow:
        record = uow.playlists.playlist(playlist_id)
        if record is None or not may_read(record, caller):
            raise not_found("Playlist")
        if record.owner_id != caller.user_id:
            raise not_authorized("Only the playlist's owner may change it")
        if song_ids and len(uow.system.existing("so", song_ids)) < len(set(song_ids)):
            raise not_found("Song")
    if any(position >= record.song_count for position in positions):
        highest = record.song_count - 1
        raise invalid("songIndexToRemove", f"a position from 0 to {highest}")
    return record


def require_songs(unit: Unit, song_ids: Sequence[int]) -> None:
    """Error 70 unless every song exists (before a new playlist is created)."""
    if not song_ids:
        return
    with unit() as uow:
        if len(uow.system.existing("so", song_ids)) < len(set(song_ids)):
            raise not_found("Song")
