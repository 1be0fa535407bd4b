"""Album and song lists, and search (Endpoints/*.md): getAlbumList2,
getRandomSongs, getSongsByGenre, getStarred2, search3.

Sizes: `size` / `count` default 10; the reference's maximum, 500, is applied to
larger values (a client asking 1,000 gets 500). search3's counts default 20 and
go up to MAX_SEARCH_COUNT (offline-sync apps page through everything with big
pages; a larger count is error 0 rather than a silently shorter page, which a
client would read as the end). A missing required parameter is error 10; a
present but unusable one error 0.
"""

from __future__ import annotations

from subsonic_service.envelope import Payload
from subsonic_service.errors import invalid, missing
from subsonic_service.methods.browsing import check_folder
from subsonic_service.params import INT_LIMIT, Params
from subsonic_service.registry import Call, method
from subsonic_service.repos.lists_sql import ALBUM_LIST_TYPES
from subsonic_service.services import lists
from subsonic_service.services.lists import SearchPages

DEFAULT_SIZE = 10
MAX_SIZE = 500
DEFAULT_SEARCH_COUNT = 20
MAX_SEARCH_COUNT = 10_000
# Years beyond these name no date (Python's, and every database's, date range).
YEAR_LIMIT = 9999


def _size(params: Params, name: str) -> int:
    """`name` (size, count): default 10, at most 500 (larger asks get 500)."""
    value = params.int(name, DEFAULT_SIZE, high=INT_LIMIT)
    return min(value if value is not None else DEFAULT_SIZE, MAX_SIZE)


def _offset(params: Params, name: str = "offset") -> int:
    value = params.int(name, 0)
    return value if value is not None else 0


def _year(params: Params, name: str) -> int | None:
    return params.int(name, None, high=YEAR_LIMIT)


def _required_year(params: Params, name: str) -> int:
    value = _year(params, name)
    if value is None:
        raise missing(name)
    return value


# Lists that aggregate or scan rather than follow an index (see services/lists.py):
# they never run on the event loop (common.db.in_database).
SCANNING_LISTS = frozenset({"highest", "frequent", "recent", "byYear"})


@method("getAlbumList2")
async def get_album_list2(call: Call) -> Payload:
    """`albumList2`: {album: AlbumID3[]}. `type` (required) is one of random,
    newest, highest (most liked: there are no ratings), frequent (the caller's
    most played), recent (the caller's most recently played), alphabeticalByName,
    alphabeticalByArtist, starred (the caller's, newest first), byYear
    (`fromYear`, `toYear` required; newest first when fromYear > toYear), byGenre
    (`genre` required); `size` (10, max 500), `offset` (0). Unknown type: error 0."""
    params = call.params
    kind = params.require("type")
    if kind not in ALBUM_LIST_TYPES:
        raise invalid("type", "one of " + ", ".join(ALBUM_LIST_TYPES))
    check_folder(params)
    size, offset = _size(params, "size"), _offset(params)
    years: tuple[int, int] | None = None
    genre: str | None = None
    if kind == "byYear":
        years = (_required_year(params, "fromYear"), _required_year(params, "toYear"))
    elif kind == "byGenre":
        genre = params.require("genre")
    user_id = call.user.user_id
    found = await call.read(
        lambda: lists.album_list(
            call.unit, kind, offset=offset, size=size, user_id=user_id, years=years, genre=genre
        ),
        scan=kind in SCANNING_LISTS,
    )
    return {"albumList2": found}


@method("getRandomSongs")
async def get_random_songs(call: Call) -> Payload:
    """`randomSongs`: {song: Child[]}, up to `size` (10, max 500) distinct random
    songs, optionally of `genre` and released in `fromYear`..`toYear`."""
    params = call.params
    check_folder(params)
    size = _size(params, "size")
    genre = params.get("genre") or None
    from_year = _year(params, "fromYear")
    to_year = _year(params, "toYear")
    user_id = call.user.user_id
    found = await call.read(
        lambda: lists.random_songs(
            call.unit, size=size, user_id=user_id, genre=genre, from_year=from_year,
            to_year=to_year,
        ),
        scan=from_year is not None or to_year is not None,
    )  # fmt: skip
    return {"randomSongs": found}


@method("getSongsByGenre")
async def get_songs_by_genre(call: Call) -> Payload:
    """`songsByGenre`: {song: Child[]} of `genre` (required), `count` (10, max
    500) from `offset` (0), in the order the songs were added."""
    params = call.params
    genre = params.require("genre")
    check_folder(params)
    count, offset = _size(params, "count"), _offset(params)
    user_id = call.user.user_id
    found = await call.read(
        lambda: lists.songs_by_genre(call.unit, genre, offset=offset, count=count, user_id=user_id)
    )
    return {"songsByGenre": found}


@method("getStarred2")
async def get_starred2(call: Call) -> Payload:
    """`starred2`: {artist: ArtistID3[], album: AlbumID3[], song: Child[]}: what the
    caller liked (starred), newest first."""
    check_folder(call.params)
    user_id = call.user.user_id
    return {"starred2": await call.read(lambda: lists.starred(call.unit, user_id), scan=True)}


@method("search3")
async def search3(call: Call) -> Payload:
    """`searchResult3`: {artist: ArtistID3[], album: AlbumID3[], song: Child[]}.
    `query` (required; empty or `""` lists everything); `artistCount`,
    `albumCount`, `songCount` (20 each, max MAX_SEARCH_COUNT) and `artistOffset`,
    `albumOffset`, `songOffset` (0)."""
    params = call.params
    if "query" not in params:
        raise missing("query")
    query = params.get("query") or ""
    check_folder(params)

    def page(kind: str) -> tuple[int, int]:
        count = params.int(f"{kind}Count", DEFAULT_SEARCH_COUNT, high=MAX_SEARCH_COUNT)
        return _offset(params, f"{kind}Offset"), count if count is not None else 0

    pages = SearchPages(page("artist"), page("album"), page("song"))
    user_id = call.user.user_id
    found = await call.read(lambda: lists.search(call.unit, query, pages, user_id), scan=True)
    return {"searchResult3": found}
