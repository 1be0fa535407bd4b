"""Recompute the folded keys and search terms of every album, song and artist with
database.text.fold: what migration 0003 runs online, and what
`python -m database.backfill --url URL` runs after an offline (SQL script)
migration, whose T-SQL can only approximate the folding.

Idempotent, batched by id (memory stays flat at any size) and run in the
caller's transaction, or, from the command line, in one transaction per batch so
a very large catalogue never holds one huge transaction open.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from database.artists import artist_id_for
from database.engine import Database
from database.models import Album, AlbumTerm, Song, SongTerm
from database.search import search_terms, sync_terms
from database.settings import get_database_settings
from database.tables import CATALOGUE_FIELDS, albums, artists, folded_key, songs

BATCH_SIZE = 1000


@dataclass(frozen=True)
class CatalogueText:
    """A catalogue table and its terms table: columns id, title, artist, genre and
    their *_key columns on `table`; term and `owner` on `terms`."""

    table: Table | Any  # also a lightweight sqlalchemy.table() in migrations
    terms: Table | Any
    owner: str


def model_tables() -> list[CatalogueText]:
    """Songs and albums as the models describe them."""
    return [
        CatalogueText(Song.__table__, SongTerm.__table__, "song_id"),
        CatalogueText(Album.__table__, AlbumTerm.__table__, "album_id"),
    ]


def backfill_batches(
    connection: Connection, target: CatalogueText, batch_size: int = BATCH_SIZE
) -> Iterator[int]:
    """Rewrite keys and terms of `target`, `batch_size` rows at a time; yields the
    number of rows done after each batch, so a caller may commit in between."""
    table, terms = target.table, target.terms
    owner = terms.c[target.owner]
    set_keys = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({f"{field}_key": bindparam(f"new_{field}_key") for field in CATALOGUE_FIELDS})
    )
    last_id: int | None = None
    while True:
        page = select(table.c.id, table.c.title, table.c.artist, table.c.genre)
        if last_id is not None:
            page = page.where(table.c.id > last_id)
        rows = connection.execute(page.order_by(table.c.id).limit(batch_size)).all()
        if not rows:
            return
        connection.execute(
            set_keys,
            [
                {"row_id": row.id}
                | {
                    f"new_{field}_key": folded_key(field, getattr(row, field))
                    for field in CATALOGUE_FIELDS
                }
                for row in rows
            ],
        )
        # A range of owner ids rather than an IN list: SQL Server takes at most
        # 2,100 parameters in one statement.
        connection.execute(delete(terms).where(owner >= rows[0].id, owner <= rows[-1].id))
        postings = [
            {"term": term, target.owner: row.id}
            for row in rows
            for term in search_terms(row.title, row.artist)
        ]
        if postings:
            connection.execute(insert(terms), postings)
        last_id = rows[-1].id
        yield len(rows)


def backfill_text(
    connection: Connection,
    targets: list[CatalogueText] | None = None,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Backfill every target (default: songs and albums) in the caller's
    transaction; `after_batch` runs after each batch (a commit, say). Returns rows
    done per table."""
    done: dict[str, int] = {}
    for target in targets or model_tables():
        done[target.table.name] = 0
        for count in backfill_batches(connection, target, batch_size):
            done[target.table.name] += count
            if after_batch is not None:
                after_batch()
    return done


def backfill_artists(
    connection: Connection,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[], None] | None = None,
) -> int:
    """Recompute the folded keys and search terms of every artist (after an
    offline migration 0004, whose SQL cannot fold); how many artists were done."""
    done, last_id = 0, 0
    set_keys = (
        update(artists)
        .where(artists.c.id == bindparam("row_id"))
        .values(name_key=bindparam("new_name_key"), sort_name_key=bindparam("new_sort_key"))
    )
    while rows := connection.execute(
        select(artists.c.id, artists.c.name, artists.c.sort_name)
        .where(artists.c.id > last_id)
        .order_by(artists.c.id)
        .limit(batch_size)
    ).all():
        connection.execute(
            set_keys,
            [
                {
                    "row_id": row.id,
                    "new_name_key": folded_key("name", row.name),
                    "new_sort_key": folded_key("sort_name", row.sort_name),
                }
                for row in rows
            ],
        )
        for row in rows:
            sync_terms(connection, artists, row.id, row.name, "")
        done, last_id = done + len(rows), rows[-1].id
        if after_batch is not None:
            after_batch()
    return done


def link_artists(
    connection: Connection,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[], None] | None = None,
) -> int:
    """Point every song and album without an `artist_id` (written by something
    other than the services: an import, a script) at the artist of its folded
    artist name, creating the artists that are missing; how many rows were linked."""
    linked = 0
    for table in (songs, albums):
        last_id = 0
        while rows := connection.execute(
            select(table.c.id, table.c.artist)
            .where(table.c.artist_id.is_(None), table.c.id > last_id)
            .order_by(table.c.id)
            .limit(batch_size)
        ).all():
            for row in rows:
                connection.execute(
                    update(table)
                    .where(table.c.id == row.id)
                    .values(artist_id=artist_id_for(connection, row.artist))
                )
            linked, last_id = linked + len(rows), rows[-1].id
            if after_batch is not None:
                after_batch()
    return linked


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m database.backfill", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", help="database URL (default: from settings / .env)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    args = parser.parse_args()
    database = Database(args.url or get_database_settings().sqlalchemy_url)
    try:
        with database.connect(write=True) as connection:
            done = backfill_text(
                connection, batch_size=args.batch_size, after_batch=connection.commit
            )
            done["artists"] = backfill_artists(
                connection, batch_size=args.batch_size, after_batch=connection.commit
            )
            done["unlinked songs and albums"] = link_artists(
                connection, batch_size=args.batch_size, after_batch=connection.commit
            )
            connection.commit()
    finally:
        database.dispose()
    print(", ".join(f"{table}: {count} rows" for table, count in done.items()))


if __name__ == "__main__":
    main()
