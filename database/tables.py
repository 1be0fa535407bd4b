"""The whole product's tables, as SQLAlchemy Core `Table`s: what repositories,
migrations and the search and catalogue helpers use. Services never see rows as
objects: repositories map them to plain records.

Core rather than ORM classes because the services need nothing more, and a
service process that never imports `sqlalchemy.orm` is ~6 MB smaller (make
bench: idle RSS). `database.models` maps ORM classes onto these same tables for
scripts and tests that want them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Unicode,
    UnicodeText,
    false,
    text,
)

from database.text import fit, fold, fold_words
from database.types import BigId, UTCDateTime, exact_text, folded_text, utcnow

# Named constraints let migrations alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite reuses the highest rowid after a delete unless told AUTOINCREMENT; an
# identity column elsewhere never does, and a token for a deleted user must never
# name a new one.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}

# The catalogue's text fields have folded keys (database.text.fold) that sorting,
# exact filters and search compare. Keys are sized for folding to expand (NFKD
# turns some characters into several) and cut to size by `folded_key`.
# An artist's `name_key` is the same folding at the same length as a song's or an
# album's `artist_key`, so the two compare equal for the same name.
KEY_LENGTHS = {"title": 200, "artist": 200, "genre": 100, "name": 200, "sort_name": 200}
# The keyed fields of an album or a song.
CATALOGUE_FIELDS = ("title", "artist", "genre")
# One word of a title or artist, as stored in the search terms tables.
TERM_LENGTH = 100


def folded_key(field: str, value: str) -> str:
    """The stored key of `value` for the catalogue field `field` (title, artist, genre)."""
    return fit(fold(value), KEY_LENGTHS[field])


def words_key(field: str, value: str) -> str:
    """The words of `value` (database.text.fold_words) joined by single spaces and
    cut to the key size of `field`: what a playlist name filter compares, so
    `live` finds "Best (Live)" with the same word rules as search."""
    return fit(" ".join(fold_words(value)), KEY_LENGTHS[field])


def _key_default(field: str) -> Callable[[Any], str]:
    """An INSERT default computing the key from the row's own field, so every writer
    (repositories, seed, benchmarks, fixtures) stores it. Updates do not run it:
    they pass `database.catalogue.catalogue_keys(changes)` themselves."""

    def default(context: Any) -> str:
        return folded_key(field, context.get_current_parameters()[field])

    return default


def _id() -> Column[int]:
    return Column("id", BigId, primary_key=True, autoincrement=True)


def _key(field: str, **options: Any) -> Column[str]:
    """The folded key column `<field>_key` of text column `field` (see KEY_LENGTHS)."""
    return Column(f"{field}_key", folded_text(KEY_LENGTHS[field]), nullable=False,
                  default=_key_default(field), **options)  # fmt: skip


def _catalogue_keys() -> list[Column[str]]:
    """The folded keys of an album or a song (see KEY_LENGTHS)."""
    return [_key(field) for field in CATALOGUE_FIELDS]


def _timestamps() -> list[Column[Any]]:
    return [
        Column("created_at", UTCDateTime(), default=utcnow, nullable=False),
        Column("updated_at", UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False),
    ]


def _catalogue_indexes() -> list[Index]:
    """One (column, id) index per filter and sort: a filtered or sorted page is then
    an index range scan that costs the same at a thousand rows as at a million.
    Text sorts and filters use the folded keys, never the raw columns."""
    columns = ("title_key", "artist_key", "genre_key", "created_at")
    return [Index(None, column, "id") for column in columns]


def _reference(table: str, **options: Any) -> ForeignKey:
    return ForeignKey(f"{table}.id", ondelete="CASCADE", **options)


def _artist_id() -> Column[int]:
    """An album's or a song's artist. Not cascading: an artist that albums or songs
    still name cannot be deleted (API.md, Artists: 409). Nullable because SQLite
    adds a foreign key column only with a NULL default; every service write and
    the migration's backfill set it."""
    return Column("artist_id", BigId, ForeignKey("artists.id"), nullable=True)


