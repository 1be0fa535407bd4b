"""The first admin, from ADMIN_EMAIL / ADMIN_PASSWORD (API.md): created when
missing, or promoted (and given that password) when the email belongs to an
account that is not an admin yet. An existing admin keeps the password they chose
through the API unless ADMIN_RESET_PASSWORD=true asks for the one in settings.

It runs once per fleet, as a setup step (`python -m user_service.admin`: `make
run`, the compose `admin` job), never in the services' workers. Safe to run from
several processes at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from common.passwords import PasswordHasher
from common.startup import StartupError
from database.text import canonical_email
from user_service.repos.base import DuplicateUserError, NewUser, UserRecord, UserUnitOfWork

logger = logging.getLogger(__name__)

MIN_ADMIN_PASSWORD = 12
MAX_PASSWORD = 128
# The value .env.example ships with: anyone who has read it knows it.
PLACEHOLDER_PASSWORDS = frozenset({"change-me-please-123"})


class AdminPasswordError(StartupError):
    """ADMIN_PASSWORD that must not become an admin's password."""


class AdminUsernameError(StartupError, ValueError):
    """ADMIN_USERNAME belongs to another account."""


def check_admin_password(password: str) -> None:
    """AdminPasswordError (one line, saying what to do) for the .env.example
    placeholder, a password under 12 characters, or one over 128."""
    if password in PLACEHOLDER_PASSWORDS:
        raise AdminPasswordError(
            "ADMIN_PASSWORD is the placeholder from .env.example, which anyone can read: "
            f"set your own in .env ({MIN_ADMIN_PASSWORD} characters or more), or remove "
            "ADMIN_EMAIL and ADMIN_PASSWORD to start without an admin"
        )
    if len(password) < MIN_ADMIN_PASSWORD:
        raise AdminPasswordError(
            f"ADMIN_PASSWORD has {len(password)} characters: an admin's needs "
            f"{MIN_ADMIN_PASSWORD} or more (set it in .env or the environment)"
        )
    if len(password) > MAX_PASSWORD:
        raise AdminPasswordError(f"ADMIN_PASSWORD has more than {MAX_PASSWORD} characters")


@dataclass(frozen=True)
class AdminBootstrap:
    admin: UserRecord
    outcome: str  # "created", "promoted", "password reset" or "unchanged"


def ensure_admin(
    unit: Callable[..., UserUnitOfWork],
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    username: str,
    reset_password: bool = False,
) -> AdminBootstrap:
    """The admin account and what was done to it; AdminUsernameError when the
    username belongs to another account, AdminPasswordError for a password that
    must not be an admin's."""
    check_admin_password(password)
    email = canonical_email(email)
    password_hash = hasher.hash(password)  # before any unit: bcrypt holds no lock
    for _ in range(2):  # a second pass covers losing a creation race to another process
        try:
            with unit(write=True) as uow:
                result = _apply(uow, email, username, password_hash, reset_password)
                uow.commit()
            logger.info("admin %s %s", email, result.outcome)
            return result
        except DuplicateUserError as exc:
            if exc.field == "username":
                raise AdminUsernameError(
                    f"ADMIN_USERNAME {username!r} belongs to another account; choose another"
                ) from exc
    raise RuntimeError(f"could not create or promote the admin {email}")


def _apply(
    uow: UserUnitOfWork, email: str, username: str, password_hash: str, reset_password: bool
) -> AdminBootstrap:
    existing = uow.users.get_by_email(email)
    if existing is not None and existing.role == "admin":
        if not reset_password:
            return AdminBootstrap(existing, "unchanged")
        changed = uow.users.update(
            existing.id, {"password_hash": password_hash}, revoke_sessions=True
        )
        if changed is not None:
            return AdminBootstrap(changed, "password reset")
    elif existing is not None:
        # Whoever signed up with this email does not keep their password as admin,
        # and their sessions end.
        promoted = uow.users.update(
            existing.id, {"role": "admin", "password_hash": password_hash}, revoke_sessions=True
        )
        if promoted is not None:
            return AdminBootstrap(promoted, "promoted")
    created = uow.users.add(
        NewUser(
            username=username.lower(),
            email=email,
            password_hash=password_hash,
            first_name="Admin",
            last_name=None,
            role="admin",
        )
    )
    return AdminBootstrap(created, "created")
