"""Subsonic's errors: a code and a message inside the `subsonic-response` envelope.

The codes are the OpenSubsonic reference's (Responses/error.md). A protocol error
is answered with HTTP 200, as every Subsonic client expects (API.md, OpenSubsonic
facade); only a fault of ours or of a service behind us (503) keeps its HTTP status
so load balancers and monitors see it.
"""

from __future__ import annotations

GENERIC = 0
MISSING_PARAMETER = 10
WRONG_CREDENTIALS = 40
TOKEN_AUTH_UNSUPPORTED = 41
AUTH_MECHANISM_UNSUPPORTED = 42
CONFLICTING_AUTH = 43
INVALID_API_KEY = 44
NOT_AUTHORIZED = 50
NOT_FOUND = 70


class SubsonicError(Exception):
    """An error the client gets as `{"status": "failed", "error": {code, message}}`.

    `http_status` stays 200 for protocol errors; `headers` (Retry-After) go out
    beside the envelope; `help_url` becomes the error's `helpUrl` (OpenSubsonic)."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        http_status: int = 200,
        headers: dict[str, str] | None = None,
        help_url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.headers = headers or {}
        self.help_url = help_url


def missing(name: str) -> SubsonicError:
    """Error 10 naming the parameter."""
    return SubsonicError(MISSING_PARAMETER, f"Required parameter is missing: {name}")


def invalid(name: str, expected: str) -> SubsonicError:
    """Error 0 for a parameter present but unusable (Subsonic has no code of its own)."""
    return SubsonicError(GENERIC, f"Invalid parameter {name}: expected {expected}")


def not_found(what: str) -> SubsonicError:
    """Error 70."""
    return SubsonicError(NOT_FOUND, f"{what} not found")


def not_authorized(
    message: str = "User is not authorized for the given operation",
) -> SubsonicError:
    """Error 50."""
    return SubsonicError(NOT_AUTHORIZED, message)