users = Table(
    "users",
    metadata,
    _id(),
    # Identities compare exactly everywhere: MariaDB's and SQL Server's default
    # collations would make josé@ and jose@ (or Alice and alice) one account.
    Column("username", exact_text(50), nullable=False, unique=True),
    Column("email", exact_text(254), nullable=False, unique=True),
    Column("password_hash", Unicode(255), nullable=False),
    Column("first_name", Unicode(255), nullable=False),
    Column("last_name", Unicode(255)),
    Column("role", Unicode(20), nullable=False, default="user"),
    # Bumped with every password, email or role change; refresh tokens carry the
    # version they were issued under, and an older one no longer refreshes.
    Column("session_version", Integer, nullable=False, default=0, server_default="0"),
    *_timestamps(),
    **NEVER_REUSE_IDS,
)

artists = Table(
    "artists",
    metadata,
    _id(),
    Column("name", Unicode(100), nullable=False),
    # How the name sorts ("Beatles, The"); the name itself unless given.
    Column("sort_name", Unicode(100), nullable=False),
    # One artist per folded name: "Beyoncé" and "BEYONCÉ" are one row.
    _key("name", unique=True),
    _key("sort_name"),
    *_timestamps(),
    Index(None, "sort_name_key", "id"),
    Index(None, "created_at", "id"),
    **NEVER_REUSE_IDS,
)

albums = Table(
    "albums",
    metadata,
    _id(),
    Column("title", Unicode(100), nullable=False),
    Column("artist", Unicode(100), nullable=False),
    Column("genre", Unicode(50), nullable=False),
    Column("description", Unicode(500)),
    Column("cover_image_url", Unicode(255)),
    Column("release_date", Date),
    _artist_id(),
    *_catalogue_keys(),
    *_timestamps(),
    *_catalogue_indexes(),
    Index(None, "artist_id", "id"),
    **NEVER_REUSE_IDS,
)

songs = Table(
    "songs",
    metadata,
    _id(),
    Column("title", Unicode(100), nullable=False),
    Column("artist", Unicode(100), nullable=False),
    Column("genre", Unicode(50), nullable=False),
    Column("file_url", Unicode(255), nullable=False),
    Column("duration", Integer),
    Column("description", Unicode(500)),
    Column("cover_image_url", Unicode(255)),
    Column("release_date", Date),
    _artist_id(),
    *_catalogue_keys(),
    *_timestamps(),
    *_catalogue_indexes(),
    # An artist's songs page, by title: one range of this index.
    Index(None, "artist_id", "title_key", "id"),
    **NEVER_REUSE_IDS,
)

album_songs = Table(
    "album_songs",
    metadata,
    Column("album_id", BigId, _reference("albums"), primary_key=True),
    Column("song_id", BigId, _reference("songs"), primary_key=True, index=True),
    Column("disc_number", Integer, nullable=False, default=1, server_default="1"),
    Column("track_number", Integer, nullable=False),
    Index(None, "album_id", "disc_number", "track_number"),
)


def _likes(name: str, liked: str) -> Table:
    """Who likes which row of `liked`: one row per (user, liked row), so a like is
    idempotent and a count exact. Indexed for "the row's like count" and "the
    user's likes, newest first"."""
    liked_id = f"{liked.removesuffix('s')}_id"
    return Table(
        name,
        metadata,
        Column("user_id", BigId, _reference("users"), primary_key=True),
        Column(liked_id, BigId, _reference(liked), primary_key=True, index=True),
        Column("created_at", UTCDateTime(), default=utcnow, nullable=False),
        Index(None, "user_id", "created_at"),
    )


user_likes = _likes("user_likes", "songs")  # songs' likes, named as in the original schema
album_likes = _likes("album_likes", "albums")
artist_likes = _likes("artist_likes", "artists")

