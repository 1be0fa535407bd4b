"""`python -m database migrate [--url URL] [--create] [--wait SECONDS]`: bring the schema
to the newest revision; `--create` first creates the database on its server when missing
(SQL Server, PostgreSQL), waiting up to SECONDS for the server to accept connections.
`python -m database sql --url URL`: print the migration as a SQL script instead."""

from __future__ import annotations

import argparse
import logging

from sqlalchemy import make_url

from common.settings import get_settings
from database.create import ensure_database
from database.migrate import downgrade, offline_sql, upgrade


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
    if args.command == "sql":
        url = args.url or get_settings().sqlalchemy_url.render_as_string(hide_password=False)
        print(offline_sql(url, args.revision or "head"))
    elif args.command == "migrate":
        if args.create:
            ensure_database(
                make_url(args.url) if args.url else get_settings().sqlalchemy_url, args.wait
            )
        upgrade(args.url, args.revision or "head")
    else:
        downgrade(args.url, args.revision or "base")


if __name__ == "__main__":
    main()
