"""HTTP for third-party credentials (API.md, Third-party credentials): a user's
API keys and app password, and their exchange for an access token.

`router` is the user's own management (any valid access token, in Swagger);
`exchange` is the internal endpoint subsonic_service calls: public, not routed by
the gateway. Handlers only translate; ThirdPartyService holds the rules.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from auth_service.dependencies import third_party_service
from auth_service.repos.base import ApiKeyRecord
from auth_service.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    AppPasswordCreated,
    AppPasswordOut,
    SubsonicTokenRequest,
    SubsonicTokenResponse,
)
from auth_service.services.third_party import Exchanged
from common.auth import CurrentUser
from common.client_address import client_address
from common.db import in_database
from common.schemas import ResourceId, error_responses

router = APIRouter(prefix="/auth", tags=["credentials"], responses=error_responses(401, 503))
exchange = APIRouter(prefix="/auth", tags=["credentials"])


def _key_out(record: ApiKeyRecord) -> ApiKeyOut:
    return ApiKeyOut(
        id=record.id,
        name=record.name,
        hint=record.hint,
        created_at=record.created_at,
        last_used_at=record.last_used_at,
    )


@router.get("/api-keys", response_model=list[ApiKeyOut], summary="List your API keys")
async def list_api_keys(request: Request, caller: CurrentUser) -> list[ApiKeyOut]:
    """Your API keys, oldest first: `[{id, name, hint, created_at, last_used_at}]`
    (at most 50, so one page). The keys themselves cannot be shown again; `hint`
    is each key's first characters."""
    service = third_party_service(request)
    records = await in_database(request, lambda: service.list_api_keys(caller.user_id))
    return [_key_out(record) for record in records]


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 413),
    summary="Create an API key (shown once)",
)
async def create_api_key(
    request: Request, body: ApiKeyCreate, caller: CurrentUser
) -> ApiKeyCreated:
    """A new API key for Subsonic apps (OpenSubsonic `apiKey`): 201 with the key's
    listing and `key`, which is shown only in this answer (it is stored as an
    HMAC). 409 beyond 50 keys."""
    service = third_party_service(request)
    created = await in_database(request, lambda: service.create_api_key(caller.user_id, body.name))
    return ApiKeyCreated(**_key_out(created.record).model_dump(), key=created.key)


@router.delete(
    "/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(404),
    summary="Revoke one of your API keys",
)
async def delete_api_key(request: Request, key_id: ResourceId, caller: CurrentUser) -> Response:
    """204: the key stops working at once. 404 when it is not one of your keys
    (an admin cannot see or revoke another user's)."""
    service = third_party_service(request)
    await in_database(request, lambda: service.delete_api_key(caller.user_id, key_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/app-password",
    response_model=AppPasswordOut,
    responses=error_responses(404),
    summary="Whether you have an app password",
)
async def get_app_password(request: Request, caller: CurrentUser) -> AppPasswordOut:
    """`{username, created_at}` of your app password (never the password); 404
    when you have none."""
    service = third_party_service(request)
    info = await in_database(request, lambda: service.app_password(caller.user_id))
    return AppPasswordOut(username=info.username, created_at=info.created_at)


@router.post(
    "/app-password",
    response_model=AppPasswordCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Make a new app password for Subsonic apps (shown once)",
)
async def create_app_password(request: Request, caller: CurrentUser) -> AppPasswordCreated:
    """A new random app password, replacing any earlier one (which stops working
    at once): 201 `{username, password, created_at}`. Subsonic apps log in with
    `username` and this password (`u`+`p`, or `u`+`t`+`s`); it is not your login
    password, is stored encrypted and is shown only in this answer."""
    service = third_party_service(request)
    created = await in_database(request, lambda: service.create_app_password(caller.user_id))
    return AppPasswordCreated(
        username=created.username, password=created.password, created_at=created.created_at
    )


@router.delete(
    "/app-password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete your app password",
)
async def delete_app_password(request: Request, caller: CurrentUser) -> Response:
    """204, whether or not you had one: Subsonic apps using it are refused from now on."""
    service = third_party_service(request)
    await in_database(request, lambda: service.delete_app_password(caller.user_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@exchange.post(
    "/subsonic/token",
    response_model=SubsonicTokenResponse,
    responses=error_responses(401, 413, 429, 503),
    summary="Exchange Subsonic credentials for an access token (internal)",
)
async def subsonic_token(request: Request, body: SubsonicTokenRequest) -> SubsonicTokenResponse:
    """For subsonic_service, not routed by the gateway. Exactly one of
    `{"api_key"}`, `{"username", "password"}` (the app password in clear),
    `{"username", "token", "salt"}` (token = md5(app password + salt), Subsonic API
    1.13); anything else is a 422. 200 `{access_token, expires_in, user_id,
    username, role}` (no refresh token); 401 for wrong credentials, an unknown
    user and a user without an app password alike; 429 with Retry-After when the
    (client address, username) pair, or the address's API key attempts, failed too
    often (login's throttle). The client address is uvicorn's: subsonic_service
    forwards its caller's in X-Forwarded-For, believed from FORWARDED_ALLOW_IPS."""
    service = third_party_service(request)
    address = client_address(request)
    if body.api_key is not None:
        api_key = body.api_key
        exchanged = await in_database(request, lambda: service.exchange_api_key(api_key, address))
    elif body.password is not None:
        username, password = body.username or "", body.password
        exchanged = await in_database(
            request, lambda: service.exchange_password(username, password, address)
        )
    else:
        username, token, salt = body.username or "", body.token or "", body.salt or ""
        exchanged = await in_database(
            request, lambda: service.exchange_token(username, token, salt, address)
        )
    return _token_response(exchanged)


def _token_response(exchanged: Exchanged) -> SubsonicTokenResponse:
    return SubsonicTokenResponse(
        access_token=exchanged.access.token,
        expires_in=exchanged.access.expires_in,
        user_id=exchanged.user_id,
        username=exchanged.username,
        role=exchanged.role,  # type: ignore[arg-type]
    )
