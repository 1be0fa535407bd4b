"""The browsing methods' use cases: getIndexes, getArtists, getArtist, getAlbum,
getSong, getGenres. Each reads in one unit and returns the payload the method
answers (shapes.py builds the objects).

The artist index (getIndexes, getArtists) files each artist under the first
letter of its sort key: its sort name folded (database.text.fold: case and
accents dropped, so "Ärzte" files under A) with one leading article removed. The
articles are those the reference's ArtistsID3 example lists
(Responses/ArtistsID3.md): "The An A Die Das Ein Eine Les Le La", sent to
clients as `ignoredArticles` so that their own sorting agrees. "The Beatles"
files under B, "Die Ärzte" under A; a key that starts with no letter (digits,
punctuation) under "#", which comes first. Within an index, artists run by sort
key, then id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from database.text import fold
from subsonic_service import shapes
from subsonic_service.envelope import Payload
from subsonic_service.errors import not_found
from subsonic_service.ids import make
from subsonic_service.repos.records import ArtistRecord
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork

Unit = Callable[[], SqlSubsonicUnitOfWork]

IGNORED_ARTICLES = "The An A Die Das Ein Eine Les Le La"
_ARTICLES = frozenset(fold(article) for article in IGNORED_ARTICLES.split())
OTHER_INDEX = "#"


def sort_key(sort_name: str) -> str:
    """The folded sort name without one leading article ("the beatles" → "beatles");
    a name that is only an article keeps it ("The" → "the")."""
    key = fold(sort_name)
    article, space, rest = key.partition(" ")
    return rest if space and rest and article in _ARTICLES else key


def index_name(key: str) -> str:
    """The index a sort key files under: its first letter upper-cased, else "#"."""
    first = key[:1]
    return first.upper() if first.isalpha() else OTHER_INDEX


def indexed(records: list[ArtistRecord]) -> list[tuple[str, list[ArtistRecord]]]:
    """`records` grouped into indexes: "#" first, then the letters in code point
    order; each index's artists by sort key, then id."""
    ordered = sorted(records, key=lambda record: (sort_key(record.sort_name), record.id))
    groups: dict[str, list[ArtistRecord]] = {}
    for record in ordered:
        groups.setdefault(index_name(sort_key(record.sort_name)), []).append(record)
    return sorted(groups.items(), key=lambda item: (item[0] != OTHER_INDEX, item[0]))


def epoch_ms(value: datetime | None) -> int:
    """Milliseconds since 1970-01-01 UTC (0 for never)."""
    if value is None:
        return 0
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def _index_artist(record: ArtistRecord) -> Payload:
    """An artist as getIndexes' `Artist` (Responses/artist.md), plus albumCount."""
    return {
        "id": make("ar", record.id),
        "name": record.name,
        "starred": shapes.iso(record.starred_at),
        "albumCount": record.album_count,
    }


def indexes(unit: Unit, user_id: int, if_modified_since: int | None) -> Payload:
    """getIndexes' `indexes` (Responses/indexes.md): `lastModified` (ms),
    `ignoredArticles` and `index` [{name, artist[]}]. With `if_modified_since`
    (ms) at or after lastModified, the `indexes` without any index: nothing new
    (Endpoints/getindexes.md)."""
    with unit() as uow:
        last_modified = epoch_ms(uow.lists.artists_changed_at())
        if if_modified_since is not None and last_modified <= if_modified_since:
            return {"lastModified": last_modified, "ignoredArticles": IGNORED_ARTICLES}
        records = uow.lists.artist_index(user_id)
    return {
        "lastModified": last_modified,
        "ignoredArticles": IGNORED_ARTICLES,
        "index": [
            {"name": name, "artist": [_index_artist(record) for record in group]}
            for name, group in indexed(records)
        ],
    }


def artists(unit: Unit, user_id: int) -> Payload:
    """getArtists' `artists` (Responses/ArtistsID3.md): `ignoredArticles` and
    `index` [{name, artist: ArtistID3[]}]."""
    with unit() as uow:
        records = uow.lists.artist_index(user_id)
    return {
        "ignoredArticles": IGNORED_ARTICLES,
        "index": [
            {"name": name, "artist": [shapes.artist(record) for record in group]}
            for name, group in indexed(records)
        ],
    }


def artist(unit: Unit, artist_id: int, user_id: int) -> Payload:
    """getArtist's `artist` (Responses/ArtistWithAlbumsID3.md): the ArtistID3 and
    its albums as AlbumID3, oldest release first. Error 70 for no such artist."""
    with unit() as uow:
        record = uow.library.artist(artist_id, user_id)
        if record is None:
            raise not_found("Artist")
        albums = uow.library.artist_albums(artist_id, user_id)
    return shapes.with_children(
        shapes.artist(record), "album", [shapes.album(album) for album in albums]
    )


def album(unit: Unit, album_id: int, user_id: int) -> Payload:
    """getAlbum's `album` (Responses/AlbumID3WithSongs.md): the AlbumID3 and its
    songs as Child in (disc, track) order. Error 70 for no such album."""
    with unit() as uow:
        record = uow.library.album(album_id, user_id)
        if record is None:
            raise not_found("Album")
        songs = uow.library.album_songs(album_id, user_id)
    return shapes.with_children(
        shapes.album(record), "song", [shapes.child(song) for song in songs]
    )


def song(unit: Unit, song_id: int, user_id: int) -> Payload:
    """getSong's `song` (Responses/Child.md). Error 70 for no such song."""
    with unit() as uow:
        record = uow.library.song(song_id, user_id)
    if record is None:
        raise not_found("Song")
    return shapes.child(record)


def genres(unit: Unit) -> Payload:
    """getGenres' `genres` (Responses/genres.md): `genre` [{value (the name; XML
    text), songCount, albumCount}] by folded name."""
    with unit() as uow:
        records = uow.lists.genres()
    return {
        "genre": [
            {"value": record.name, "songCount": record.song_count, "albumCount": record.album_count}
            for record in records
        ]
    }
