"""text: folded keys, search terms and exact identities

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 18:45:00

API.md, "Text: one meaning on every database":

- `songs` and `albums` gain `title_key`, `artist_key`, `genre_key` (the folded
  text, database.text.fold) and their (key, id) indexes replace the (title, id),
  (artist, id) and (genre, id) ones: sorts and exact filters compare keys.
- `song_terms` and `album_terms` hold each row's distinct title and artist words
  for the index-backed word-prefix search (database.search).
- Keys and terms compare by code point everywhere ("C" on PostgreSQL,
  utf8mb4_bin on MariaDB, Latin1_General_100_BIN2 on SQL Server), and so do
  `users.email`, `users.username` and `login_failures.throttle_key` on MariaDB and
  SQL Server, whose default collations would merge josé@ and jose@.

Backfill. Online (any database, SQL Server included) the keys and terms of
existing rows are computed in Python with database.text.fold, 1,000 rows at a
time (database.backfill). An offline script (`python -m database sql`) cannot
read rows, so it backfills approximately in SQL: on SQL Server lower-cased keys
with Latin-1 accents stripped (TRANSLATE) and terms split on spaces
(STRING_SPLIT, SQL Server 2016+); elsewhere lower-cased keys and no terms. After
applying such a script run `python -m database.backfill --url URL` once, before
starting the services, for the exact folding; until then search finds only what
the approximation covers.

SQLite adds a NOT NULL column only with a default, so its key columns carry
DEFAULT '' (the models' INSERT defaults compute real keys); the alternative, a
table rebuild, would cascade-delete every child row through the foreign keys.

Downgrade reverses all of it. On MariaDB and SQL Server it fails if accounts
exist that differ only in case or accents, which the old collations cannot hold
apart.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database.types import BigId, exact_text, folded_text

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOGUE = {"songs": "song_id", "albums": "album_id"}
KEYS = {"title": 200, "artist": 200, "genre": 100}
TERM_LENGTH = 100
# (table, column, length, unique constraint or index that SQL Server makes us
# drop and re-create around a collation change, and its columns)
IDENTITIES = [
    ("users", "username", 50, "uq_users_username", ["username"]),
    ("users", "email", 254, "uq_users_email", ["email"]),
    ("login_failures", "throttle_key", 300, "ix_login_failures_throttle_key_created_at",
     ["throttle_key", "created_at"]),
]  # fmt: skip


def _dialect() -> str:
    return op.get_context().dialect.name


def upgrade() -> None:
    _set_identity_types(exact=True)
    sqlite = _dialect() == "sqlite"
    for table in CATALOGUE:
        for field, length in KEYS.items():
            op.add_column(
                table,
                sa.Column(
                    f"{field}_key",
                    folded_text(length),
                    nullable=not sqlite,
                    server_default="" if sqlite else None,
                ),
            )
    for table, owner in CATALOGUE.items():
        terms = _terms_name(table)
        op.create_table(
            terms,
            sa.Column("term", folded_text(TERM_LENGTH), nullable=False),
            sa.Column(owner, BigId, nullable=False),
            sa.ForeignKeyConstraint(
                [owner], [f"{table}.id"], name=op.f(f"fk_{terms}_{owner}_{table}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("term", owner, name=op.f(f"pk_{terms}")),
            sqlite_with_rowid=False,
        )  # fmt: skip
        op.create_index(op.f(f"ix_{terms}_{owner}_term"), terms, [owner, "term"])
    if op.get_context().as_sql:
        _approximate_backfill()
    else:
        _backfill()
    for table in CATALOGUE:
        if not sqlite:
            for field, length in KEYS.items():
                op.alter_column(
                    table, f"{field}_key", existing_type=folded_text(length), nullable=False
                )
        for field in KEYS:
            op.drop_index(op.f(f"ix_{table}_{field}_id"), table_name=table)
            op.create_index(op.f(f"ix_{table}_{field}_key_id"), table, [f"{field}_key", "id"])


def downgrade() -> None:
    for table in CATALOGUE:
        for field in KEYS:
            op.drop_index(op.f(f"ix_{table}_{field}_key_id"), table_name=table)
            op.create_index(op.f(f"ix_{table}_{field}_id"), table, [field, "id"])
    for table in CATALOGUE:
        op.drop_table(_terms_name(table))
        for field in KEYS:
            op.drop_column(table, f"{field}_key")
    _set_identity_types(exact=False)


def _terms_name(table: str) -> str:
    return f"{table.removesuffix('s')}_terms"


def _set_identity_types(*, exact: bool) -> None:
    """Binary collations on MariaDB and SQL Server; SQLite and PostgreSQL already
    compare these columns exactly, and their type does not change."""
    dialect = _dialect()
    if dialect not in ("mysql", "mariadb", "mssql"):
        return
    for table, column, length, dependent, columns in IDENTITIES:
        old, new = sa.Unicode(length), exact_text(length)
        if not exact:
            old, new = new, old
        # SQL Server refuses to change the collation of an indexed column.
        if dialect == "mssql":
            if dependent.startswith("uq_"):
                op.drop_constraint(dependent, table, type_="unique")
            else:
                op.drop_index(dependent, table_name=table)
        op.alter_column(table, column, type_=new, existing_type=old, existing_nullable=False)
        if dialect == "mssql":
            if dependent.startswith("uq_"):
                op.create_unique_constraint(dependent, table, columns)
            else:
                op.create_index(dependent, table, columns)


def _backfill() -> None:
    from database.backfill import CatalogueText, backfill_text

    # The tables as this revision knows them, not as the models may later be.
    targets = [
        CatalogueText(
            sa.table(
                table,
                *(sa.column(name) for name in ("id", "title", "artist", "genre")),
                *(sa.column(f"{field}_key") for field in KEYS),
            ),
            sa.table(_terms_name(table), sa.column("term"), sa.column(owner)),
            owner,
        )
        for table, owner in CATALOGUE.items()
    ]
    backfill_text(op.get_bind(), targets)


def _latin_accents() -> tuple[str, str]:
    """Lower-case Latin-1 and Latin Extended-A letters whose fold() is one ASCII
    letter, and those letters: the part of the folding TRANSLATE can do."""
    from database.text import fold

    pairs = [
        (char, fold(char))
        for char in map(chr, range(0xC0, 0x180))
        if char.islower() and len(fold(char)) == 1 and fold(char).isascii() and fold(char) != char
    ]
    return "".join(char for char, _ in pairs), "".join(plain for _, plain in pairs)


def _approximate_backfill() -> None:
    """Offline scripts: what SQL alone can do (see the module docstring)."""
    if _dialect() != "mssql":
        for table in CATALOGUE:
            # Table and column names are this module's constants, never input.
            op.execute(
                f"UPDATE {table} SET title_key = LOWER(title), "  # noqa: S608
                "artist_key = LOWER(artist), genre_key = LOWER(genre)"
            )
        return
    accented, plain = _latin_accents()

    def key(column: str, length: int) -> str:
        folded = (
            f"TRANSLATE(LOWER({column}) COLLATE Latin1_General_100_BIN2, N'{accented}', N'{plain}')"
        )
        return f"LEFT(LTRIM(RTRIM({folded})), {length})"

    for table, owner in CATALOGUE.items():
        keys = ", ".join(f"{field}_key = {key(field, length)}" for field, length in KEYS.items())
        op.execute(f"UPDATE {table} SET {keys}")  # noqa: S608 - constants, as above
        op.execute(
            f"INSERT INTO {_terms_name(table)} (term, {owner}) "  # noqa: S608
            f"SELECT DISTINCT LEFT(words.value, {TERM_LENGTH}), {table}.id FROM {table} "
            f"CROSS APPLY STRING_SPLIT({table}.title_key + N' ' + {table}.artist_key, N' ') "
            "AS words WHERE words.value <> N''"
        )
