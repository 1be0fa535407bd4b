"""Request and response bodies of auth_service. No response model has a login
password or hash field; an app password (a separate, random credential for Subsonic
apps) appears once, in AppPasswordCreated."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, model_validator

from common.schemas import NO_NUL, ApiInput, ApiModel, non_blank_text
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


# Third-party credentials (API.md, Third-party credentials). No model has a field
# for a key's HMAC or an app password's ciphertext; the key and the password
# appear once, in the answer to the POST that made them.

ApiKeyName = non_blank_text(100)


class ApiKeyCreate(ApiInput):
    name: ApiKeyName = Field(description="Your label for the key, e.g. the app it is for")


class ApiKeyOut(ApiModel):
    id: int
    name: str
    hint: str = Field(description="The key's first characters, to tell keys apart")
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="The last exchange with this key (updated at most once a minute)"
    )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(
        description="The API key (OpenSubsonic `apiKey`). Shown only now: it is stored "
        "as an HMAC and can never be read again."
    )


class AppPasswordOut(BaseModel):
    username: str = Field(description="The username Subsonic apps log in with (`u`)")
    created_at: datetime


class AppPasswordCreated(AppPasswordOut):
    password: str = Field(
        description="The app password (Subsonic `p`, or `t`+`s` from it). Shown only now; "
        "not your login password."
    )


# Caps only stop absurd input early; a value within them that is wrong is a 401.
SubsonicUsername = Annotated[str, Field(min_length=1, max_length=254)]
SubsonicSecret = Annotated[str, Field(min_length=1, max_length=256)]


class SubsonicTokenRequest(ApiInput):
    """Exactly one scheme: `api_key` alone, `username` + `password`, or `username`
    + `token` + `salt`; anything else is a 422."""

    api_key: SubsonicSecret | None = Field(default=None, description="OpenSubsonic `apiKey`")
    username: SubsonicUsername | None = Field(default=None, description="Subsonic `u`")
    password: LoginPassword | None = Field(
        default=None,
        description="Subsonic `p`, in clear: subsonic_service decodes `enc:` hex first",
        json_schema_extra={"format": "password"},
    )
    token: SubsonicSecret | None = Field(
        default=None, description="Subsonic `t`: md5(app password + salt), hex"
    )
    salt: SubsonicSecret | None = Field(default=None, description="Subsonic `s`")

    @model_validator(mode="after")
    def _one_scheme(self) -> Self:
        sent = frozenset(
            name
            for name in ("api_key", "username", "password", "token", "salt")
            if getattr(self, name) is not None
        )
        if sent not in SUBSONIC_SCHEMES:
            raise ValueError(
                "send exactly one of: api_key; username and password; username, token and salt"
            )
        return self


SUBSONIC_SCHEMES = (
    frozenset({"api_key"}),
    frozenset({"username", "password"}),
    frozenset({"username", "token", "salt"}),
)


class SubsonicTokenResponse(BaseModel):
    access_token: str = Field(description="An ordinary access token (no refresh token)")
    expires_in: int = Field(description="Seconds until the access token expires")
    user_id: int
    username: str
    role: Role
