"""`python -m database migrate [--url URL] [--create] [--wait SECONDS]`: bring the schema
to the newest revision; `--create` first creates the database on its server when missing
(SQL Server, PostgreSQL), waiting up to SECONDS for the server to accept connections.
`python -m database sql --url URL`: print the migration as a SQL script instead.
`python -m database check [--url URL] [--wait SECONDS]`: exit 0 once the schema is at the
newest revision, 1 if it is not within SECONDS (a Kubernetes initContainer waits on it
for the migration Job)."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, make_url

from database.create import ensure_database
from database.diagnose import describe
from database.engine import create_database_engine
from database.migrate import alembic_config, downgrade, offline_sql, upgrade
from database.settings import get_database_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m database")
    parser.add_argument("command", choices=["migrate", "downgrade", "sql", "check"])
    parser.add_argument("--url", help="database URL (default: from settings / .env)")
    parser.add_argument("--revision", default=None)
    parser.add_argument(
        "--create", action="store_true", help="migrate: create the database first if missing"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="--create: seconds to wait for the server; check: for the schema to be current",
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
    elif args.command == "check":
        url = args.url or configured.render_as_string(hide_password=False)
        if not wait_until_current(url, args.wait):
            raise SystemExit(1)
    else:
        downgrade(args.url, args.revision or "base")


# Between two looks while `check --wait` waits: a migration takes seconds at least.
CHECK_INTERVAL_SECONDS = 2.0


def schema_revisions(url: str) -> tuple[set[str], set[str], set[str]]:
    """(the revisions the database is at, the newest revisions the code has, every
    revision the code knows)."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    heads = set(scripts.get_heads())
    known = {revision.revision for revision in scripts.walk_revisions()}
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return current, heads, known


def wait_until_current(url: str, wait_seconds: float) -> bool:
    """True once the schema is at head; False when it is not after `wait_seconds`
    (0: one look). A server not up yet is only a reason to look again until then."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            current, heads, known = schema_revisions(url)
            # At head, or past it: a revision this code does not know is a newer
            # release's (an older pod restarting, or a rollback, after the migration
            # Job of the newer one), whose migrations keep the older code working.
            if current == heads or (current and not current & known):
                logging.getLogger(__name__).info("schema is current: %s", ", ".join(current))
                return True
            state = f"at {', '.join(sorted(current)) or 'no revision'}, newest {', '.join(heads)}"
        except Exception as exc:
            if time.monotonic() >= deadline:
                raise
            state = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:200]}"
        if time.monotonic() >= deadline:
            print(f"schema is not current: {state}", file=sys.stderr)
            return False
        logging.getLogger(__name__).info("waiting for the migration: %s", state)
        time.sleep(CHECK_INTERVAL_SECONDS)


if __name__ == "__main__":
    main()