playlists = Table(
    "playlists",
    metadata,
    _id(),
    Column("owner_id", BigId, _reference("users"), nullable=False),
    Column("name", Unicode(100), nullable=False),
    # The name's words (words_key), for the `q` filter; playlists sort by id.
    Column(
        "name_key",
        folded_text(KEY_LENGTHS["name"]),
        nullable=False,
        default=lambda context: words_key("name", context.get_current_parameters()["name"]),
    ),
    Column("description", Unicode(500)),
    Column("public", Boolean, nullable=False, default=False, server_default=false()),
    *_timestamps(),
    Index(None, "owner_id", "id"),
    Index(None, "public", "id"),
    **NEVER_REUSE_IDS,
)

# A playlist's entries at positions 0..n-1; a song may appear more than once. The
# primary key makes a duplicated position impossible on every database; the
# playlist's row lock (song_service) keeps positions free of gaps.
playlist_songs = Table(
    "playlist_songs",
    metadata,
    Column("playlist_id", BigId, _reference("playlists"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("song_id", BigId, _reference("songs"), nullable=False, index=True),
    Column("added_at", UTCDateTime(), default=utcnow, nullable=False),
)

# Listening history: append-only, one row per (user, played_at, song), which makes
# a repeated scrobble count once. The key's order serves "my plays, newest first"
# and "my top songs since T" as one range of the user's rows; the second index
# serves a song's play count and the viewer's count and last play.
plays = Table(
    "plays",
    metadata,
    Column("user_id", BigId, _reference("users"), primary_key=True),
    Column("played_at", UTCDateTime(), primary_key=True),
    Column("song_id", BigId, _reference("songs"), primary_key=True),
    Index(None, "song_id", "user_id", "played_at"),
    sqlite_with_rowid=False,
)

# A media file's path under its root folder (media.storage): compared exactly
# (paths are case-sensitive) and short enough for a unique index on MariaDB
# (utf8mb4: 700 x 4 bytes) and SQL Server (1,700 bytes).
MEDIA_PATH_LENGTH = 700

# The audio of a song that has a local file (API.md, Media). `root` names the
# folder the path is under: "media" (uploads, MEDIA_DIR) or "library" (a scan's,
# LIBRARY_DIR). A scan compares (path, size, mtime_ns) to decide what to re-read;
# the checksum (SHA-256 of the bytes) makes one file one song.
media_files = Table(
    "media_files",
    metadata,
    Column("song_id", BigId, _reference("songs"), primary_key=True),
    Column("root", String(16), nullable=False),
    Column("path", exact_text(MEDIA_PATH_LENGTH), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("checksum", String(64), nullable=False, unique=True),
    Column("content_type", String(64), nullable=False),
    Column("suffix", String(8), nullable=False),
    Column("bitrate", Integer),
    Column("sample_rate", Integer),
    Column("channels", Integer),
    # Milliseconds: an integer compares and rounds the same on every database.
    Column("duration_ms", Integer),
    Column("embedded_cover", Boolean, nullable=False, default=False, server_default=false()),
    # A cover.* or folder.* image beside the file, under the same root.
    Column("cover_path", exact_text(MEDIA_PATH_LENGTH)),
    *_timestamps(),
    Index(None, "root", "path", unique=True),
)

# Library scans (POST /library/scans): their state and counts, kept as history.
# `active` is 1 while a scan is queued or running and NULL after: its unique
# index lets one scan at a time exist on every database (SQL Server's unique
# index would allow a single NULL, hence the filter there).
library_scans = Table(
    "library_scans",
    metadata,
    _id(),
    Column("state", String(16), nullable=False),
    Column("path", Unicode(MEDIA_PATH_LENGTH), nullable=False),
    Column("active", Integer),
    Column("files_seen", Integer, nullable=False, default=0, server_default="0"),
    Column("added", Integer, nullable=False, default=0, server_default="0"),
    Column("updated", Integer, nullable=False, default=0, server_default="0"),
    Column("removed", Integer, nullable=False, default=0, server_default="0"),
    Column("skipped", Integer, nullable=False, default=0, server_default="0"),
    # [{"path", "detail"}] as JSON, capped (media.library.MAX_ERRORS).
    Column("errors", UnicodeText, nullable=False, default="[]"),
    Column("requested_by", BigId, ForeignKey("users.id", ondelete="SET NULL")),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    # Written by the running scan now and then; a scan whose heartbeat stopped
    # (its process died) no longer holds `active`.
    Column("heartbeat_at", UTCDateTime()),
    *_timestamps(),
    Index(None, "active", unique=True, mssql_where=text("active IS NOT NULL")),
    **NEVER_REUSE_IDS,
)

# One row per issued refresh token; only its SHA-256 is stored. Tokens of one
# login share a `family_id`, so reuse of a rotated token can revoke the whole chain.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    _id(),
    Column("user_id", BigId, _reference("users"), nullable=False, index=True),
    Column("token_hash", Unicode(64), nullable=False, unique=True),
    Column("family_id", Unicode(32), nullable=False, index=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), default=utcnow, nullable=False),
    Column("used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    # The user's session_version when the token was issued (see users).
    Column("session_version", Integer, nullable=False, default=0, server_default="0"),
    **NEVER_REUSE_IDS,
)

# A failed login, keyed by account or client address, counted for throttling.
# Rows (not counters) so that concurrent failures from several processes never
# lose an update on any backend.
login_failures = Table(
    "login_failures",
    metadata,
    _id(),
    # Exact, like the identities it is built from (an email, an address).
    Column("throttle_key", exact_text(300), nullable=False),
    Column("created_at", UTCDateTime(), default=utcnow, nullable=False),
    Index(None, "throttle_key", "created_at"),
    **NEVER_REUSE_IDS,
)

# Third-party credentials (API.md, Third-party credentials), owned by auth_service.
# An API key is stored only as its HMAC-SHA256 (hex) under the credentials secret:
# a leaked table names no usable key, and a key is found by an equality lookup.
# `hint` is the key's first characters, so a user can tell keys apart in a list.
api_keys = Table(
    "api_keys",
    metadata,
    _id(),
    Column("user_id", BigId, _reference("users"), nullable=False, index=True),
    Column("name", Unicode(100), nullable=False),
    Column("key_hmac", String(64), nullable=False, unique=True),
    Column("hint", String(12), nullable=False),
    Column("created_at", UTCDateTime(), default=utcnow, nullable=False),
    # Written at most once a minute per key: a busy client does not write per request.
    Column("last_used_at", UTCDateTime()),
    **NEVER_REUSE_IDS,
)

# One app password per user for legacy Subsonic clients (u+p, u+t+s). The token
# scheme needs the password itself, so it is kept encrypted (a Fernet token under
# a key derived from the credentials secret), never hashed.
app_passwords = Table(
    "app_passwords",
    metadata,
    Column("user_id", BigId, _reference("users"), primary_key=True),
    Column("ciphertext", String(255), nullable=False),
    Column("created_at", UTCDateTime(), default=utcnow, nullable=False),
)


def _terms(name: str, owner: str) -> Table:
    """One distinct word (database.text.fold_words) of the title or artist of each
    row of `owner`s. Search finds "words starting with w" as a range of the
    primary key, which costs the same whatever the table's size (database.search).
    Deletes of the owner and rewrites of its terms look terms up by owner id;
    without a rowid, SQLite stores the rows in the primary key's b-tree once."""
    owner_id = f"{owner.removesuffix('s')}_id"
    return Table(
        name,
        metadata,
        Column("term", folded_text(TERM_LENGTH), primary_key=True),
        Column(owner_id, BigId, _reference(owner), primary_key=True),
        Index(None, owner_id, "term"),
        sqlite_with_rowid=False,
    )


song_terms = _terms("song_terms", "songs")
album_terms = _terms("album_terms", "albums")
artist_terms = _terms("artist_terms", "artists")
