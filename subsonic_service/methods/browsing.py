"""Browsing (Endpoints/*.md): getIndexes, getArtists, getArtist, getAlbum, getSong,
getGenres. Ids are typed (`ar-3`, `al-12`, `so-40`): a missing `id` is error 10,
a malformed, mistyped or unknown one error 70. The one music folder is 1: any
other `musicFolderId` names nothing (error 70)."""

from __future__ import annotations

from subsonic_service import ids
from subsonic_service.envelope import Payload
from subsonic_service.errors import not_found
from subsonic_service.params import Params
from subsonic_service.registry import Call, method
from subsonic_service.services import browsing

# ifModifiedSince is milliseconds since 1970: beyond 32 bits (a Java long).
MAX_MILLISECONDS = 2**63 - 1


def check_folder(params: Params) -> None:
    """`musicFolderId`, when given, must be the one folder (1); else error 70."""
    value = params.get("musicFolderId")
    if value is not None and value.strip() not in ("", str(ids.MUSIC_FOLDER_ID)):
        raise not_found("Music folder")


@method("getIndexes")
async def get_indexes(call: Call) -> Payload:
    """`indexes`: every artist filed by letter (services/browsing.py says how),
    `lastModified` in ms, `ignoredArticles`. `ifModifiedSince` (ms): when nothing
    changed since, the `indexes` without any `index`."""
    check_folder(call.params)
    since = call.params.int("ifModifiedSince", high=MAX_MILLISECONDS)
    user_id = call.user.user_id
    return {
        "indexes": await call.read(lambda: browsing.indexes(call.unit, user_id, since), scan=True)
    }


@method("getArtists")
async def get_artists(call: Call) -> Payload:
    """`artists` (ArtistsID3): `ignoredArticles` and `index` [{name, artist[]}]."""
    check_folder(call.params)
    user_id = call.user.user_id
    return {"artists": await call.read(lambda: browsing.artists(call.unit, user_id), scan=True)}


@method("getArtist")
async def get_artist(call: Call) -> Payload:
    """`id` (ar-N, required): `artist` (ArtistWithAlbumsID3) with its albums."""
    artist_id = ids.parse(call.params.require("id"), "ar")
    user_id = call.user.user_id
    return {"artist": await call.read(lambda: browsing.artist(call.unit, artist_id, user_id))}


@method("getAlbum")
async def get_album(call: Call) -> Payload:
    """`id` (al-N, required): `album` (AlbumID3WithSongs), songs in disc/track order."""
    album_id = ids.parse(call.params.require("id"), "al")
    user_id = call.user.user_id
    return {"album": await call.read(lambda: browsing.album(call.unit, album_id, user_id))}


@method("getSong")
async def get_song(call: Call) -> Payload:
    """`id` (so-N, required): `song` (Child)."""
    song_id = ids.parse(call.params.require("id"), "so")
    user_id = call.user.user_id
    return {"song": await call.read(lambda: browsing.song(call.unit, song_id, user_id))}


@method("getGenres")
async def get_genres(call: Call) -> Payload:
    """`genres`: {genre: [{value, songCount, albumCount}]} by name."""
    return {"genres": await call.read(lambda: browsing.genres(call.unit), scan=True)}
