"""In-memory listening history over the shared MemoryDatabase (`plays`, keyed by
(user, played_at, song)); held to the SQL behaviour by the contract suite."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from common.errors import AccountGoneError
from database.keyset import After, memory_page
from database.memory import MemoryDatabase
from song_service.repos.base import SongNotFoundError, SongRecord, SongView
from song_service.repos.plays_base import (
    NEWEST_PLAY_FIRST,
    PlayedSong,
    PlayResult,
    PlayState,
    TopSong,
)
from song_service.repos.views_memory import memory_song_view


class InMemoryPlayRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def record(self, user_id: int, song_id: int, played_at: datetime) -> PlayResult:
        with self._db.lock:
            if song_id not in self._db.songs:
                raise SongNotFoundError
            if user_id not in self._db.users:
                raise AccountGoneError
            key = (user_id, played_at, song_id)
            created = key not in self._db.plays
            if created:
                self._db.plays[key] = {
                    "user_id": user_id, "played_at": played_at, "song_id": song_id,
                }  # fmt: skip
            return PlayResult(created, self._count(song_id))

    def history(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[PlayedSong]:
        with self._db.lock:
            mine = [
                {"id": song_id, "played_at": played_at}
                for (user, played_at, song_id) in self._db.plays
                if user == user_id
            ]
            page = memory_page(mine, NEWEST_PLAY_FIRST, after, offset, limit)
            return [PlayedSong(self._view(play["id"], user_id), play["played_at"]) for play in page]

    def top(
        self, user_id: int, *, since: datetime | None, offset: int, limit: int
    ) -> list[TopSong]:
        with self._db.lock:
            counts = Counter(
                song_id
                for (user, played_at, song_id) in self._db.plays
                if user == user_id and (since is None or played_at >= since)
            )
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            return [
                TopSong(self._view(song_id, user_id), plays)
                for song_id, plays in ranked[offset : offset + limit]
            ]

    def states(self, song_ids: list[int], viewer_id: int | None) -> dict[int, PlayState]:
        with self._db.lock:
            states = {}
            for song_id in song_ids:
                mine = [
                    played_at
                    for (user, played_at, played) in self._db.plays
                    if played == song_id and user == viewer_id
                ]
                states[song_id] = PlayState(
                    self._count(song_id),
                    None if viewer_id is None else len(mine),
                    max(mine, default=None),
                )
            return states

    def _view(self, song_id: int, viewer_id: int) -> SongView:
        return memory_song_view(self._db, SongRecord(**self._db.songs[song_id]), viewer_id)

    def _count(self, song_id: int) -> int:
        return sum(1 for (_, _, played) in self._db.plays if played == song_id)
