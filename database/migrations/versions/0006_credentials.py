"""credentials: API keys and app passwords for third-party (Subsonic) clients

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00

API.md, Third-party credentials (round 2), owned by auth_service:

- `api_keys`: a user's named keys, each stored only as the hex HMAC-SHA256 of the
  key under the credentials secret (unique: a key is found by it), with a short
  hint and when it was last used; deleted with the user.
- `app_passwords`: at most one per user, a Fernet token of the password (the
  Subsonic token scheme needs the password itself); deleted with the user.

No data changes: no user has an API key or an app password before this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import BigId, UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("name", sa.Unicode(100), nullable=False),
        sa.Column("key_hmac", sa.String(64), nullable=False),
        sa.Column("hint", sa.String(12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime()),
        _user_fk("api_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hmac", name=op.f("uq_api_keys_key_hmac")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"])
    op.create_table(
        "app_passwords",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("ciphertext", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _user_fk("app_passwords"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_app_passwords")),
    )


def downgrade() -> None:
    op.drop_table("app_passwords")
    # The table takes its index along: MariaDB refuses to drop an index alone that
    # the foreign key on user_id needs.
    op.drop_table("api_keys")
