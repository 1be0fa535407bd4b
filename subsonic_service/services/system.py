"""The system methods' reads (getUser)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from subsonic_service.errors import not_authorized, not_found
from subsonic_service.ids import MUSIC_FOLDER_ID
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork


def user(
    unit: Callable[[], SqlSubsonicUnitOfWork], username: str, caller_id: int, caller_admin: bool
) -> dict[str, Any]:
    """The `user` of Responses/user.md for `username`: the caller's own, or anyone's
    for an admin (error 50 for another's, 70 for no such account)."""
    with unit() as uow:
        found = uow.system.user_named(username)
    if found is None:
        if not caller_admin:
            # A user may not learn whether another account exists.
            raise not_authorized("You may only read your own account")
        raise not_found("User")
    if found["id"] != caller_id and not caller_admin:
        raise not_authorized("You may only read your own account")
    return user_shape(found)


def user_shape(account: dict[str, Any]) -> dict[str, Any]:
    """An account as Subsonic's `user`. The roles say what this server lets the
    account do through the facade: every user streams, downloads, scrobbles, makes
    playlists and reads covers; only an admin scans or uploads."""
    admin = account["role"] == "admin"
    return {
        "username": account["username"],
        "email": account["email"],
        "scrobblingEnabled": True,
        "adminRole": admin,
        "settingsRole": False,
        "downloadRole": True,
        "uploadRole": admin,
        "playlistRole": True,
        "coverArtRole": True,
        "commentRole": False,
        "podcastRole": False,
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": False,
        "videoConversionRole": False,
        "folder": [MUSIC_FOLDER_ID],
    }
