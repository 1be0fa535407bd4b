"""The one ASGI middleware layer every service runs behind (common.app).

Each layer of ASGI middleware is another coroutine, closure and scope copy on
every request; with routing they were ~40% of a point read. So what the fleet
adds around its routes happens in one `__call__`, in this order:

- `X-Forwarded-Prefix` becomes `root_path`: nginx strips the gateway's prefix
  (`/docs/songs/...`) and names it there, and FastAPI then points the Swagger
  page at `<prefix>/openapi.json` and "Try it out" at `<prefix>`. The gateway
  always sets its own; a client that sends one directly only changes its own
  request (Starlette strips `root_path` from a path that starts with it);
- a request id (the client's `X-Request-ID` when sane), echoed in the response
  with the security headers, and one access-log line;
- the request body cap (413), whether announced by Content-Length or streamed;
- HEAD answered as GET without the body, on every GET route;
- CORS, by Starlette's CORSMiddleware, only for requests that carry an `Origin`
  header: browsers send it on every cross-origin request, and every CORS rule
  starts from it, so the others skip that layer;
- the request metrics (common.metrics): in flight while it runs, then counted
  and timed by route template (`scope["route"]`, set by the router), method and
  status. About 2.5 us a request in one process and 5.5 us with several workers
  (whose values are written to shared memory-mapped files), on this project's
  2-core test machine: the series' children are cached per (route, method,
  status), so no `labels()` lookup runs per request.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence

import orjson
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import metrics
from common.logging import request_id_var

access_log = logging.getLogger("musicplayer.access")
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# The prefix ends up inside the Swagger page's HTML and JavaScript, so only plain
# path characters are accepted; anything else is ignored.
_FORWARDED_PREFIX = re.compile(r"(/(?!\.+(?:/|$))[A-Za-z0-9._-]+)+")  # no "." or ".." segment
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# X-Requested-With: Swagger UI sends it with the "Authorize" token request.
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "X-Request-ID", "X-Requested-With"]
CORS_EXPOSED_HEADERS = ["Link", "X-Request-ID", "Retry-After"]
CORS_MAX_AGE_SECONDS = 600


class BodyTooLargeError(HTTPException):
    """Raised from `receive`; FastAPI lets HTTPExceptions out of body parsing, so the
    shared handler renders it like any other error."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request body larger than {max_bytes} bytes")


class ServiceMiddleware:
    """Request ids, access log, security headers, body cap, HEAD, the gateway's
    prefix and CORS, as one layer (see the module docstring).

    `router` is the app's: HEAD goes to a route that handles HEAD itself (a static
    file, say) untouched, and becomes a GET for the others. `max_body_bytes` caps
    request bodies; `body_limits` raises it for the paths named (an upload's).
    `cors_origins` are the browser origins allowed. `service` names the app in
    its metrics and in the access log's JSON."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        router: Router,
        max_body_bytes: int,
        cors_origins: Sequence[str],
        body_limits: Mapping[str, int] | None = None,
        service: str = "unknown",
    ) -> None:
        self.app = app
        self.router = router
        self.service = service
        self.metrics = metrics.RequestMetrics(service)
        self._endpoint_paths: dict[object, str] | None = None
        self.max_body_bytes = max_body_bytes
        self.body_limits = dict(body_limits or {})
        self.cors = CORSMiddleware(
            self._serve,
            allow_origins=cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=CORS_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        prefix = headers.get(b"x-forwarded-prefix")
        if prefix is not None and _FORWARDED_PREFIX.fullmatch(prefix.decode("latin-1")):
            # A copy: the server keeps its own scope (uvicorn reads it back).
            scope = {**scope, "root_path": scope.get("root_path", "") + prefix.decode("latin-1")}
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _CLIENT_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        service_token = metrics.service_var.set(self.service)
        method = scope["method"]
        started = time.perf_counter()
        status = 500
        self.metrics.in_flight.inc()

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    *SECURITY_HEADERS,
                ]
            await send(message)

        try:
            # CORS outside the cap and HEAD, so that a browser can read their answers.
            serve = self.cors if b"origin" in headers else self._serve
            await serve(scope, receive, send_with_headers)
        except BaseException:
            self._record(scope, method, status, started)
            # The ids stay set: an unhandled error's 500 and its traceback are
            # logged by Starlette's ServerErrorMiddleware, outside this layer but
            # still in this request's own task (and context), so with its id.
            raise
        self._record(scope, method, status, started)
        metrics.service_var.reset(service_token)
        request_id_var.reset(token)

    def _record(self, scope: Scope, method: str, status: int, started: float) -> None:
        """A finished request's metrics and access-log line."""
        seconds = time.perf_counter() - started
        self.metrics.in_flight.dec()
        # The template the router matched (_serve copies it back from a HEAD's
        # scope); a path no route took is UNMATCHED, never itself.
        if self._endpoint_paths is None:  # the app's routes are all in by now
            self._endpoint_paths = metrics.endpoint_paths_of(self.router.routes)
        route = metrics.route_label(scope, self._endpoint_paths)
        self.metrics.observe(route, method, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            client = scope.get("client")
            access_log.info(
                '%s "%s %s" %d %.1fms',
                client[0] if client else "-",
                method,
                scope["path"],
                status,
                seconds * 1000,
                # The same fields, for LOG_FORMAT=json (common.logging.JsonFormatter).
                extra={
                    "http": {
                        "client": client[0] if client else None,
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                    }
                },
            )

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The body cap and HEAD, around the app."""
        limit = self.body_limits.get(scope["path"], self.max_body_bytes)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(send, limit)
            return
        if scope["method"] == "HEAD" and not self._handles_head(scope):
            # A copy: uvicorn checks the body it is sent against its own scope's
            # method, and a GET's Content-Length without the body would make it
            # drop the keep-alive connection.
            as_get = {**scope, "method": "GET"}
            try:
                await self.app(as_get, self._capped(receive, limit), _without_body(send))
            finally:
                # For the metrics, which read the outer scope.
                for key in ("route", "endpoint"):
                    if key in as_get:
                        scope[key] = as_get[key]
            return
        await self.app(scope, self._capped(receive, limit), send)

    def _capped(self, receive: Receive, limit: int) -> Receive:
        """`receive` raising BodyTooLargeError once the body passes the cap."""
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        return capped_receive

    async def _refuse(self, send: Send, limit: int) -> None:
        body = orjson.dumps({"detail": f"Request body larger than {limit} bytes"})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _handles_head(self, scope: Scope) -> bool:
        """Whether a route answers HEAD itself: FastAPI registers no HEAD for GET
        routes (the OpenAPI documents list the HEAD operations, common.app)."""
        return any(route.matches(scope)[0] is Match.FULL for route in self.router.routes)


def _without_body(send: Send) -> Send:
    """`send` dropping the body: RFC 9110, 9.3.2, HEAD gets GET's status and
    headers (Content-Length included), never its body."""

    async def headers_only(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            message = {**message, "body": b""}
        await send(message)

    return headers_only
