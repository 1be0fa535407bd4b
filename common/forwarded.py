"""Serving the docs under the gateway's prefix (`/docs/songs/...`).

nginx strips the prefix before proxying and names it in `X-Forwarded-Prefix`.
Making it the ASGI `root_path` lets FastAPI point the Swagger page at
`<prefix>/openapi.json` and list `<prefix>` as the server "Try it out" calls, so
the docs work through the gateway. Routing is unaffected: Starlette strips
`root_path` only from paths that start with it, and these paths do not.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

# The prefix ends up inside the Swagger page's HTML and JavaScript, so only plain
# path characters are accepted; anything else is ignored.
_PREFIX = re.compile(r"(/[A-Za-z0-9._-]+)+")


class ForwardedPrefixMiddleware:
    """Sets `root_path` from a sane `X-Forwarded-Prefix` request header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            prefix = dict(scope["headers"]).get(b"x-forwarded-prefix", b"").decode("latin-1")
            if _PREFIX.fullmatch(prefix):
                scope = {**scope, "root_path": scope.get("root_path", "") + prefix}
        await self.app(scope, receive, send)
