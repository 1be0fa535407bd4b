"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 22:45:01.411668
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import database.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "albums",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("title", sa.Unicode(length=100), nullable=False),
        sa.Column("artist", sa.Unicode(length=100), nullable=False),
        sa.Column("genre", sa.Unicode(length=50), nullable=False),
        sa.Column("description", sa.Unicode(length=500), nullable=True),
        sa.Column("cover_image_url", sa.Unicode(length=255), nullable=True),
        sa.Column("created_at", database.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", database.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_albums")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_albums_artist_id"), "albums", ["artist", "id"], unique=False)
    op.create_index(op.f("ix_albums_created_at_id"), "albums", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_albums_genre_id"), "albums", ["genre", "id"], unique=False)
    op.create_index(op.f("ix_albums_title_id"), "albums", ["title", "id"], unique=False)
    op.create_table(
        "login_failures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("throttle_key", sa.Unicode(length=300), nullable=False),
        sa.Column("created_at", database.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_login_failures_throttle_key_created_at"),
        "login_failures",
        ["throttle_key", "created_at"],
        unique=False,
    )
    op.create_table(
        "songs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("title", sa.Unicode(length=100), nullable=False),
        sa.Column("artist", sa.Unicode(length=100), nullable=False),
        sa.Column("genre", sa.Unicode(length=50), nullable=False),
        sa.Column("file_url", sa.Unicode(length=255), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("description", sa.Unicode(length=500), nullable=True),
        sa.Column("cover_image_url", sa.Unicode(length=255), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("created_at", database.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", database.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_songs")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_songs_artist_id"), "songs", ["artist", "id"], unique=False)
    op.create_index(op.f("ix_songs_created_at_id"), "songs", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_songs_genre_id"), "songs", ["genre", "id"], unique=False)
    op.create_index(op.f("ix_songs_title_id"), "songs", ["title", "id"], unique=False)
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.Unicode(length=50), nullable=False),
        sa.Column("email", sa.Unicode(length=254), nullable=False),
        sa.Column("password_hash", sa.Unicode(length=255), nullable=False),
        sa.Column("first_name", sa.Unicode(length=255), nullable=False),
        sa.Column("last_name", sa.Unicode(length=255), nullable=True),
        sa.Column("role", sa.Unicode(length=20), nullable=False),
        sa.Column("created_at", database.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", database.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "album_songs",
        sa.Column("album_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("song_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("track_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"],
            ["albums.id"],
            name=op.f("fk_album_songs_album_id_albums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name=op.f("fk_album_songs_song_id_songs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("album_id", "song_id", name=op.f("pk_album_songs")),
    )
    op.create_index(
        op.f("ix_album_songs_album_id_track_number"),
        "album_songs",
        ["album_id", "track_number"],
        unique=False,
    )
    op.create_index(op.f("ix_album_songs_song_id"), "album_songs", ["song_id"], unique=False)
    op.create_table(
        "refresh_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.Unicode(length=64), nullable=False),
        sa.Column("family_id", sa.Unicode(length=32), nullable=False),
        sa.Column("expires_at", database.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", database.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", database.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", database.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_refresh_tokens_family_id"), "refresh_tokens", ["family_id"], unique=False
    )
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "user_likes",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("song_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", database.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["song_id"], ["songs.id"], name=op.f("fk_user_likes_song_id_songs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_likes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "song_id", name=op.f("pk_user_likes")),
    )
    op.create_index(op.f("ix_user_likes_song_id"), "user_likes", ["song_id"], unique=False)
    op.create_index(
        op.f("ix_user_likes_user_id_created_at"),
        "user_likes",
        ["user_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    # Dropping a table drops its indexes on every backend. Dropping the indexes
    # first fails on MariaDB/MySQL, which refuses to drop an index a foreign key
    # still needs (error 1553). Children go before the tables they reference.
    for table in (
        "user_likes",
        "refresh_tokens",
        "album_songs",
        "users",
        "songs",
        "login_failures",
        "albums",
    ):
        op.drop_table(table)
