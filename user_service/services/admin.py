"""The first admin, from ADMIN_EMAIL / ADMIN_PASSWORD: created, or promoted and
given that password. Safe to run from several processes at once."""

from __future__ import annotations

import logging

from common.passwords import PasswordHasher
from user_service.repos.base import DuplicateUserError, NewUser, UserRecord, UserRepository

logger = logging.getLogger(__name__)


def ensure_admin(
    users: UserRepository,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    username: str,
) -> UserRecord:
    email = email.strip().lower()
    password_hash = hasher.hash(password)
    for _ in range(2):  # a second pass covers losing a creation race to another process
        existing = users.get_by_email(email)
        if existing is not None:
            updated = users.update(existing.id, {"role": "admin", "password_hash": password_hash})
            if updated is not None:
                logger.info("admin %s promoted and password set", email)
                return updated
            continue
        try:
            created = users.add(
                NewUser(
                    username=username.lower(),
                    email=email,
                    password_hash=password_hash,
                    first_name="Admin",
                    last_name=None,
                    role="admin",
                )
            )
        except DuplicateUserError as exc:
            if exc.field == "username":
                raise ValueError(
                    f"ADMIN_USERNAME {username!r} belongs to another account; choose another"
                ) from exc
            continue
        logger.info("admin %s created", email)
        return created
    raise RuntimeError(f"could not create or promote the admin {email}")
