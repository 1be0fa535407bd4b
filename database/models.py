"""SQLAlchemy 2 models of the whole product. Services never see these objects:
repositories map rows to plain records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Unicode,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from database.types import BigId, UTCDateTime, utcnow

# Named constraints let migrations alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite reuses the highest rowid after a delete unless told AUTOINCREMENT; an
# identity column elsewhere never does, and a token for a deleted user must never
# name a new one.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def catalogue_indexes() -> list[Index]:
    """One (column, id) index per filter and sort: a filtered or sorted page is then
    an index range scan that costs the same at a thousand rows as at a million."""
    return [Index(None, column, "id") for column in ("title", "artist", "genre", "created_at")]


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(Unicode(50), nullable=False, unique=True)
    email: Mapped[str] = mapped_column(Unicode(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(Unicode(255), nullable=False)
    first_name: Mapped[str] = mapped_column(Unicode(255), nullable=False)
    last_name: Mapped[str | None] = mapped_column(Unicode(255))
    role: Mapped[str] = mapped_column(Unicode(20), nullable=False, default="user")

    __table_args__ = (NEVER_REUSE_IDS,)


class Album(TimestampMixin, Base):
    __tablename__ = "albums"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Unicode(100), nullable=False)
    artist: Mapped[str] = mapped_column(Unicode(100), nullable=False)
    genre: Mapped[str] = mapped_column(Unicode(50), nullable=False)
    description: Mapped[str | None] = mapped_column(Unicode(500))
    cover_image_url: Mapped[str | None] = mapped_column(Unicode(255))

    __table_args__ = (*catalogue_indexes(), NEVER_REUSE_IDS)


class Song(TimestampMixin, Base):
    __tablename__ = "songs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Unicode(100), nullable=False)
    artist: Mapped[str] = mapped_column(Unicode(100), nullable=False)
    genre: Mapped[str] = mapped_column(Unicode(50), nullable=False)
    file_url: Mapped[str] = mapped_column(Unicode(255), nullable=False)
    duration: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Unicode(500))
    cover_image_url: Mapped[str | None] = mapped_column(Unicode(255))
    release_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (*catalogue_indexes(), NEVER_REUSE_IDS)


class AlbumSong(Base):
    __tablename__ = "album_songs"

    album_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True
    )
    song_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    track_number: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (Index(None, "album_id", "track_number"),)


class UserLike(Base):
    __tablename__ = "user_likes"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    song_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (Index(None, "user_id", "created_at"),)


class RefreshToken(Base):
    """One row per issued refresh token; only its SHA-256 is stored.

    Tokens of one login share a `family_id`, so reuse of a rotated token can
    revoke the whole chain.
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(Unicode(64), nullable=False, unique=True)
    family_id: Mapped[str] = mapped_column(Unicode(32), nullable=False, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (NEVER_REUSE_IDS,)


class LoginFailure(Base):
    """A failed login, keyed by account or client address, counted for throttling.

    Rows (not counters) so that concurrent failures from several processes
    never lose an update on any backend.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    throttle_key: Mapped[str] = mapped_column(Unicode(300), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (Index(None, "throttle_key", "created_at"), NEVER_REUSE_IDS)


__all__ = [
    "Album",
    "AlbumSong",
    "Base",
    "LoginFailure",
    "RefreshToken",
    "Song",
    "User",
    "UserLike",
]
