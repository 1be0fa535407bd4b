"""SQLAlchemy 2 models of the whole product. Services never see these objects:
repositories map rows to plain records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Unicode,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from database.text import fit, fold
from database.types import BigId, UTCDateTime, exact_text, folded_text, utcnow

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


# The catalogue's text fields have folded keys (database.text.fold) that sorting,
# exact filters and search compare. Keys are sized for folding to expand (NFKD
# turns some characters into several) and cut to size by `folded_key`.
KEY_LENGTHS = {"title": 200, "artist": 200, "genre": 100}
# One word of a title or artist, as stored in the search terms tables.
TERM_LENGTH = 100


def folded_key(field: str, value: str) -> str:
    """The stored key of `value` for the catalogue field `field` (title, artist, genre)."""
    return fit(fold(value), KEY_LENGTHS[field])


def _key_default(field: str) -> Callable[[Any], str]:
    """An INSERT default computing the key from the row's own field, so every writer
    (repositories, seed, benchmarks, fixtures) stores it. Updates do not run it:
    they pass `database.catalogue.catalogue_keys(changes)` themselves."""

    def default(context: Any) -> str:
        return folded_key(field, context.get_current_parameters()[field])

    return default


def catalogue_indexes() -> list[Index]:
    """One (column, id) index per filter and sort: a filtered or sorted page is then
    an index range scan that costs the same at a thousand rows as at a million.
    Text sorts and filters use the folded keys, never the raw columns."""
    columns = ("title_key", "artist_key", "genre_key", "created_at")
    return [Index(None, column, "id") for column in columns]


class CatalogueKeysMixin:
    """The folded keys of an album or a song (see KEY_LENGTHS)."""

    title_key: Mapped[str] = mapped_column(
        folded_text(KEY_LENGTHS["title"]), nullable=False, default=_key_default("title")
    )
    artist_key: Mapped[str] = mapped_column(
        folded_text(KEY_LENGTHS["artist"]), nullable=False, default=_key_default("artist")
    )
    genre_key: Mapped[str] = mapped_column(
        folded_text(KEY_LENGTHS["genre"]), nullable=False, default=_key_default("genre")
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Identities compare exactly everywhere: MariaDB's and SQL Server's default
    # collations would make josé@ and jose@ (or Alice and alice) one account.
    username: Mapped[str] = mapped_column(exact_text(50), nullable=False, unique=True)
    email: Mapped[str] = mapped_column(exact_text(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(Unicode(255), nullable=False)
    first_name: Mapped[str] = mapped_column(Unicode(255), nullable=False)
    last_name: Mapped[str | None] = mapped_column(Unicode(255))
    role: Mapped[str] = mapped_column(Unicode(20), nullable=False, default="user")
    # Bumped with every password, email or role change; refresh tokens carry the
    # version they were issued under, and an older one no longer refreshes.
    session_version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )

    __table_args__ = (NEVER_REUSE_IDS,)


class Album(CatalogueKeysMixin, TimestampMixin, Base):
    __tablename__ = "albums"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Unicode(100), nullable=False)
    artist: Mapped[str] = mapped_column(Unicode(100), nullable=False)
    genre: Mapped[str] = mapped_column(Unicode(50), nullable=False)
    description: Mapped[str | None] = mapped_column(Unicode(500))
    cover_image_url: Mapped[str | None] = mapped_column(Unicode(255))

    __table_args__ = (*catalogue_indexes(), NEVER_REUSE_IDS)


class Song(CatalogueKeysMixin, TimestampMixin, Base):
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
    # The user's session_version when the token was issued (see User).
    session_version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )

    __table_args__ = (NEVER_REUSE_IDS,)


class LoginFailure(Base):
    """A failed login, keyed by account or client address, counted for throttling.

    Rows (not counters) so that concurrent failures from several processes
    never lose an update on any backend.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Exact, like the identities it is built from (an email, an address).
    throttle_key: Mapped[str] = mapped_column(exact_text(300), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (Index(None, "throttle_key", "created_at"), NEVER_REUSE_IDS)


def _terms_table_args(owner: str) -> tuple[Any, ...]:
    # Deletes of the owner and rewrites of its terms look terms up by owner id.
    # Without a rowid, SQLite stores the rows in the primary key's b-tree once.
    return (Index(None, owner, "term"), {"sqlite_with_rowid": False})


class SongTerm(Base):
    """One distinct word (database.text.fold_words) of a song's title or artist.

    Search finds "words starting with w" as a range of the primary key, which
    costs the same whatever the table's size (database.search)."""

    __tablename__ = "song_terms"

    term: Mapped[str] = mapped_column(folded_text(TERM_LENGTH), primary_key=True)
    song_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = _terms_table_args("song_id")


class AlbumTerm(Base):
    """One distinct word of an album's title or artist (see SongTerm)."""

    __tablename__ = "album_terms"

    term: Mapped[str] = mapped_column(folded_text(TERM_LENGTH), primary_key=True)
    album_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = _terms_table_args("album_id")


__all__ = [
    "Album",
    "AlbumSong",
    "AlbumTerm",
    "Base",
    "LoginFailure",
    "RefreshToken",
    "Song",
    "SongTerm",
    "User",
    "UserLike",
]
