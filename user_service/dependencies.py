"""The injectable pieces of user_service, declared once as Annotated aliases."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import Depends, Request

from user_service.repos.signups import SqlSignUpUnitOfWork
from user_service.repos.sql import SqlUserUnitOfWork
from user_service.services.signups import SignUpThrottle
from user_service.services.users import UserService


async def get_user_service(request: Request) -> UserService:
    # The service opens a unit of work per use case on the process's Database, so
    # it holds no per-request state; one dependency rather than a chain, since
    # FastAPI solves every level on every request.
    state = request.app.state
    signups = SignUpThrottle.from_settings(
        state.settings, functools.partial(SqlSignUpUnitOfWork, state.database)
    )
    return UserService(functools.partial(SqlUserUnitOfWork, state.database), state.hasher, signups)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
