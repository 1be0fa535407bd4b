"""HTTP for accounts: translate requests to UserService calls, nothing more.

Every service call goes through `in_database`. The bcrypt work (sign-up, password
and email changes) is in POST/PUT/PATCH handlers, which it always runs in the
threadpool; the GET handlers only read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from common.auth import AdminUser, CurrentUser
from common.client_address import client_address
from common.db import in_database
from common.paging import Page, PageParams, page_params
from common.responses import page_response
from common.schemas import NO_NUL, ResourceId, error_responses
from user_service.dependencies import user_service
from user_service.schemas import PrivateProfile, PublicProfile, SignUp, UserDeleted, UserUpdate

public = APIRouter(prefix="/users", tags=["users"])
# Every protected route names its caller (CurrentUser or AdminUser); a router-level
# guard as well would make FastAPI verify the token twice per request.
protected = APIRouter(prefix="/users", tags=["users"], responses=error_responses(401, 503))


@public.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PrivateProfile,
    responses=error_responses(409, 413, 429, 503),
    summary="Sign up",
)
async def sign_up(request: Request, body: SignUp) -> PrivateProfile:
    users = user_service(request)
    address = client_address(request)
    user = await in_database(request, lambda: users.sign_up(body, address))
    return PrivateProfile.model_validate(user)


@protected.get(
    "",
    response_model=list[PrivateProfile] | list[PublicProfile],
    summary="List users (private profiles for admins)",
)
async def list_users(
    request: Request,
    caller: CurrentUser,
    page: Annotated[PageParams, Depends(page_params)],
) -> Response:
    users = user_service(request)
    result = await in_database(request, lambda: users.list(page))
    profile = PrivateProfile if caller.is_admin else PublicProfile
    shown = [profile.model_validate(user) for user in result.items]
    return page_response(request, Page(shown, result.next_cursor), profile)


@protected.get("/me", response_model=PrivateProfile, summary="Your own profile")
async def me(request: Request, caller: CurrentUser) -> PrivateProfile:
    users = user_service(request)
    user = await in_database(request, lambda: users.get(caller.user_id))
    return PrivateProfile.model_validate(user)


@protected.get(
    "/email/{email}",
    response_model=PrivateProfile,
    responses=error_responses(403, 404),
    summary="Find a user by email (admin)",
)
async def get_by_email(
    request: Request,
    email: Annotated[str, Path(max_length=254, pattern=NO_NUL)],
    _: AdminUser,
) -> PrivateProfile:
    users = user_service(request)
    user = await in_database(request, lambda: users.get_by_email(email))
    return PrivateProfile.model_validate(user)


@protected.get(
    "/{user_id}",
    response_model=PrivateProfile | PublicProfile,
    responses=error_responses(404),
    summary="A profile: private for yourself and admins, public otherwise",
)
async def get_user(
    request: Request, user_id: ResourceId, caller: CurrentUser
) -> PrivateProfile | PublicProfile:
    users = user_service(request)
    user = await in_database(request, lambda: users.get(user_id))
    if caller.is_admin or caller.user_id == user_id:
        return PrivateProfile.model_validate(user)
    return PublicProfile.model_validate(user)


_UPDATE = {
    "response_model": PrivateProfile,
    "responses": error_responses(403, 404, 409, 413),
    "summary": "Update a profile (partial; yourself or admin)",
}


@protected.put("/{user_id}", **_UPDATE)
@protected.patch("/{user_id}", **_UPDATE)
async def update_user(
    request: Request,
    user_id: ResourceId,
    body: UserUpdate,
    caller: CurrentUser,
) -> PrivateProfile:
    users = user_service(request)
    updated = await in_database(request, lambda: users.update(caller, user_id, body))
    return PrivateProfile.model_validate(updated)


@protected.delete(
    "/{user_id}",
    response_model=UserDeleted,
    responses=error_responses(403, 404),
    summary="Delete an account and its likes (yourself or admin)",
)
async def delete_user(request: Request, user_id: ResourceId, caller: CurrentUser) -> UserDeleted:
    users = user_service(request)
    await in_database(request, lambda: users.delete(caller, user_id))
    return UserDeleted()
