"""The OpenSubsonic object shapes (Responses/Child.md, AlbumID3.md, ArtistID3.md,
ItemGenre.md, ItemDate.md) built from the facade's records, once, for every
method that shows them. Optional fields the catalogue cannot fill are left out,
never sent empty or invented."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from subsonic_service import ids
from subsonic_service.envelope import Payload
from subsonic_service.repos.records import AlbumRecord, ArtistRecord, SongRecord

# An album is a compilation (AlbumID3.isCompilation) when its album artist is this
# name, as tags write it (media.tags reads compilations the same way).
VARIOUS_ARTISTS = "various artists"


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and `Z`, as the reference's examples."""
    if value is None:
        return None
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def item_date(value: date | None) -> Payload | None:
    """ItemDate: {year, month, day}."""
    if value is None:
        return None
    return {"year": value.year, "month": value.month, "day": value.day}


def _artist_ref(artist_id: int | None, name: str) -> list[Payload] | None:
    """The `artists` / `albumArtists` arrays: only ArtistID3's required fields."""
    if artist_id is None:
        return None
    return [{"id": ids.make("ar", artist_id), "name": name}]


def child(song: SongRecord) -> Payload:
    """A song as `Child` (Responses/Child.md): `mediaType` song, never a directory."""
    media = song.media
    suffix = media.suffix if media else None
    path = None
    if media is not None:
        # A display path (Artist/Album/NN - Title.ext), not where the file lives:
        # some apps name downloads after it; the server's folders stay private.
        track = f"{song.track:02d} - " if song.track else ""
        path = f"{song.artist}/{song.album or 'Unknown album'}/{track}{song.title}.{suffix}"
    return {
        "id": ids.make("so", song.id),
        "parent": ids.make("al", song.album_id) if song.album_id else None,
        "isDir": False,
        "title": song.title,
        "album": song.album,
        "artist": song.artist,
        "track": song.track,
        "year": song.release_date.year if song.release_date else None,
        "genre": song.genre or None,
        "coverArt": ids.make("so", song.id),
        "size": media.size if media else None,
        "contentType": media.content_type if media else None,
        "suffix": suffix,
        "duration": song.duration,
        "bitRate": media.bitrate if media else None,
        "samplingRate": media.sample_rate if media else None,
        "channelCount": media.channels if media else None,
        "path": path,
        "isVideo": False,
        "playCount": song.play_count,
        "played": iso(song.played_at),
        "discNumber": song.disc,
        "created": iso(song.created_at),
        "starred": iso(song.starred_at),
        "albumId": ids.make("al", song.album_id) if song.album_id else None,
        "artistId": ids.make("ar", song.artist_id) if song.artist_id else None,
        "type": "music",
        "mediaType": "song",
        "genres": [{"name": song.genre}] if song.genre else None,
        "artists": _artist_ref(song.artist_id, song.artist),
        "displayArtist": song.artist,
    }


def album(record: AlbumRecord) -> Payload:
    """An album as `AlbumID3` (Responses/AlbumID3.md)."""
    return {
        "id": ids.make("al", record.id),
        "name": record.title,
        "artist": record.artist,
        "artistId": ids.make("ar", record.artist_id) if record.artist_id else None,
        "coverArt": ids.make("al", record.id),
        "songCount": record.song_count,
        "duration": record.duration,
        "created": iso(record.created_at),
        "starred": iso(record.starred_at),
        "year": record.release_date.year if record.release_date else None,
        "genre": record.genre or None,
        "genres": [{"name": record.genre}] if record.genre else None,
        "artists": _artist_ref(record.artist_id, record.artist),
        "displayArtist": record.artist,
        "releaseDate": item_date(record.release_date),
        "isCompilation": record.artist.strip().lower() == VARIOUS_ARTISTS,
    }


def artist(record: ArtistRecord) -> Payload:
    """An artist as `ArtistID3` (Responses/ArtistID3.md)."""
    return {
        "id": ids.make("ar", record.id),
        "name": record.name,
        "coverArt": ids.make("ar", record.id),
        "albumCount": record.album_count,
        "starred": iso(record.starred_at),
        "sortName": record.sort_name,
    }


def with_children(shape: Payload, key: str, children: list[Any]) -> Payload:
    """`shape` plus a list of child objects under `key` (an album's `song`, an
    artist's `album`)."""
    return {**shape, key: children}
