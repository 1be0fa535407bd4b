"""The injectable pieces of user_service, declared once as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from common.db import SessionDep
from common.passwords import PasswordHasher
from user_service.repos.base import UserRepository
from user_service.repos.sql import SqlUserRepository
from user_service.services.users import UserService


async def get_user_repository(session: SessionDep) -> UserRepository:
    return SqlUserRepository(session)


async def get_password_hasher(request: Request) -> PasswordHasher:
    return request.app.state.hasher


async def get_user_service(
    users: Annotated[UserRepository, Depends(get_user_repository)],
    hasher: Annotated[PasswordHasher, Depends(get_password_hasher)],
) -> UserService:
    return UserService(users, hasher)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
