"""HTTP for the Subsonic API: `/rest/{method}` and `/rest/{method}.view`, GET with a
query string, POST with a form body (OpenSubsonic `formPost`), HEAD.

Every answer but a binary one is the `subsonic-response` envelope, errors
included, in the format `f` asks for (xml by default, json, jsonp with
`callback`). Each call logs one line with the method, the client's `c` and `v`
and the outcome; never a credential.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from common.errors import (
    DomainError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnauthorizedError,
)
from database.unit_of_work import RerunUnit
from subsonic_service import methods  # noqa: F401 - registers every method
from subsonic_service.auth import authenticate
from subsonic_service.envelope import (
    chosen_format,
    envelope,
    error_payload,
    render,
    valid_callback,
)
from subsonic_service.errors import (
    GENERIC,
    NOT_AUTHORIZED,
    NOT_FOUND,
    WRONG_CREDENTIALS,
    SubsonicError,
    invalid,
    missing,
    not_authorized,
)
from subsonic_service.params import Params
from subsonic_service.registry import METHODS, Call, find

logger = logging.getLogger("subsonic_service.calls")
router = APIRouter(prefix="/rest", tags=["subsonic"])
FORM = "application/x-www-form-urlencoded"
VIEW = ".view"
# Parameters a form POST may carry (the body is capped at MAX_BODY_BYTES anyway).
MAX_FORM_FIELDS = 10_000
# How much of a client's `c` and `v` a log line keeps.
LOGGED_CHARS = 64

_DESCRIPTION = f"""The Subsonic REST API with OpenSubsonic extensions (`apiKeyAuthentication`,
`formPost`), for Subsonic apps. `method` is one of: {", ".join(sorted(METHODS))};
with or without `.view`. Parameters as the OpenSubsonic reference gives them
(https://opensubsonic.netlify.app/docs/api-reference/), in the query string or a
form body; authenticate with `apiKey`, `u`+`t`+`s` or `u`+`p` (the app password
from POST /auth/app-password), or `jwt` (an access token). Answers are the
`subsonic-response` envelope (`f` = xml, json, jsonp), errors too, with HTTP 200."""


async def _form(request: Request) -> list[tuple[str, str]]:
    """A form POST's parameters (OpenSubsonic formPost); none for anything else.
    Up to MAX_FORM_FIELDS of them: formPost exists for long lists of ids, beyond
    Starlette's default of 1,000. A form that cannot be read is error 0."""
    content_type = request.headers.get("content-type", "")
    if request.method != "POST" or content_type.split(";")[0].strip().lower() != FORM:
        return []
    try:
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    except HTTPException as exc:
        raise SubsonicError(GENERIC, f"The form could not be read: {exc.detail}") from None
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


def _from_domain(exc: DomainError) -> SubsonicError:
    """An error of the shared code (common.errors) as Subsonic states it."""
    if isinstance(exc, NotFoundError):
        return SubsonicError(NOT_FOUND, exc.detail)
    if isinstance(exc, ForbiddenError):
        return SubsonicError(NOT_AUTHORIZED, exc.detail)
    if isinstance(exc, UnauthorizedError):
        return SubsonicError(WRONG_CREDENTIALS, exc.detail)
    if isinstance(exc, ServiceUnavailableError | TooManyRequestsError):
        status = 503 if isinstance(exc, ServiceUnavailableError) else 200
        return SubsonicError(GENERIC, exc.detail, http_status=status, headers=exc.headers)
    return SubsonicError(GENERIC, exc.detail)


def _unavailable() -> SubsonicError:
    return SubsonicError(
        GENERIC, "Database unavailable; try again shortly", http_status=503,
        headers={"Retry-After": "5"},
    )  # fmt: skip


class AsGet(Response):
    """A binary method called with a form POST (OpenSubsonic formPost, as apps send
    every call) answered as the GET it stands for: RFC 9110 defines Range, If-Range
    and the conditional requests for GET only, and a player seeking needs them."""

    def __init__(self, inner: Response) -> None:
        self.inner = inner
        self.status_code = inner.status_code
        self.background = None
        self.raw_headers = inner.raw_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.inner({**scope, "method": "GET"}, receive, send)


def _head(response: Response) -> Response:
    """The answer to HEAD: the GET's status and headers, no body (RFC 9110, 9.3.2)."""
    headers = dict(response.headers)
    return Response(b"", response.status_code, headers)


def _clip(value: str | None) -> str | None:
    return None if value is None else value[:LOGGED_CHARS]


async def call_method(request: Request, method: str) -> Response:
    # `.view` in any case, as method names are matched (registry.find).
    name = method[: -len(VIEW)] if method.lower().endswith(VIEW) else method
    query = list(request.query_params.multi_items())
    unreadable: SubsonicError | None = None
    try:
        params = Params(query + await _form(request))
    except SubsonicError as exc:
        params, unreadable = Params(query), exc
    format = chosen_format(params.get("f"))
    callback = params.get("callback")
    user_id: int | None = None
    try:
        if unreadable is not None:
            raise unreadable
        if format == "jsonp" and not valid_callback(callback):
            format = "json"  # a broken callback cannot wrap the error about it
            raise missing("callback") if not callback else invalid("callback", "a JavaScript name")
        spec = find(name)
        if spec is None:
            raise SubsonicError(GENERIC, f"Unknown method: {name[:64]}", http_status=404)
        caller = await authenticate(request, params) if spec.auth else None
        user_id = caller.user_id if caller else None
        if spec.admin and not (caller and caller.is_admin):
            raise not_authorized("This method needs an admin account")
        result = await spec.handler(Call(request, params, caller))
    except SubsonicError as exc:
        error = exc
    except DomainError as exc:
        error = _from_domain(exc)
    except (PoolTimeoutError, DBAPIError, RerunUnit):
        logger.warning("database error in %s", name[:64], exc_info=True)
        error = _unavailable()
    else:
        _log(name, params, user_id, None)
        if isinstance(result, Response):
            if spec.binary:
                return AsGet(result) if request.method == "POST" else result
            return _head(result) if request.method == "HEAD" else result
        response = render(envelope("ok", result), format, callback)
        return _head(response) if request.method == "HEAD" else response
    _log(name, params, user_id, error.code)
    response = render(
        envelope("failed", error_payload(error)), format, callback,
        status_code=error.http_status, headers=error.headers,
    )  # fmt: skip
    return _head(response) if request.method == "HEAD" else response


# One handler, registered per method so each OpenAPI operation has its own id;
# HEAD is undocumented there (common.app lists HEAD beside every GET already).
_DOCUMENTED = {
    "response_class": Response,
    "summary": "Call a Subsonic method",
    "description": _DESCRIPTION,
    "responses": {
        200: {
            "description": "The `subsonic-response` envelope (XML, JSON or JSONP), or the "
            "bytes of stream, download and getCoverArt",
            "content": {"text/xml": {}, "application/json": {}, "audio/*": {}, "image/*": {}},
        },
        404: {"description": "No such method (the envelope, error 0)"},
        503: {"description": "The database or a service behind the facade is unavailable"},
    },
}
router.add_api_route(
    "/{method}", call_method, methods=["GET"], operation_id="subsonic_get", **_DOCUMENTED
)
router.add_api_route(
    "/{method}", call_method, methods=["POST"], operation_id="subsonic_post", **_DOCUMENTED
)
router.add_api_route("/{method}", call_method, methods=["HEAD"], include_in_schema=False)


def _log(name: str, params: Params, user_id: int | None, code: int | None) -> None:
    # %r quotes what the client chose (no forged log lines); only c, v, the method
    # and the outcome are logged, never a credential parameter.
    logger.info(
        "subsonic %s client=%r version=%r user=%s %s",
        name[:LOGGED_CHARS],
        _clip(params.get("c")),
        _clip(params.get("v")),
        user_id if user_id is not None else "-",
        "ok" if code is None else f"error={code}",
    )
