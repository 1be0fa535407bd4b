"""ping, getLicense, getOpenSubsonicExtensions, getMusicFolders, getUser."""

from __future__ import annotations

from subsonic_service.envelope import Payload
from subsonic_service.ids import MUSIC_FOLDER_ID
from subsonic_service.registry import Call, method
from subsonic_service.services import system

# Only what works end to end here (Extensions/*.md of the reference).
EXTENSIONS: list[Payload] = [
    {"name": "apiKeyAuthentication", "versions": [1]},
    {"name": "formPost", "versions": [1]},
]
MUSIC_FOLDER_NAME = "Music"


@method("ping")
async def ping(call: Call) -> Payload:
    """An empty `ok` envelope: the server answers and the credentials are good."""
    return {}


@method("getLicense")
async def get_license(call: Call) -> Payload:
    """Always valid: there is no licence to buy."""
    return {"license": {"valid": True}}


@method("getOpenSubsonicExtensions", auth=False)
async def get_open_subsonic_extensions(call: Call) -> Payload:
    """The OpenSubsonic extensions implemented in full; answered without credentials
    (Endpoints/getopensubsonicextensions.md)."""
    return {"openSubsonicExtensions": EXTENSIONS}


@method("getMusicFolders")
async def get_music_folders(call: Call) -> Payload:
    """The one folder: the whole library (uploads and the scanned LIBRARY_DIR)."""
    return {"musicFolders": {"musicFolder": [{"id": MUSIC_FOLDER_ID, "name": MUSIC_FOLDER_NAME}]}}


@method("getUser")
async def get_user(call: Call) -> Payload:
    """`username` (required): the caller's own account, or any for an admin."""
    username = call.params.require("username")
    caller = call.user
    account = await call.read(
        lambda: system.user(call.unit, username, caller.user_id, caller.is_admin)
    )
    return {"user": account}
