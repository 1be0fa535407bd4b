"""Search across artists, albums and songs, and the genre list, in the shared SQL
database. Each list is one statement; the ranked ones go through database.search's
terms index, so a page costs the same at a million rows as at a thousand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, func, select

from database.catalogue import genre_figures, genre_keys
from database.search import bound_search_page
from database.tables import album_songs, albums, artists, songs
from song_service.repos.base import SongView
from song_service.repos.search_base import AlbumSummary, ArtistSummary, GenreSummary
from song_service.repos.views_sql import SONG_COLUMNS, VIEW_STATE, song_view, viewer_params

# Counts by artist_id: each one range of the (artist_id, id) index of albums or songs.
ARTIST_COLUMNS = [
    artists.c.id,
    artists.c.name,
    artists.c.sort_name,
    select(func.count()).where(albums.c.artist_id == artists.c.id).scalar_subquery(),
    select(func.count()).where(songs.c.artist_id == artists.c.id).scalar_subquery(),
]
ALBUM_COLUMNS = [
    albums.c.id,
    albums.c.title,
    albums.c.artist,
    albums.c.artist_id,
    albums.c.genre,
    albums.c.release_date,
    albums.c.cover_image_url,
    select(func.count()).where(album_songs.c.album_id == albums.c.id).scalar_subquery(),
    # Songs of unknown duration count 0, as album_service's albums say.
    select(func.coalesce(func.sum(func.coalesce(songs.c.duration, 0)), 0))
    .select_from(album_songs.join(songs, songs.c.id == album_songs.c.song_id))
    .where(album_songs.c.album_id == albums.c.id)
    .scalar_subquery(),
    albums.c.created_at,
    albums.c.updated_at,
]
ARTIST_WIDTH, ALBUM_WIDTH = len(ARTIST_COLUMNS), len(ALBUM_COLUMNS)
# Built once: database.search caches each page statement per shape around them,
# so a search only binds its values.
ARTIST_ROWS = select(*ARTIST_COLUMNS)
ALBUM_ROWS = select(*ALBUM_COLUMNS)
SONG_ROWS = select(*SONG_COLUMNS, *VIEW_STATE)


def _genres(offset: int, limit: int) -> Select[Any]:
    """One page of folded genres: the distinct keys of songs and albums (a UNION
    removes duplicates), paged by key, then for each key its counts and its display
    name, the genre of the lowest-id song (else album) with that key."""
    keys = genre_keys()
    page = (
        select(keys.c.genre_key)
        .order_by(keys.c.genre_key)
        # Plain numbers: SQL Server takes no bound OFFSET in a derived table.
        .offset(offset)
        .limit(limit)
        .subquery("genre_page")
    )
    key = page.c.genre_key
    return select(key, *genre_figures(key)).order_by(key)


class SqlSearchRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def artists(self, q: str, *, offset: int, limit: int) -> list[ArtistSummary]:
        page = bound_search_page(ARTIST_ROWS, artists, q, offset=offset, limit=limit)
        rows = self._connection.execute(page.statement, page.params)
        return [ArtistSummary(*row[:ARTIST_WIDTH]) for row in rows]

    def albums(self, q: str, *, offset: int, limit: int) -> list[AlbumSummary]:
        page = bound_search_page(ALBUM_ROWS, albums, q, offset=offset, limit=limit)
        rows = self._connection.execute(page.statement, page.params)
        return [AlbumSummary(*row[:ALBUM_WIDTH]) for row in rows]

    def songs(self, q: str, *, offset: int, limit: int, viewer_id: int | None) -> list[SongView]:
        page = bound_search_page(SONG_ROWS, songs, q, offset=offset, limit=limit)
        rows = self._connection.execute(page.statement, page.params | viewer_params(viewer_id))
        return [song_view(row, viewer_id) for row in rows]

    def genres(self, *, offset: int, limit: int) -> list[GenreSummary]:
        rows = self._connection.execute(_genres(offset, limit))
        return [GenreSummary(*row) for row in rows]
