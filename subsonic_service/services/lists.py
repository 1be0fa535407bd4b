"""The list and search methods' use cases: getAlbumList2, getRandomSongs,
getSongsByGenre, getStarred2, search3. Each reads in one unit: an ordered page of
ids (repos/lists_sql.py), then the records with the caller's state
(repos/library_sql.py), fetched CHUNK ids at a time so that no statement binds
more parameters than SQL Server takes (2,100).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from database.tables import albums, folded_key, songs
from subsonic_service import shapes
from subsonic_service.envelope import Payload
from subsonic_service.repos.lists_sql import year_range
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork

Unit = Callable[[], SqlSubsonicUnitOfWork]
T = TypeVar("T")

# Ids turned into records per statement (their IN list is one parameter each).
CHUNK = 500
# search3 strings that mean "everything": some apps send the quotes of the
# reference's example (`query=""`) literally.
EVERYTHING = frozenset({"", '""', "''"})
# What of a query is searched: the REST /search's limit on `q`. A longer one is cut
# rather than refused (an app's search box has no error to show).
MAX_QUERY_LENGTH = 100


def _chunked(ids: Sequence[int], fetch: Callable[[list[int]], list[T]]) -> list[T]:
    found: list[T] = []
    for start in range(0, len(ids), CHUNK):
        found.extend(fetch(list(ids[start : start + CHUNK])))
    return found


def album_list(
    unit: Unit,
    kind: str,
    *,
    offset: int,
    size: int,
    user_id: int,
    years: tuple[int, int] | None = None,
    genre: str | None = None,
) -> Payload:
    """getAlbumList2's `albumList2` (Responses/albumList2.md): {album: AlbumID3[]}
    of list `kind` (a checked type of Endpoints/getalbumlist2.md). `random`
    ignores `offset` (each call is a new draw)."""
    with unit() as uow:
        if kind == "random":
            ids = uow.lists.random_ids(albums, (), size)
        else:
            genre_key = folded_key("genre", genre) if genre is not None else None
            ids = uow.lists.album_list(
                kind, offset=offset, size=size, user_id=user_id, years=years, genre_key=genre_key
            )
        records = _chunked(ids, lambda chunk: uow.library.albums_by_id(chunk, user_id))
    return {"album": [shapes.album(record) for record in records]}


def random_songs(
    unit: Unit,
    *,
    size: int,
    user_id: int,
    genre: str | None = None,
    from_year: int | None = None,
    to_year: int | None = None,
) -> Payload:
    """getRandomSongs' `randomSongs` (Responses/songs.md): {song: Child[]}, up to
    `size` distinct songs of the genre (folded) released from_year..to_year (each
    bound optional; songs of unknown date match only when no year is given)."""
    conditions = []
    if genre is not None:
        conditions.append(songs.c.genre_key == folded_key("genre", genre))
    if from_year is not None:
        conditions.append(songs.c.release_date >= year_range(from_year, from_year)[0])
    if to_year is not None:
        conditions.append(songs.c.release_date <= year_range(to_year, to_year)[1])
    with unit() as uow:
        ids = uow.lists.random_ids(songs, conditions, size)
        records = _chunked(ids, lambda chunk: uow.library.songs_by_id(chunk, user_id))
    return {"song": [shapes.child(record) for record in records]}


def songs_by_genre(unit: Unit, genre: str, *, offset: int, count: int, user_id: int) -> Payload:
    """getSongsByGenre's `songsByGenre` (Responses/songs.md): {song: Child[]} of the
    genre (folded: "rock" finds "Rock"), in the order the songs were added."""
    with unit() as uow:
        ids = uow.lists.songs_by_genre(folded_key("genre", genre), offset=offset, count=count)
        records = _chunked(ids, lambda chunk: uow.library.songs_by_id(chunk, user_id))
    return {"song": [shapes.child(record) for record in records]}


def starred(unit: Unit, user_id: int) -> Payload:
    """getStarred2's `starred2`: {artist: ArtistID3[], album: AlbumID3[], song:
    Child[]}, each the caller's likes, newest first. (Responses/starred2.md names
    Artist and Child; the ID3 shapes are what getStarred2's ID3 organisation and
    the Subsonic schema give, and what clients read.)"""
    with unit() as uow:
        library = uow.library

        def liked(kind: str, fetch: Callable[[list[int]], list[T]]) -> list[T]:
            # Every like, CHUNK at a time: getStarred2 has no paging of its own.
            found: list[T] = []
            offset = 0
            while True:
                ids = uow.lists.liked_ids(kind, user_id, offset=offset, limit=CHUNK)
                found.extend(fetch(ids))
                if len(ids) < CHUNK:
                    return found
                offset += CHUNK

        artists = liked("artist", lambda ids: library.artists_by_id(ids, user_id))
        liked_albums = liked("album", lambda ids: library.albums_by_id(ids, user_id))
        liked_songs = liked("song", lambda ids: library.songs_by_id(ids, user_id))
    return {
        "artist": [shapes.artist(record) for record in artists],
        "album": [shapes.album(record) for record in liked_albums],
        "song": [shapes.child(record) for record in liked_songs],
    }


@dataclass(frozen=True)
class SearchPages:
    """search3's paging: (offset, count) for artists, albums and songs."""

    artists: tuple[int, int]
    albums: tuple[int, int]
    songs: tuple[int, int]


def search(unit: Unit, query: str, pages: SearchPages, user_id: int) -> Payload:
    """search3's `searchResult3` (Responses/searchResult3.md): {artist: ArtistID3[],
    album: AlbumID3[], song: Child[]}.

    A query matches as the REST /search does (database.search): every word of the
    folded query starts a word of the folded title (name) or artist, so "arzte"
    finds "Die Ärzte"; ranked exact title, then title prefix, then word matches.
    An empty query (also `""`, as some apps send it) lists everything by folded
    title then id, a stable order to page through (Endpoints/search3.md: servers
    must support it for offline sync)."""
    q = "" if query.strip() in EVERYTHING else query[:MAX_QUERY_LENGTH]
    with unit() as uow:
        lists, library = uow.lists, uow.library
        artist_ids = lists.search_ids("artist", q, offset=pages.artists[0], limit=pages.artists[1])
        album_ids = lists.search_ids("album", q, offset=pages.albums[0], limit=pages.albums[1])
        song_ids = lists.search_ids("song", q, offset=pages.songs[0], limit=pages.songs[1])
        artists = _chunked(artist_ids, lambda chunk: library.artists_by_id(chunk, user_id))
        found_albums = _chunked(album_ids, lambda chunk: library.albums_by_id(chunk, user_id))
        found_songs = _chunked(song_ids, lambda chunk: library.songs_by_id(chunk, user_id))
    return {
        "artist": [shapes.artist(record) for record in artists],
        "album": [shapes.album(record) for record in found_albums],
        "song": [shapes.child(record) for record in found_songs],
    }
