"""Domain errors carry their HTTP status; one set of handlers renders every error.

Services raise these; routers never translate errors themselves.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from database.unit_of_work import RerunUnit, is_refused_value, is_retryable

logger = logging.getLogger(__name__)

SENSITIVE_FIELDS = frozenset({"password", "current_password", "new_password"})


class DomainError(Exception):
    status_code = 400
    detail = "Bad request"
    headers: dict[str, str] | None = None
    # Fields the body carries beside `detail` (a 409's existing id, say).
    extra: dict[str, object] | None = None

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.detail)
        if detail is not None:
            self.detail = detail


class NotFoundError(DomainError):
    status_code = 404
    detail = "Not found"


class ConflictError(DomainError):
    status_code = 409
    detail = "Conflict"


class ForbiddenError(DomainError):
    status_code = 403
    detail = "Not allowed"


class UnauthorizedError(DomainError):
    status_code = 401
    detail = "Not authenticated"
    headers = {"WWW-Authenticate": "Bearer"}


class AccountGoneError(UnauthorizedError):
    """The token is still valid but its account was deleted."""

    detail = "Account no longer exists"


class InvalidCredentialsError(UnauthorizedError):
    detail = "Invalid credentials"


class TooManyRequestsError(DomainError):
    status_code = 429
    detail = "Too many failed attempts; try again later"

    def __init__(self, retry_after_seconds: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(max(1, retry_after_seconds))}


class InvalidInputError(DomainError):
    """Input the schema could not rule out (an opaque cursor, say) but the service
    refuses: a 422 in FastAPI's standard list form, like any validation error."""

    status_code = 422

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class ContentTooLargeError(DomainError):
    status_code = 413
    detail = "Content too large"


class UnsupportedMediaTypeError(DomainError):
    status_code = 415
    detail = "Unsupported media type"


class ServiceUnavailableError(DomainError):
    status_code = 503
    detail = "Database unavailable"


def _error(status_code: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
    if isinstance(exc, InvalidInputError):
        error = {"type": "value_error", "loc": list(exc.loc), "msg": exc.detail}
        return _error(422, [error])
    if exc.extra:
        body = {"detail": exc.detail, **exc.extra}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    return _error(exc.status_code, exc.detail, exc.headers)


# The framework answers 400 only when it cannot parse a body at all (not UTF-8,
# nested too deep, a broken multipart form). Clients and the OpenAPI documents
# know such input as a validation error, so it is one: 422 in the standard form.
_UNPARSABLE_BODY = {
    "type": "body_invalid",
    "loc": ["body"],
    "msg": "The request body could not be parsed: send UTF-8 JSON (or the documented form)",
}


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:
        return _error(422, [_UNPARSABLE_BODY])
    return _error(exc.status_code, exc.detail, getattr(exc, "headers", None))


def _redact(value: object) -> object:
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items() if k not in SENSITIVE_FIELDS}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _scrub(error: dict) -> dict:
    """No response ever carries a password: not even the client's own, echoed back.
    An error about the body as a whole (a form-encoded or bare-string body where an
    object belongs) would echo all of it, password included: its input is dropped."""
    loc = tuple(str(part) for part in error.get("loc", ()))
    whole_body = loc == ("body",) or isinstance(error.get("input"), bytes | bytearray)
    if whole_body or SENSITIVE_FIELDS.intersection(loc):
        return {key: value for key, value in error.items() if key not in ("input", "ctx")}
    if "input" in error:
        error = {**error, "input": _redact(error["input"])}
    return error


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_scrub(error) for error in exc.errors()]
    # Raw bytes never reach a response (see _scrub); should one slip into `ctx`,
    # its size is said rather than its content.
    encoders = {bytes: lambda raw: f"<{len(raw)} bytes>"}
    return _error(422, jsonable_encoder(errors, custom_encoder=encoders))


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s", exc.__class__.__name__)
    return _error(503, ServiceUnavailableError.detail, {"Retry-After": "5"})


async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
    if is_refused_value(exc):
        # A value the API let through but the database refused: still the
        # client's input, so a 422. Logged: it means validation has a gap.
        logger.warning("database refused a value: %s", exc.orig)
        error = {"type": "value_error", "loc": ["request"], "msg": "A value was not accepted"}
        return _error(422, [error])
    if is_retryable(exc):
        logger.warning("database conflict, client asked to retry: %s", exc.orig)
        return _error(503, "Database busy; retry the request", {"Retry-After": "1"})
    if exc.connection_invalidated or isinstance(exc, OperationalError):
        return await _database_unavailable(request, exc)
    logger.exception("unexpected database error")
    return _error(500, "Internal server error")


async def _overtaken(_: Request, exc: RerunUnit) -> JSONResponse:
    # Every re-run was overtaken again: the same answer as a deadlock's.
    logger.warning("unit of work overtaken on every attempt")
    return _error(503, "Database busy; retry the request", {"Retry-After": "1"})


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return _error(500, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(RerunUnit, _overtaken)
    app.add_exception_handler(Exception, _unexpected)
