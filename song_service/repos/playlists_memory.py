"""In-memory playlists over the shared MemoryDatabase; held to the SQL behaviour
by the contract suite. A unit of work holds the store's lock throughout, so
`lock` only has to say whose the playlist is."""

from __future__ import annotations

from typing import Any

from common.errors import AccountGoneError
from database.memory import MemoryDatabase, Row
from database.tables import words_key
from database.types import utcnow
from song_service.repos.base import SongNotFoundError, SongRecord, SongView
from song_service.repos.playlists_base import (
    PlaylistAccess,
    PlaylistEntry,
    PlaylistQuery,
    PlaylistRecord,
    name_words,
)
from song_service.repos.views_memory import memory_song_view


class InMemoryPlaylistRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def add(self, owner_id: int, fields: dict[str, Any]) -> int:
        with self._db.lock:
            if owner_id not in self._db.users:
                raise AccountGoneError
            values = {"description": None, "public": False, **fields, "owner_id": owner_id}
            values["name_key"] = words_key("name", values["name"])
            return self._db.insert("playlists", values)["id"]

    def get(self, playlist_id: int) -> PlaylistRecord | None:
        with self._db.lock:
            row = self._db.playlists.get(playlist_id)
            return self._record(row) if row else None

    def list(self, query: PlaylistQuery) -> list[PlaylistRecord]:
        words = name_words(query.q)
        with self._db.lock:
            rows = sorted(
                (
                    row
                    for row in self._db.playlists.values()
                    if (
                        row["owner_id"] == query.viewer_id or (row["public"] and not query.own_only)
                    )
                    and _has_words(row["name_key"], words)
                    and (query.after_id is None or row["id"] > query.after_id)
                ),
                key=lambda row: row["id"],
            )
            page = rows[query.offset : query.offset + query.limit]
            return [self._record(row) for row in page]

    def access(self, playlist_id: int) -> PlaylistAccess | None:
        row = self._db.playlists.get(playlist_id)
        return PlaylistAccess(row["owner_id"], row["public"]) if row else None

    def lock(self, playlist_id: int) -> PlaylistAccess | None:
        # The unit holds the store's lock already: edits cannot interleave.
        return self.access(playlist_id)

    def update(self, playlist_id: int, changes: dict[str, Any]) -> None:
        with self._db.lock:
            row = self._db.playlists.get(playlist_id)
            if row is None:
                return
            row.update(changes, updated_at=utcnow())
            if "name" in changes:
                row["name_key"] = words_key("name", changes["name"])

    def delete(self, playlist_id: int) -> bool:
        with self._db.lock:
            if self._db.playlists.pop(playlist_id, None) is None:
                return False
            for key in [key for key in self._db.playlist_songs if key[0] == playlist_id]:
                del self._db.playlist_songs[key]
            return True

    def length(self, playlist_id: int) -> int:
        with self._db.lock:
            return len(self._entries(playlist_id))

    def missing_songs(self, song_ids: list[int]) -> list[int]:
        with self._db.lock:
            return sorted({song_id for song_id in song_ids if song_id not in self._db.songs})

    def entries(
        self, playlist_id: int, *, after: int | None, offset: int, limit: int, viewer_id: int
    ) -> list[PlaylistEntry]:
        with self._db.lock:
            rows = [
                row
                for row in self._entries(playlist_id)
                if after is None or row["position"] > after
            ]
            return [
                PlaylistEntry(row["position"], self._view(row["song_id"], viewer_id))
                for row in rows[offset : offset + limit]
            ]

    def insert(self, playlist_id: int, song_ids: list[int], position: int) -> None:
        with self._db.lock:
            if self.missing_songs(song_ids):
                raise SongNotFoundError
            rows = self._entries(playlist_id)
            now = utcnow()
            new = [_entry(playlist_id, 0, song_id, now) for song_id in song_ids]
            self._renumber(playlist_id, rows[:position] + new + rows[position:])

    def replace(self, playlist_id: int, song_ids: list[int]) -> None:
        with self._db.lock:
            if self.missing_songs(song_ids):
                raise SongNotFoundError
            now = utcnow()
            self._renumber(playlist_id, [_entry(playlist_id, 0, s, now) for s in song_ids])

    def move(self, playlist_id: int, source: int, target: int) -> None:
        with self._db.lock:
            rows = self._entries(playlist_id)
            rows.insert(target, rows.pop(source))
            self._renumber(playlist_id, rows)

    def remove(self, playlist_id: int, position: int) -> bool:
        with self._db.lock:
            rows = self._entries(playlist_id)
            if not 0 <= position < len(rows):
                return False
            del rows[position]
            self._renumber(playlist_id, rows)
            return True

    def remove_positions(self, playlist_id: int, positions: list[int]) -> None:
        with self._db.lock:
            gone = set(positions)
            rows = self._entries(playlist_id)
            self._renumber(playlist_id, [row for row in rows if row["position"] not in gone])

    def touch(self, playlist_id: int) -> None:
        with self._db.lock:
            row = self._db.playlists.get(playlist_id)
            if row is not None:
                row["updated_at"] = utcnow()

    def remove_song(self, song_id: int) -> list[int]:
        with self._db.lock:
            holding = self._db.playlist_songs.items()
            changed = sorted({key[0] for key, row in holding if row["song_id"] == song_id})
            for playlist_id in changed:
                kept = [row for row in self._entries(playlist_id) if row["song_id"] != song_id]
                self._renumber(playlist_id, kept)
                self.touch(playlist_id)
            return changed

    def _entries(self, playlist_id: int) -> list[Row]:
        """The playlist's entry rows in position order."""
        return sorted(
            (row for key, row in self._db.playlist_songs.items() if key[0] == playlist_id),
            key=lambda row: row["position"],
        )

    def _renumber(self, playlist_id: int, rows: list[Row]) -> None:
        """Make `rows` (in order) the playlist's entries at 0..n-1."""
        for key in [key for key in self._db.playlist_songs if key[0] == playlist_id]:
            del self._db.playlist_songs[key]
        for position, row in enumerate(rows):
            self._db.playlist_songs[(playlist_id, position)] = {**row, "position": position}

    def _view(self, song_id: int, viewer_id: int) -> SongView:
        return memory_song_view(self._db, SongRecord(**self._db.songs[song_id]), viewer_id)

    def _record(self, row: Row) -> PlaylistRecord:
        entries = self._entries(row["id"])
        entry_songs = [self._db.songs[entry["song_id"]] for entry in entries]
        covers = [s["cover_image_url"] for s in entry_songs if s["cover_image_url"] is not None]
        owner = self._db.users[row["owner_id"]]
        return PlaylistRecord(
            id=row["id"],
            name=row["name"],
            description=row["description"],
            public=row["public"],
            owner_id=row["owner_id"],
            owner_username=owner["username"],
            song_count=len(entries),
            duration=sum(song["duration"] or 0 for song in entry_songs),
            cover=covers[0] if covers else None,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


def _has_words(name_key: str, words: list[str] | None) -> bool:
    """The SQL LIKE test: every word starts the key or follows a space in it (no
    filter for None; no match for a `q` without words)."""
    if words is None:
        return True
    return bool(words) and all(
        name_key.startswith(word) or f" {word}" in name_key for word in words
    )


def _entry(playlist_id: int, position: int, song_id: int, added_at: Any) -> Row:
    return {
        "playlist_id": playlist_id,
        "position": position,
        "song_id": song_id,
        "added_at": added_at,
    }
