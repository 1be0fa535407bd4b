"""One search across artists, albums and songs, and the genre list (API.md,
Search and genres). song_service only reads the artists and albums tables
(album_service writes them), so their summaries here are read-only records of
its own: it never imports album_service."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple, Protocol

from song_service.repos.base import SongView


class ArtistSummary(NamedTuple):
    """An artist as a search result: its names and how many albums and songs
    name it (by artist_id)."""

    id: int
    name: str
    sort_name: str
    album_count: int
    song_count: int


class AlbumSummary(NamedTuple):
    """An album as a search result, with its linked songs' count and total
    duration (seconds; songs of unknown duration count 0)."""

    id: int
    title: str
    artist: str
    artist_id: int | None
    genre: str
    release_date: date | None
    cover_image_url: str | None
    song_count: int
    duration: int
    created_at: datetime
    updated_at: datetime


class GenreSummary(NamedTuple):
    """One folded genre (genre_key) with the songs and albums filed under it. The
    name is the genre as the lowest-id song with that key spells it, else as the
    lowest-id album does, so every database shows the same."""

    key: str
    name: str
    song_count: int
    album_count: int


class SearchRepository(Protocol):
    def artists(self, q: str, *, offset: int, limit: int) -> list[ArtistSummary]:
        """Artists matching q in database.search's rank order (an empty q: all,
        by name key then id)."""
        ...

    def albums(self, q: str, *, offset: int, limit: int) -> list[AlbumSummary]:
        """Albums matching q in rank order (an empty q: all, by title key then id)."""
        ...

    def songs(self, q: str, *, offset: int, limit: int, viewer_id: int | None) -> list[SongView]:
        """Songs matching q in rank order, each with its like and play state."""
        ...

    def genres(self, *, offset: int, limit: int) -> list[GenreSummary]:
        """The folded genres of songs and albums, by key."""
        ...
