"""session versions: refresh tokens die with a password, email or role change

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 18:30:00

`users.session_version` is bumped by every credential or role change, and each
refresh token records the version it was issued under; a refresh with an older
one is refused (API.md, Sessions). Existing rows start at 0 on both sides, so
every session alive before the upgrade stays alive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("users", "refresh_tokens")


# Plain ALTER TABLE on every backend, SQLite (3.35+) included: a batch rebuild of
# `users` there would drop the table, and with it, through the cascading foreign
# keys, every like and refresh token.


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_column(table, "session_version", mssql_drop_default=True)
