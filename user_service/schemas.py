"""Request and response bodies of user_service. No response model has a password field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    StringConstraints,
)

from common.schemas import ApiInput, ApiModel, PartialUpdate, non_blank_text
from common.tokens import Role
from database.text import canonical_email

Username = Annotated[
    str,
    StringConstraints(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9._-]+$"),
    # Stored lower-cased so uniqueness means the same on every database.
    AfterValidator(str.lower),
]
# Canonical before and after validation: trimmed, NFC, lower-cased (API.md, Text:
# Identity), so a padded or decomposed address is the same account everywhere.
Email = Annotated[
    EmailStr,
    BeforeValidator(lambda value: canonical_email(value) if isinstance(value, str) else value),
    Field(max_length=254),
    AfterValidator(canonical_email),
]
Password = Annotated[str, Field(min_length=8, max_length=128)]
Name = non_blank_text(255)


class SignUp(ApiInput):
    # Unknown fields (role, id, created_at, ...) are ignored: sign-up always makes a user.
    username: Username
    email: Email
    password: Password
    first_name: Name
    last_name: Name | None = None


class UserUpdate(PartialUpdate):
    """A partial update: only the fields sent are changed."""

    not_nullable = ("username", "email", "password", "first_name", "role")

    username: Username | None = None
    email: Email | None = None
    password: Password | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    role: Role | None = None
    current_password: Annotated[str, Field(max_length=128)] | None = Field(
        default=None, description="Needed to change your own email or password"
    )


class PublicProfile(ApiModel):
    id: int
    username: str
    first_name: str
    last_name: str | None
    created_at: datetime


class PrivateProfile(PublicProfile):
    email: str
    role: Role
    updated_at: datetime


class UserDeleted(BaseModel):
    detail: Literal["User deleted"] = "User deleted"
