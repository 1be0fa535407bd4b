"""`python -m user_service.admin`: create or promote the admin from ADMIN_EMAIL / ADMIN_PASSWORD."""

from __future__ import annotations

import sys

from common.passwords import PasswordHasher
from common.settings import get_settings
from database import Database
from user_service.repos.sql import SqlUserRepository
from user_service.services.admin import ensure_admin


def main() -> int:
    settings = get_settings()
    if not (settings.admin_email and settings.admin_password):
        print("Set ADMIN_EMAIL and ADMIN_PASSWORD (environment or .env) first.", file=sys.stderr)
        return 2
    database = Database(settings.sqlalchemy_url)
    try:
        admin = ensure_admin(
            SqlUserRepository(database),
            PasswordHasher(settings.bcrypt_rounds),
            email=settings.admin_email,
            password=settings.admin_password.get_secret_value(),
            username=settings.admin_username,
        )
    except ValueError as exc:  # the username belongs to someone else: say so, no traceback
        print(exc, file=sys.stderr)
        return 2
    finally:
        database.dispose()
    print(f"admin ready: id={admin.id} email={admin.email}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
