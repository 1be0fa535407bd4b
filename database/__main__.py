"""`python -m database migrate [--url URL] [--create] [--wait SECONDS]`: bring the schema
to the newest revision; `--create` first creates the database on its server when missing
(SQL Server, PostgreSQL), waiting up to SECONDS for the server to accept connections.
`python -m database sql --url URL`: print the migration as a SQL script instead."""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import URL, make_url

from database.create import ensure_database
from database.diagnose import describe
from database.migrate import downgrade, offline_sql, upgrade
from database.settings import get_database_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m database")
    parser.add_argument("command", choices=["migrate", "downgrade", "sql"])
    parser.add_argument("--url", help="database URL (default: from settings / .env)")
    parser.add_argument("--revision", default=None)
    parser.add_argument(
        "--create", action="store_true", help="migrate: create the database first if missing"
    )
    parser.add_argument(
        "--wait", type=float, default=0.0, help="--create: seconds to wait for the server"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")
    try:
        run(args)
    except Exception as exc:
        # A bad DATABASE_URL, a server that is not there, a folder that cannot be
        # written: one line with the cause and the fix, not the driver's traceback.
        line = describe(exc, args.url or _configured_url())
        if line is None:
            raise
        print(line, file=sys.stderr)
        raise SystemExit(1) from None


def _configured_url() -> str | URL | None:
    try:
        settings = get_database_settings()
        return settings.database_url or settings.sqlalchemy_url
    except Exception:  # the settings themselves are what is wrong; describe() says so
        return None


def run(args: argparse.Namespace) -> None:
    configured = get_database_settings().sqlalchemy_url
    if args.command == "sql":
        url = args.url or configured.render_as_string(hide_password=False)
        print(offline_sql(url, args.revision or "head"))
    elif args.command == "migrate":
        if args.create:
            ensure_database(make_url(args.url) if args.url else configured, args.wait)
        upgrade(args.url, args.revision or "head")
    else:
        downgrade(args.url, args.revision or "base")


if __name__ == "__main__":
    main()
