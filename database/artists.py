"""An album's or a song's artist by name: the one place that turns the display
`artist` of a write into an `artist_id` (API.md, Artists).

Artists are album_service's rows (README, ownership), but a song or an album
written with a new artist name must point at an artist in the same transaction,
so both services resolve names here: find the artist whose folded name equals
the name's (`Beyoncé` and `BEYONCÉ` are one), or insert it. Nothing here updates
or deletes an artist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from database.memory import MemoryDatabase
from database.search import sync_terms
from database.tables import artists, folded_key
from database.types import utcnow
from database.unit_of_work import locked

# Locked until the writing unit ends: an admin deleting the artist at the same
# moment then waits for the song or album that names it, and sees it (409),
# instead of the write failing on the foreign key.
FIND = locked(select(artists.c.id).where(artists.c.name_key == bindparam("name_key")), artists)


def artist_fields(name: str, sort_name: str | None = None) -> dict[str, Any]:
    """The stored columns of a new artist called `name`."""
    sort_name = sort_name or name
    return {
        "name": name,
        "sort_name": sort_name,
        "name_key": folded_key("name", name),
        "sort_name_key": folded_key("sort_name", sort_name),
    }


def artist_id_for(connection: Connection, name: str) -> int:
    """The id of the artist called `name` under folding, inserted (with its search
    terms) when there is none, inside the caller's transaction, which then holds
    the artist's row lock.

    Two transactions inserting the same new name race on the unique `name_key`:
    the loser's insert runs in a savepoint, so its failure undoes only the insert,
    and it then reads the winner's row (the unique index made it wait for the
    winner's commit)."""
    key = {"name_key": folded_key("name", name)}
    found = connection.scalar(FIND, key)
    if found is not None:
        return int(found)
    now = utcnow()
    try:
        with connection.begin_nested():
            artist_id = connection.execute(
                insert(artists).values(**artist_fields(name), created_at=now, updated_at=now)
            ).inserted_primary_key[0]
    except IntegrityError:
        found = connection.scalar(FIND, key)
        if found is None:
            raise
        return int(found)
    sync_terms(connection, artists, artist_id, name, "")
    return int(artist_id)


def memory_artist_id_for(db: MemoryDatabase, name: str) -> int:
    """`artist_id_for` over the in-memory store."""
    with db.lock:
        key = folded_key("name", name)
        for artist in db.artists.values():
            if artist["name_key"] == key:
                return int(artist["id"])
        return int(db.insert("artists", artist_fields(name))["id"])
