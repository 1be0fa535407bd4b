"""startScan (admin) and getScanStatus (any user)."""

from __future__ import annotations

from subsonic_service.envelope import Payload
from subsonic_service.errors import GENERIC, SubsonicError
from subsonic_service.registry import Call, method
from subsonic_service.services import scans

# song_service's scan states that mean "still going".
SCANNING_STATES = frozenset({"queued", "running"})


@method("startScan", admin=True)
async def start_scan(call: Call) -> Payload:
    """Start a scan of the whole library (LIBRARY_DIR) in song_service (POST
    /library/scans, which runs it in the background); answers `scanStatus`
    (startscan.md). A non-admin gets 50. A scan already running is not an error
    here: song_service refuses a second one (409) and the answer is the running
    scan's status."""
    try:
        response = await call.upstream.call(
            "song", "POST", "/library/scans", call.user.token, json={}
        )
    except SubsonicError as exc:
        # A 409 (or another refusal stated as code 0): a scan that runs answers it.
        if exc.code != GENERIC or exc.http_status != 200:
            raise
        status = await call.read(lambda: scans.scan_status(call.unit))
        if not status["scanning"]:
            raise
        return {"scanStatus": status}
    scan = response.json()
    return {
        "scanStatus": {
            "scanning": scan["state"] in SCANNING_STATES,
            "count": scan["files_seen"],
        }
    }


@method("getScanStatus")
async def get_scan_status(call: Call) -> Payload:
    """`scanStatus`: whether a library scan runs and how many files it has seen
    (the last scan's count when none runs). Any user may ask (getscanstatus.md);
    read from the shared tables, not song_service's admin-only API."""
    return {"scanStatus": await call.read(lambda: scans.scan_status(call.unit))}
