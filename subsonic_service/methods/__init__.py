"""Every Subsonic method, one module per group; importing this registers them all
(subsonic_service.registry)."""

from subsonic_service.methods import (  # noqa: F401 - imported to register
    annotation,
    browsing,
    lists,
    media,
    playlists,
    scans,
    system,
)
