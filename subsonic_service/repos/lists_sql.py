"""Reads behind the Subsonic index, list and search methods: which rows, in which
order. Each list is first an ordered page of ids (one statement, ORDER BY before
OFFSET/LIMIT, as SQL Server requires), then LibraryReads turns the ids into
records with the caller's state; so every page costs the same on any catalogue.

Orders and the indexes they walk (database/tables.py):

- newest: albums (created_at, id) descending;
- alphabeticalByName: albums (title_key, id); alphabeticalByArtist: (artist_key,
  title_key, id), the (artist_key, id) index then a sort within one artist. The
  artist key is the folded album artist with its article ("the beatles"): no
  article-free key is stored, and sorting by one would read every album;
- byGenre: (genre_key, id): in the order albums (songs) were added;
- byYear: release_date, then title key and id. Albums have no release_date
  index, so this one sorts the albums of the year range;
- starred: the caller's likes (user_id, created_at), newest first;
- frequent / recent: the caller's plays grouped by album: as costly as the
  caller's listening history, never the catalogue;
- highest: there are no ratings here; the most liked albums (by every user)
  rank highest, ties by the latest like: a scan of album_likes grouped by album.

Random rows (`random_ids`): at most RANDOM_SPREAD * size candidate ids (with a
genre or year filter, FILTERED_SAMPLE_CAP) are read in id order; if that is all
the matching rows, the pick is a uniform sample of them. Otherwise each pick is
a random point between the lowest and highest matching id and the row is the
first matching one at or after it: one index seek per pick (in UNION ALL
statements of RANDOM_PROBES seeks), repeated for a few rounds while picks
collide. Plain SQL (ORDER BY, LIMIT, UNION ALL), so it runs the same on SQLite,
PostgreSQL, MariaDB and SQL Server, where ORDER BY RANDOM() would sort the whole
table. A row's chance then grows with the id gap before it (rows whose earlier
neighbours were deleted or do not match come up more
often): good for shuffle play, not for statistics.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    func,
    null,
    select,
    union_all,
)

from database.catalogue import genre_figures, genre_keys
from database.search import bound_search_page
from database.tables import (
    album_likes,
    album_songs,
    albums,
    artist_likes,
    artists,
    plays,
    songs,
    user_likes,
)
from subsonic_service.repos.library_sql import LibraryReads
from subsonic_service.repos.records import ArtistRecord, GenreRecord

# getAlbumList2's `type` values (Endpoints/getalbumlist2.md).
ALBUM_LIST_TYPES = (
    "random",
    "newest",
    "highest",
    "frequent",
    "recent",
    "alphabeticalByName",
    "alphabeticalByArtist",
    "starred",
    "byYear",
    "byGenre",
)
# Random picks: below this many matching rows per wanted one, sample them all.
RANDOM_SPREAD = 4
# With a filter (genre, years): sample all matching ids up to this many (a read of
# at most this many ids); beyond it, probe as without one.
FILTERED_SAMPLE_CAP = 10_000
# Index seeks per statement (SQLite allows at most 500 members in a compound SELECT).
RANDOM_PROBES = 100
# Rounds of seeks before settling for fewer rows than asked (collisions only).
RANDOM_ROUNDS = 3
# Not for secrets: which rows a shuffle plays. SystemRandom needs no seeding.
_RANDOM = random.SystemRandom()

# What search3 searches, as the ranked id statement database.search builds and
# caches around: built once, since its cache is keyed by the statement's identity.
_SEARCH_IDS: dict[str, tuple[Table, Select[Any]]] = {
    "artist": (artists, select(artists.c.id)),
    "album": (albums, select(albums.c.id)),
    "song": (songs, select(songs.c.id)),
}
_LIKES = {
    "artist": (artist_likes, artist_likes.c.artist_id),
    "album": (album_likes, album_likes.c.album_id),
    "song": (user_likes, user_likes.c.song_id),  # songs' likes keep their old name
}


def year_range(from_year: int, to_year: int) -> tuple[date, date, bool]:
    """The release dates of years from_year..to_year, in either order, and whether
    the list runs backwards (from_year > to_year: newest first,
    Endpoints/getalbumlist2.md). Years are clamped to 1..9999 (Python dates)."""
    first, last = (max(1, min(9999, year)) for year in (from_year, to_year))
    low, high = sorted((first, last))
    return date(low, 1, 1), date(high, 12, 31), first > last


class ListReads:
    """Ordered id pages and whole-catalogue lists (artists, genres)."""

    def __init__(self, connection: Connection, library: LibraryReads) -> None:
        self._connection = connection
        self._library = library

    # Artists and genres: answers that list the whole catalogue

    def artist_index(self, user_id: int | None) -> list[ArtistRecord]:
        """Every artist with its album count and the caller's like, by sort key and
        id: one statement (getIndexes and getArtists list every artist; the
        counts and likes are index seeks per artist)."""
        album_count = (
            select(func.count()).where(albums.c.artist_id == artists.c.id).scalar_subquery()
        )
        starred: Any = null()
        if user_id is not None:
            starred = (
                select(artist_likes.c.created_at)
                .where(artist_likes.c.artist_id == artists.c.id, artist_likes.c.user_id == user_id)
                .scalar_subquery()
            )
        statement = select(
            artists.c.id,
            artists.c.name,
            artists.c.sort_name,
            album_count.label("album_count"),
            starred.label("starred_at"),
        ).order_by(artists.c.sort_name_key, artists.c.id)
        return [
            ArtistRecord(
                id=row.id,
                name=row.name,
                sort_name=row.sort_name,
                album_count=int(row.album_count or 0),
                starred_at=row.starred_at,
            )
            for row in self._connection.execute(statement)
        ]

    def artists_changed_at(self) -> datetime | None:
        """When the artist index last changed: the latest artist update or new
        album (album counts show in it). Deletions leave no time behind, so a
        client that sent ifModifiedSince sees them at the next addition."""
        artist_change = self._connection.scalar(select(func.max(artists.c.updated_at)))
        # (created_at, id) index: the newest album is one seek.
        album_change = self._connection.scalar(select(func.max(albums.c.created_at)))
        times = [value for value in (artist_change, album_change) if value is not None]
        return max(times) if times else None

    def genres(self) -> list[GenreRecord]:
        """Every genre of songs and albums (folded: "rock" and "Rock" are one), by
        folded name, with its song and album counts; songs and albums of no genre
        are left out. The genres are few; the counts are (genre_key, id) ranges."""
        key = genre_keys().c.genre_key
        name, song_count, album_count = genre_figures(key)
        statement = (
            select(
                name.label("name"),
                song_count.label("song_count"),
                album_count.label("album_count"),
            )
            .where(key != "")
            .order_by(key)
        )
        return [
            GenreRecord(row.name, int(row.song_count), int(row.album_count))
            for row in self._connection.execute(statement)
        ]

    # Album lists

    def album_list(
        self,
        kind: str,
        *,
        offset: int,
        size: int,
        user_id: int,
        years: tuple[int, int] | None = None,
        genre_key: str | None = None,
    ) -> list[int]:
        """The album ids of one getAlbumList2 page of `kind` (not random; see the
        module's docstring for each order). `years` for byYear, `genre_key` (a
        folded genre) for byGenre; `user_id` is the caller, for starred,
        frequent and recent."""
        if size <= 0:
            return []
        statement = self._album_order(kind, user_id, years, genre_key)
        return list(self._connection.scalars(statement.offset(offset).limit(size)))

    def _album_order(
        self,
        kind: str,
        user_id: int,
        years: tuple[int, int] | None,
        genre_key: str | None,
    ) -> Select[Any]:
        album_id = albums.c.id
        if kind == "newest":
            return select(album_id).order_by(albums.c.created_at.desc(), album_id.desc())
        if kind == "alphabeticalByName":
            return select(album_id).order_by(albums.c.title_key, album_id)
        if kind == "alphabeticalByArtist":
            return select(album_id).order_by(albums.c.artist_key, albums.c.title_key, album_id)
        if kind == "byGenre":
            return select(album_id).where(albums.c.genre_key == genre_key).order_by(album_id)
        if kind == "byYear" and years is not None:
            low, high, backwards = year_range(*years)
            released = albums.c.release_date
            return (
                select(album_id)
                .where(released >= low, released <= high)
                .order_by(released.desc() if backwards else released, albums.c.title_key, album_id)
            )
        if kind == "starred":
            return (
                select(album_likes.c.album_id)
                .where(album_likes.c.user_id == user_id)
                .order_by(album_likes.c.created_at.desc(), album_likes.c.album_id.desc())
            )
        if kind == "highest":
            liked = (
                select(
                    album_likes.c.album_id,
                    func.count().label("like_count"),
                    func.max(album_likes.c.created_at).label("last_liked"),
                )
                .group_by(album_likes.c.album_id)
                .subquery("liked")
            )
            return select(liked.c.album_id).order_by(
                liked.c.like_count.desc(), liked.c.last_liked.desc(), liked.c.album_id
            )
        if kind in ("frequent", "recent"):
            played = (
                select(
                    album_songs.c.album_id,
                    func.count().label("play_count"),
                    func.max(plays.c.played_at).label("last_played"),
                )
                .select_from(plays)
                .join(album_songs, album_songs.c.song_id == plays.c.song_id)
                .where(plays.c.user_id == user_id)
                .group_by(album_songs.c.album_id)
                .subquery("played")
            )
            if kind == "frequent":
                order = (played.c.play_count.desc(), played.c.last_played.desc())
            else:
                order = (played.c.last_played.desc(), played.c.play_count.desc())
            return select(played.c.album_id).order_by(*order, played.c.album_id)
        raise ValueError(f"not an ordered album list: {kind}")

    # Songs

    def songs_by_genre(self, genre_key: str, *, offset: int, count: int) -> list[int]:
        """Song ids of the folded genre in the order they were added: one range
        of the (genre_key, id) index."""
        if count <= 0:
            return []
        statement = (
            select(songs.c.id)
            .where(songs.c.genre_key == genre_key)
            .order_by(songs.c.id)
            .offset(offset)
            .limit(count)
        )
        return list(self._connection.scalars(statement))

    # Random picks

    def random_ids(
        self, table: Table, conditions: Sequence[ColumnElement[bool]], size: int
    ) -> list[int]:
        """Up to `size` distinct random ids of `table`'s rows meeting `conditions`,
        in random order (see the module's docstring for how)."""
        if size <= 0:
            return []
        row_id = table.c.id
        # With a filter, the rows that do not match are gaps a probe would jump to
        # the next match from, making the first match after each run likelier (and
        # collisions, hence short answers, frequent): up to FILTERED_SAMPLE_CAP
        # matching ids are read instead, and sampled uniformly.
        spread = FILTERED_SAMPLE_CAP if conditions else size * RANDOM_SPREAD
        candidates = list(
            self._connection.scalars(
                select(row_id).where(*conditions).order_by(row_id).limit(spread + 1)
            )
        )
        if len(candidates) <= spread:
            return _RANDOM.sample(candidates, min(size, len(candidates)))
        low = candidates[0]
        high = self._connection.scalar(
            select(row_id).where(*conditions).order_by(row_id.desc()).limit(1)
        )
        found: dict[int, None] = {}
        for _ in range(RANDOM_ROUNDS):
            missing = size - len(found)
            if missing <= 0:
                break
            points = [_RANDOM.randint(low, high) for _ in range(missing)]
            for start in range(0, len(points), RANDOM_PROBES):
                probes = [
                    select(row_id.label("id"))
                    .where(*conditions, row_id >= point)
                    .order_by(row_id)
                    .limit(1)
                    .subquery()
                    for point in points[start : start + RANDOM_PROBES]
                ]
                # Each seek wrapped: SQLite takes no ORDER BY/LIMIT on union members.
                statement = union_all(*(select(probe.c.id) for probe in probes))
                for picked in self._connection.scalars(statement):
                    found.setdefault(picked)
        return list(found)[:size]

    # Likes and search

    def liked_ids(self, kind: str, user_id: int, *, offset: int, limit: int) -> list[int]:
        """The caller's liked artist, album or song ids, newest like first (the
        (user_id, created_at) index of the likes table)."""
        table, column = _LIKES[kind]
        statement = (
            select(column)
            .where(table.c.user_id == user_id)
            .order_by(table.c.created_at.desc(), column.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(self._connection.scalars(statement))

    def search_ids(self, kind: str, q: str, *, offset: int, limit: int) -> list[int]:
        """Artist, album or song ids matching `q` in database.search's rank order
        (the REST /search's matching and ranking); an empty q lists every row by
        folded title (name) then id."""
        if limit <= 0:
            return []
        table, statement = _SEARCH_IDS[kind]
        page = bound_search_page(statement, table, q, offset=offset, limit=limit)
        return [row[0] for row in self._connection.execute(page.statement, page.params)]
