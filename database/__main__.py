"""`python -m database migrate [--url URL]`: bring the schema to the newest revision.
`python -m database sql --url URL`: print the migration as a SQL script instead."""

from __future__ import annotations

import argparse
import logging

from common.settings import get_settings
from database.migrate import downgrade, offline_sql, upgrade


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m database")
    parser.add_argument("command", choices=["migrate", "downgrade", "sql"])
    parser.add_argument("--url", help="database URL (default: from settings / .env)")
    parser.add_argument("--revision", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")
    if args.command == "sql":
        url = args.url or get_settings().sqlalchemy_url.render_as_string(hide_password=False)
        print(offline_sql(url, args.revision or "head"))
    elif args.command == "migrate":
        upgrade(args.url, args.revision or "head")
    else:
        downgrade(args.url, args.revision or "base")


if __name__ == "__main__":
    main()
