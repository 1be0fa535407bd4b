"""An in-memory stand-in for the database, shared by every in-memory repository.

Tables are dicts of rows (plain dicts of column values) and deletes cascade as
the foreign keys in models.py do, so fakes of different services stay as
consistent with each other as the real tables are. The repository contract
suite holds the fakes to the SQL behaviour.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from database.types import utcnow

Row = dict[str, Any]


@dataclass
class MemoryDatabase:
    users: dict[int, Row] = field(default_factory=dict)
    albums: dict[int, Row] = field(default_factory=dict)
    songs: dict[int, Row] = field(default_factory=dict)
    album_songs: dict[tuple[int, int], Row] = field(default_factory=dict)
    user_likes: dict[tuple[int, int], Row] = field(default_factory=dict)
    artists: dict[int, Row] = field(default_factory=dict)
    album_likes: dict[tuple[int, int], Row] = field(default_factory=dict)  # (user, album)
    artist_likes: dict[tuple[int, int], Row] = field(default_factory=dict)  # (user, artist)
    playlists: dict[int, Row] = field(default_factory=dict)
    playlist_songs: dict[tuple[int, int], Row] = field(default_factory=dict)  # (playlist, position)
    plays: dict[tuple[int, Any, int], Row] = field(default_factory=dict)  # (user, played_at, song)
    media_files: dict[int, Row] = field(default_factory=dict)  # song id -> row
    library_scans: dict[int, Row] = field(default_factory=dict)
    refresh_tokens: dict[int, Row] = field(default_factory=dict)
    login_failures: dict[int, Row] = field(default_factory=dict)
    api_keys: dict[int, Row] = field(default_factory=dict)
    app_passwords: dict[int, Row] = field(default_factory=dict)  # user id -> row
    lock: threading.RLock = field(default_factory=threading.RLock)
    _sequences: dict[str, Iterator[int]] = field(default_factory=dict)

    TABLES = (
        "users", "albums", "songs", "album_songs", "user_likes", "refresh_tokens", "login_failures",
        "artists", "album_likes", "artist_likes", "playlists", "playlist_songs", "plays",
        "media_files", "library_scans", "api_keys", "app_passwords",
    )  # fmt: skip

    def tables(self) -> dict[str, dict[Any, Row]]:
        """Every table by name: what a unit of work snapshots to roll back."""
        return {name: getattr(self, name) for name in self.TABLES}

    def restore(self, tables: dict[str, dict[Any, Row]]) -> None:
        """Put every table back as `tables` holds it (a rollback)."""
        for name, rows in tables.items():
            table = getattr(self, name)
            table.clear()
            table.update(rows)

    def next_id(self, table: str) -> int:
        """Ids are never reused, as with an identity column."""
        with self.lock:
            return next(self._sequences.setdefault(table, itertools.count(1)))

    def insert(self, table: str, values: Row, defaults: Row | None = None) -> Row:
        """Add a row as the database would: a fresh identity, both timestamps set,
        unsent nullable columns as None (`defaults`)."""
        with self.lock:
            now = utcnow()
            row = {**(defaults or {}), **values, "id": self.next_id(table)}
            row.update(created_at=now, updated_at=now)
            getattr(self, table)[row["id"]] = row
            return row

    def delete_user(self, user_id: int) -> bool:
        with self.lock:
            if self.users.pop(user_id, None) is None:
                return False
            for likes in (self.user_likes, self.album_likes, self.artist_likes):
                self._drop(likes, lambda key, _: key[0] == user_id)
            self._drop(self.refresh_tokens, lambda _, row: row["user_id"] == user_id)
            self._drop(self.api_keys, lambda _, row: row["user_id"] == user_id)
            self.app_passwords.pop(user_id, None)
            self._drop(self.plays, lambda key, _: key[0] == user_id)
            for scan in self.library_scans.values():  # ON DELETE SET NULL
                if scan["requested_by"] == user_id:
                    scan["requested_by"] = None
            owned = {key for key, row in self.playlists.items() if row["owner_id"] == user_id}
            self._drop(self.playlists, lambda key, _: key in owned)
            self._drop(self.playlist_songs, lambda key, _: key[0] in owned)
            return True

    def delete_song(self, song_id: int) -> bool:
        with self.lock:
            if self.songs.pop(song_id, None) is None:
                return False
            self._drop(self.user_likes, lambda key, _: key[1] == song_id)
            self._drop(self.album_songs, lambda key, _: key[1] == song_id)
            self._drop(self.plays, lambda key, _: key[2] == song_id)
            self.media_files.pop(song_id, None)
            # As the foreign key's cascade does: positions left behind are the
            # service's to close up, in the same unit, before it deletes the song.
            self._drop(self.playlist_songs, lambda _, row: row["song_id"] == song_id)
            return True

    def delete_album(self, album_id: int) -> bool:
        with self.lock:
            if self.albums.pop(album_id, None) is None:
                return False
            self._drop(self.album_songs, lambda key, _: key[0] == album_id)
            self._drop(self.album_likes, lambda key, _: key[1] == album_id)
            return True

    def delete_artist(self, artist_id: int) -> bool:
        """Delete an artist no album or song names (the caller checks: the SQL
        foreign keys refuse otherwise); its likes go with it."""
        with self.lock:
            if self.artists.pop(artist_id, None) is None:
                return False
            self._drop(self.artist_likes, lambda key, _: key[1] == artist_id)
            return True

    @staticmethod
    def _drop(table: dict[Any, Row], doomed: Any) -> None:
        for key in [key for key, row in table.items() if doomed(key, row)]:
            del table[key]
