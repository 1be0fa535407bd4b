"""`python -m user_service.admin [--if-configured]`: the admin from ADMIN_EMAIL /
ADMIN_PASSWORD (user_service.services.admin), once per fleet: `make run` and the
compose `admin` job run it before the services start, `make admin` on its own.

Without ADMIN_EMAIL and ADMIN_PASSWORD it fails, unless `--if-configured` (the
setup steps), which then does nothing. Problems are one line on stderr."""

from __future__ import annotations

import argparse
import functools
import sys

from sqlalchemy import URL

from common.passwords import PasswordHasher
from common.settings import Settings, get_settings
from common.startup import run_step
from database import Database
from database.diagnose import describe
from user_service.repos.sql import SqlUserUnitOfWork
from user_service.services.admin import AdminBootstrap, ensure_admin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m user_service.admin", description=__doc__)
    parser.add_argument(
        "--if-configured",
        action="store_true",
        help="do nothing (exit 0) when ADMIN_EMAIL and ADMIN_PASSWORD are not both set",
    )
    args = parser.parse_args(argv)
    settings = run_step(get_settings, lambda exc: describe(exc, None))
    if not (settings.admin_email and settings.admin_password):
        if args.if_configured and not (settings.admin_email or settings.admin_password):
            print("no admin configured (ADMIN_EMAIL, ADMIN_PASSWORD): none created")
            return 0
        print("Set both ADMIN_EMAIL and ADMIN_PASSWORD (environment or .env).", file=sys.stderr)
        return 2
    done = run_step(lambda: bootstrap(settings), lambda exc: describe(exc, _url(settings)))
    print(f"admin {done.admin.email} (id {done.admin.id}): {done.outcome}")
    return 0


def bootstrap(settings: Settings) -> AdminBootstrap:
    database = Database(settings.sqlalchemy_url)
    try:
        return ensure_admin(
            functools.partial(SqlUserUnitOfWork, database),
            PasswordHasher(settings.bcrypt_rounds),
            email=settings.admin_email or "",
            password=settings.admin_password.get_secret_value() if settings.admin_password else "",
            username=settings.admin_username,
            reset_password=settings.admin_reset_password,
        )
    finally:
        database.dispose()


def _url(settings: Settings) -> str | URL:
    return settings.database_url or settings.sqlalchemy_url


if __name__ == "__main__":
    sys.exit(main())
