"""Calls from the facade to the services that own what a Subsonic method changes.

subsonic_service writes no table (README, ownership): a star is the owner's like,
a scrobble song_service's play, a playlist edit song_service's, a scan
song_service's — each then runs in the owner's unit of work with its locks and
rules. The caller's access token goes along, so the owner applies its own access
rules too. The owners' answers become Subsonic errors here, once:

| owner says | Subsonic error |
|---|---|
| 404 | 70 not found |
| 403 | 50 not authorized |
| 401 | 40 wrong credentials |
| 400, 409, 413, 422 | 0 with the owner's detail |
| 429 | 0, `Retry-After` passed on |
| unreachable, timeout, 5xx | 0 with HTTP 503 and `Retry-After` |
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import httpx

from common.settings import Settings
from subsonic_service.errors import (
    GENERIC,
    NOT_AUTHORIZED,
    NOT_FOUND,
    WRONG_CREDENTIALS,
    SubsonicError,
)

logger = logging.getLogger(__name__)
Service = Literal["auth", "album", "song"]
TIMEOUT_SECONDS = 10.0
UNAVAILABLE_RETRY_SECONDS = "5"


class Upstream:
    """One pooled HTTP client for the facade's calls to auth, album and song service."""

    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._bases: dict[Service, str] = {
            "auth": settings.auth_service_url.rstrip("/"),
            "album": settings.album_service_url.rstrip("/"),
            "song": settings.song_service_url.rstrip("/"),
        }
        self._client = httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS,
            transport=transport,
            # Connections to three neighbours; keep-alive saves a handshake per call.
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def exchange(
        self, body: dict[str, str], client: str, wrong: SubsonicError
    ) -> dict[str, Any]:
        """Subsonic credentials → auth_service's access token (its JSON answer);
        `wrong` when auth_service refuses them. `client` (the caller's address) goes
        as X-Forwarded-For: auth_service throttles by it when it trusts this hop
        (FORWARDED_ALLOW_IPS)."""
        response = await self._send(
            "auth", "POST", "/auth/subsonic/token", json=body,
            headers={"X-Forwarded-For": client},
        )  # fmt: skip
        # 422: credentials auth_service cannot even read (a key longer than any it
        # issues, a NUL) are wrong ones to the app, not a generic error.
        if response.status_code in (401, 422):
            raise wrong
        _raise_for(response, "auth")
        return response.json()

    async def call(
        self,
        service: Service,
        method: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One call to an owning service as the caller; its answer when 2xx, else the
        Subsonic error the module table gives."""
        response = await self._send(
            service, method, path, json=json, params=params,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        _raise_for(response, service)
        return response

    async def _send(
        self, service: Service, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        try:
            return await self._client.request(method, self._bases[service] + path, **kwargs)
        except httpx.HTTPError as exc:
            logger.warning("%s_service unreachable: %s", service, exc.__class__.__name__)
            raise _unavailable(service) from None


def _unavailable(service: str) -> SubsonicError:
    return SubsonicError(
        GENERIC,
        f"The {service} service is unavailable; try again shortly",
        http_status=503,
        headers={"Retry-After": UNAVAILABLE_RETRY_SECONDS},
    )


def _detail(response: httpx.Response) -> str:
    """The owner's human sentence: its `detail`, or the first validation message."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg", "Invalid request"))
    return str(detail) if detail else f"HTTP {response.status_code}"


def _raise_for(response: httpx.Response, service: str) -> None:
    status = response.status_code
    if status < 300:
        return
    if status == 404:
        raise SubsonicError(NOT_FOUND, _detail(response))
    if status == 403:
        raise SubsonicError(NOT_AUTHORIZED, _detail(response))
    if status == 401:
        raise SubsonicError(WRONG_CREDENTIALS, _detail(response))
    if status == 429:
        retry = response.headers.get("Retry-After", "1")
        raise SubsonicError(GENERIC, _detail(response), headers={"Retry-After": retry})
    if status >= 500:
        logger.warning("%s_service answered %d", service, status)
        raise _unavailable(service)
    raise SubsonicError(GENERIC, _detail(response))
