"""library: artists, album and artist likes, playlists, listening history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 23:30:00

API.md, Artists, Playlists, Listening history (round 2):

- `artists` (name, sort name, folded keys) with `artist_terms` for search;
  `albums.artist_id` and `songs.artist_id` point at them beside the display
  `artist`; albums gain `release_date`, album tracks `disc_number` (default 1,
  tracks order by disc then track).
- `album_likes`, `artist_likes`, `playlists`, `playlist_songs`, `plays`.

Backfill: one artist per distinct folded artist name of the existing songs and
albums (`artist_key`, which is the artist's `name_key` under the same folding:
`Beyoncé` and `BEYONCÉ` become one artist), then every song and album is linked
by that key. Online, the display name is that of the lowest-id song with the
key (else the lowest-id album), the same on every database. An offline script
cannot choose rows in Python: it takes MIN(artist) under the database's
collation and stores no artist terms; `python -m database.backfill --url URL`
afterwards recomputes keys and terms, artists' included, and links any song or
album left without an artist (rows an import wrote straight into the tables).

SQLite adds a foreign key column only with a NULL default, so `artist_id` is
nullable everywhere; every service write sets it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import BigId, UTCDateTime, folded_text

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOGUE = ("songs", "albums")
# The index beginning with artist_id: an artist's songs list by title, albums by id.
ARTIST_INDEX = {"songs": ["artist_id", "title_key", "id"], "albums": ["artist_id", "id"]}
KEY_LENGTH = 200  # artists' name_key and sort_name_key; equal to artist_key's
TERM_LENGTH = 100
LIKES = {"album_likes": "albums", "artist_likes": "artists"}
# The current UTC time in SQL, as the offline backfill stamps new artists (the
# stored timestamps are naive UTC); SQLite's CURRENT_TIMESTAMP is already UTC.
UTC_NOW = {
    "mssql": "SYSUTCDATETIME()",
    "postgresql": "(now() AT TIME ZONE 'UTC')",
    "mysql": "UTC_TIMESTAMP(6)",
    "mariadb": "UTC_TIMESTAMP(6)",
}


def _id() -> sa.Column:
    return sa.Column("id", BigId, autoincrement=True, nullable=False)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _cascade(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "artists",
        _id(),
        sa.Column("name", sa.Unicode(100), nullable=False),
        sa.Column("sort_name", sa.Unicode(100), nullable=False),
        sa.Column("name_key", folded_text(KEY_LENGTH), nullable=False),
        sa.Column("sort_name_key", folded_text(KEY_LENGTH), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artists")),
        sa.UniqueConstraint("name_key", name=op.f("uq_artists_name_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_artists_sort_name_key_id"), "artists", ["sort_name_key", "id"])
    op.create_index(op.f("ix_artists_created_at_id"), "artists", ["created_at", "id"])
    op.create_table(
        "artist_terms",
        sa.Column("term", folded_text(TERM_LENGTH), nullable=False),
        sa.Column("artist_id", BigId, nullable=False),
        _cascade("artist_terms", "artist_id", "artists"),
        sa.PrimaryKeyConstraint("term", "artist_id", name=op.f("pk_artist_terms")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_artist_terms_artist_id_term"), "artist_terms", ["artist_id", "term"])

    # Plain ALTER TABLE on every backend: a batch rebuild on SQLite would drop the
    # table and, through the cascading foreign keys, every child row.
    for table in CATALOGUE:
        foreign_key = op.f(f"fk_{table}_artist_id_artists")
        if op.get_context().dialect.name == "sqlite":
            # SQLite takes a REFERENCES clause inside ADD COLUMN but no ALTER of
            # constraints, which is how Alembic would add it. Constants, not input.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN artist_id INTEGER "
                f"CONSTRAINT {foreign_key} REFERENCES artists (id)"
            )
        else:
            op.add_column(
                table,
                sa.Column(
                    "artist_id", BigId, sa.ForeignKey("artists.id", name=foreign_key), nullable=True
                ),
            )
        columns = ARTIST_INDEX[table]
        op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, columns)
    op.add_column("albums", sa.Column("release_date", sa.Date(), nullable=True))
    op.add_column(
        "album_songs",
        sa.Column("disc_number", sa.Integer(), nullable=False, server_default="1"),
    )
    op.drop_index(op.f("ix_album_songs_album_id_track_number"), table_name="album_songs")
    op.create_index(
        op.f("ix_album_songs_album_id_disc_number_track_number"),
        "album_songs",
        ["album_id", "disc_number", "track_number"],
    )

    for table, liked in LIKES.items():
        liked_id = f"{liked.removesuffix('s')}_id"
        op.create_table(
            table,
            sa.Column("user_id", BigId, nullable=False),
            sa.Column(liked_id, BigId, nullable=False),
            sa.Column("created_at", UTCDateTime(), nullable=False),
            _cascade(table, "user_id", "users"),
            _cascade(table, liked_id, liked),
            sa.PrimaryKeyConstraint("user_id", liked_id, name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_{liked_id}"), table, [liked_id])
        op.create_index(op.f(f"ix_{table}_user_id_created_at"), table, ["user_id", "created_at"])

    op.create_table(
        "playlists",
        _id(),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("name", sa.Unicode(100), nullable=False),
        sa.Column("name_key", folded_text(KEY_LENGTH), nullable=False),
        sa.Column("description", sa.Unicode(500), nullable=True),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        *_timestamps(),
        _cascade("playlists", "owner_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playlists")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_playlists_owner_id_id"), "playlists", ["owner_id", "id"])
    op.create_index(op.f("ix_playlists_public_id"), "playlists", ["public", "id"])
    op.create_table(
        "playlist_songs",
        sa.Column("playlist_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("song_id", BigId, nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        _cascade("playlist_songs", "playlist_id", "playlists"),
        _cascade("playlist_songs", "song_id", "songs"),
        sa.PrimaryKeyConstraint("playlist_id", "position", name=op.f("pk_playlist_songs")),
    )
    op.create_index(op.f("ix_playlist_songs_song_id"), "playlist_songs", ["song_id"])
    op.create_table(
        "plays",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("played_at", UTCDateTime(), nullable=False),
        sa.Column("song_id", BigId, nullable=False),
        _cascade("plays", "user_id", "users"),
        _cascade("plays", "song_id", "songs"),
        sa.PrimaryKeyConstraint("user_id", "played_at", "song_id", name=op.f("pk_plays")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_plays_song_id_user_id_played_at"), "plays", ["song_id", "user_id", "played_at"]
    )

    if op.get_context().as_sql:
        _approximate_backfill()
    else:
        _backfill()


def downgrade() -> None:
    for table in ("plays", "playlist_songs", "playlists", *LIKES):
        op.drop_table(table)
    op.drop_index(
        op.f("ix_album_songs_album_id_disc_number_track_number"), table_name="album_songs"
    )
    op.create_index(
        op.f("ix_album_songs_album_id_track_number"), "album_songs", ["album_id", "track_number"]
    )
    op.drop_column("album_songs", "disc_number", mssql_drop_default=True)
    op.drop_column("albums", "release_date")
    for table in CATALOGUE:
        # The foreign key first: MariaDB keeps the index while a key needs it.
        if op.get_context().dialect.name != "sqlite":
            op.drop_constraint(op.f(f"fk_{table}_artist_id_artists"), table, type_="foreignkey")
        op.drop_index(op.f(f"ix_{table}_{'_'.join(ARTIST_INDEX[table])}"), table_name=table)
        op.drop_column(table, "artist_id")
    op.drop_table("artist_terms")
    op.drop_table("artists")


# The tables as this revision knows them, not as the models may later be.
_artists = sa.Table(
    "artists",
    sa.MetaData(),
    sa.Column("id", BigId, primary_key=True),
    *(sa.Column(name) for name in ("name", "sort_name", "name_key", "sort_name_key")),
    sa.Column("created_at", UTCDateTime()),
    sa.Column("updated_at", UTCDateTime()),
)
_artist_terms = sa.table("artist_terms", sa.column("term"), sa.column("artist_id"))


def _catalogue(table: str) -> sa.TableClause:
    return sa.table(table, sa.column("id"), sa.column("artist"), sa.column("artist_key"),
                    sa.column("artist_id"))  # fmt: skip


def _backfill() -> None:
    from database.search import search_terms
    from database.types import utcnow

    connection = op.get_bind()
    names: dict[str, str] = {}  # artist_key -> display name, first row wins
    for table in CATALOGUE:  # songs first: theirs is the name people see most
        rows = _catalogue(table)
        firsts = (
            sa.select(rows.c.artist_key, sa.func.min(rows.c.id).label("id"))
            .group_by(rows.c.artist_key)
            .subquery()
        )
        statement = sa.select(firsts.c.artist_key, rows.c.artist).join(
            rows, rows.c.id == firsts.c.id
        )
        for key, name in connection.execute(statement):
            names.setdefault(key, name)
    now = utcnow()
    # One artist at a time keeps the id order the order of the keys; batched
    # INSERTs with RETURNING are not on every backend.
    for key in sorted(names):
        name = names[key]
        artist_id = connection.execute(
            sa.insert(_artists).values(
                name=name, sort_name=name, name_key=key, sort_name_key=key,
                created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
        terms = search_terms(name, "")
        if terms:
            connection.execute(
                sa.insert(_artist_terms), [{"term": t, "artist_id": artist_id} for t in terms]
            )
    _link()


def _link() -> None:
    """Point every song and album at the artist with its folded artist name."""
    for table in CATALOGUE:
        rows = _catalogue(table)
        artist = (
            sa.select(_artists.c.id)
            .where(_artists.c.name_key == rows.c.artist_key)
            .scalar_subquery()
        )
        op.execute(sa.update(rows).values(artist_id=artist))


def _approximate_backfill() -> None:
    """Offline scripts: one artist per distinct key, named MIN(artist)."""
    selects = [f"SELECT artist_key, artist FROM {table}" for table in CATALOGUE]  # noqa: S608
    union = " UNION ALL ".join(selects)
    now = UTC_NOW.get(op.get_context().dialect.name, "CURRENT_TIMESTAMP")
    # Table and column names are this module's constants, never input.
    op.execute(
        "INSERT INTO artists (name, sort_name, name_key, sort_name_key, created_at, updated_at) "  # noqa: S608
        f"SELECT MIN(artist), MIN(artist), artist_key, artist_key, {now}, {now} "
        f"FROM ({union}) named GROUP BY artist_key"
    )
    _link()
