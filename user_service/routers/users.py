"""HTTP for accounts: translate requests to UserService calls, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from common.auth import AdminUser, CurrentUser, get_principal
from common.paging import (
    PageParams,
    keyset_cursor,
    page_params,
    parse_keyset_cursor,
    set_next_link,
)
from common.schemas import NO_NUL, ResourceId, error_responses
from database.keyset import Sort
from user_service.dependencies import UserServiceDep
from user_service.schemas import PrivateProfile, PublicProfile, SignUp, UserDeleted, UserUpdate

BY_ID = Sort("id")
public = APIRouter(prefix="/users", tags=["users"])
protected = APIRouter(
    prefix="/users",
    tags=["users"],
    dependencies=[Depends(get_principal)],
    responses=error_responses(401, 503),
)


@public.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PrivateProfile,
    responses=error_responses(409, 413, 503),
    summary="Sign up",
)
def sign_up(body: SignUp, users: UserServiceDep) -> PrivateProfile:
    return PrivateProfile.model_validate(users.sign_up(body))


@protected.get(
    "",
    response_model=list[PrivateProfile] | list[PublicProfile],
    summary="List users (private profiles for admins)",
)
def list_users(
    request: Request,
    response: Response,
    caller: CurrentUser,
    users: UserServiceDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> list[PrivateProfile] | list[PublicProfile]:
    after = parse_keyset_cursor(page.cursor, BY_ID, int)
    after_id = after.id if after else None
    result = users.list(after_id=after_id, offset=page.offset, limit=page.limit)
    if result.next_after_id is not None:
        next_id = result.next_after_id
        set_next_link(request, response, keyset_cursor(BY_ID, next_id, next_id))
    if caller.is_admin:
        return [PrivateProfile.model_validate(user) for user in result.users]
    return [PublicProfile.model_validate(user) for user in result.users]


@protected.get("/me", response_model=PrivateProfile, summary="Your own profile")
def me(caller: CurrentUser, users: UserServiceDep) -> PrivateProfile:
    return PrivateProfile.model_validate(users.get(caller.user_id))


@protected.get(
    "/email/{email}",
    response_model=PrivateProfile,
    responses=error_responses(403, 404),
    summary="Find a user by email (admin)",
)
def get_by_email(
    email: Annotated[str, Path(max_length=254, pattern=NO_NUL)], _: AdminUser, users: UserServiceDep
) -> PrivateProfile:
    return PrivateProfile.model_validate(users.get_by_email(email))


@protected.get(
    "/{user_id}",
    response_model=PrivateProfile | PublicProfile,
    responses=error_responses(404),
    summary="A profile: private for yourself and admins, public otherwise",
)
def get_user(
    user_id: ResourceId, caller: CurrentUser, users: UserServiceDep
) -> PrivateProfile | PublicProfile:
    user = users.get(user_id)
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
def update_user(
    user_id: ResourceId, body: UserUpdate, caller: CurrentUser, users: UserServiceDep
) -> PrivateProfile:
    return PrivateProfile.model_validate(users.update(caller, user_id, body))


@protected.delete(
    "/{user_id}",
    response_model=UserDeleted,
    responses=error_responses(403, 404),
    summary="Delete an account and its likes (yourself or admin)",
)
def delete_user(user_id: ResourceId, caller: CurrentUser, users: UserServiceDep) -> UserDeleted:
    users.delete(caller, user_id)
    return UserDeleted()
