"""`python -m database migrate [--url URL]`: bring the schema to the newest revision."""

from __future__ import annotations

import argparse
import logging

from database.migrate import downgrade, upgrade


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m database")
    parser.add_argument("command", choices=["migrate", "downgrade"])
    parser.add_argument("--url", help="database URL (default: from settings / .env)")
    parser.add_argument("--revision", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")
    if args.command == "migrate":
        upgrade(args.url, args.revision or "head")
    else:
        downgrade(args.url, args.revision or "base")


if __name__ == "__main__":
    main()
