"""media: songs' audio files and library scans

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:20:00

API.md, Media (round 2):

- `media_files`: one row per song with a local audio file (root, relative
  path, size, mtime, SHA-256, format facts, cover sources), deleted with its song.
- `library_scans`: each scan's state and counts; `active` (unique, filtered on
  SQL Server) lets one scan at a time exist.

No data changes: songs written before this revision have no media and keep
streaming by redirect to their `file_url`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import BigId, UTCDateTime, exact_text

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATH_LENGTH = 700  # database.tables.MEDIA_PATH_LENGTH at this revision


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _counter(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "media_files",
        sa.Column("song_id", BigId, nullable=False),
        sa.Column("root", sa.String(16), nullable=False),
        sa.Column("path", exact_text(PATH_LENGTH), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("suffix", sa.String(8), nullable=False),
        sa.Column("bitrate", sa.Integer()),
        sa.Column("sample_rate", sa.Integer()),
        sa.Column("channels", sa.Integer()),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("embedded_cover", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("cover_path", exact_text(PATH_LENGTH)),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name=op.f("fk_media_files_song_id_songs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("song_id", name=op.f("pk_media_files")),
        sa.UniqueConstraint("checksum", name=op.f("uq_media_files_checksum")),
    )
    op.create_index(op.f("ix_media_files_root_path"), "media_files", ["root", "path"], unique=True)
    op.create_table(
        "library_scans",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("path", sa.Unicode(PATH_LENGTH), nullable=False),
        sa.Column("active", sa.Integer()),
        *(_counter(name) for name in ("files_seen", "added", "updated", "removed", "skipped")),
        sa.Column("errors", sa.UnicodeText(), nullable=False),
        sa.Column("requested_by", BigId),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("heartbeat_at", UTCDateTime()),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_library_scans_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_scans")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_library_scans_active"),
        "library_scans",
        ["active"],
        unique=True,
        mssql_where=sa.text("active IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("library_scans")
    op.drop_table("media_files")
