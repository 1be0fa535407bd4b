"""How user_service's handlers get their service."""

from __future__ import annotations

import functools

from fastapi import FastAPI, Request

from user_service.repos.signups import SqlSignUpUnitOfWork
from user_service.repos.sql import SqlUserUnitOfWork
from user_service.services.signups import SignUpThrottle
from user_service.services.users import UserService


def build_user_service(app: FastAPI) -> UserService:
    """The service on the process's Database with the app's hasher, made once at
    start-up (after the hasher): it holds no per-request state."""
    state = app.state
    signups = SignUpThrottle.from_settings(
        state.settings, functools.partial(SqlSignUpUnitOfWork, state.database)
    )
    return UserService(functools.partial(SqlUserUnitOfWork, state.database), state.hasher, signups)


def user_service(request: Request) -> UserService:
    """The app's UserService (tests put their own in its place); a call rather
    than a FastAPI dependency, as song_service.dependencies explains."""
    return request.app.state.service
