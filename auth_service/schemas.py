"""Request and response bodies of auth_service. No response model has a password field."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from common.schemas import NO_NUL, ApiInput
from common.tokens import Role

# Login takes any string as the email: an address that could never be registered just
# fails with 401 like any other. The caps keep hashing and throttle keys bounded.
LoginEmail = Annotated[str, Field(max_length=254)]
LoginPassword = Annotated[str, Field(max_length=128)]
# token_urlsafe(32) is 43 characters; the cap only stops absurd input early.
RefreshTokenValue = Annotated[str, Field(min_length=1, max_length=256)]


class LoginRequest(ApiInput):
    email: LoginEmail
    password: LoginPassword


class PasswordForm(OAuth2PasswordRequestForm):
    """The standard OAuth2 password form with the same length caps as JSON login."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form(max_length=254, pattern=NO_NUL, description="Your email")],
        password: Annotated[str, Form(max_length=128, json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class RefreshRequest(ApiInput):
    refresh_token: RefreshTokenValue


class LogoutRequest(ApiInput):
    refresh_token: RefreshTokenValue


class LoginResponse(BaseModel):
    auth_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name
    expires_in: int = Field(description="Seconds until the access token expires")
    user_id: int
    role: Role
    refresh_token: str


class TokenResponse(BaseModel):
    """RFC 6749 field names, as OAuth2 clients (Swagger's Authorize) expect."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name
    expires_in: int
    refresh_token: str


class VerifyResponse(BaseModel):
    valid: Literal[True] = True
    user_id: int
    role: Role
    exp: int


class Jwks(BaseModel):
    keys: list[dict[str, str]]
