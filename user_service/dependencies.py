"""The injectable pieces of user_service, declared once as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from user_service.repos.sql import SqlUserRepository
from user_service.services.users import UserService


async def get_user_service(request: Request) -> UserService:
    # The repository takes a connection per unit of work from the process's
    # Database, so the service holds no per-request state; one dependency rather
    # than a chain, since FastAPI solves every level on every request.
    state = request.app.state
    return UserService(SqlUserRepository(state.database), state.hasher)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
