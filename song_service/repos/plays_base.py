"""Listening history: what song_service needs from storage for plays (API.md,
Listening history). The SQL and in-memory versions both honour it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from database.keyset import After, Sort
from song_service.repos.base import SongView

# "My plays, newest first": by (played_at, song_id) descending, the plays table's
# primary key order within one user.
NEWEST_PLAY_FIRST = Sort("played_at", descending=True)


class PlayResult(NamedTuple):
    """What recording a play did: whether it was new (False: the same user, song
    and time were already recorded) and the song's play count afterwards."""

    created: bool
    play_count: int


class PlayState(NamedTuple):
    """A song's play state: its play count (every user), and the viewer's own play
    count and last play (None without a viewer)."""

    play_count: int
    my_play_count: int | None
    last_played_at: datetime | None


@dataclass(frozen=True)
class PlayedSong:
    """One play of the user's history: the song as the API shows it, and when."""

    view: SongView
    played_at: datetime


@dataclass(frozen=True)
class TopSong:
    """One of the user's most played songs, with its play count in the period."""

    view: SongView
    plays: int


class PlayRepository(Protocol):
    def record(self, user_id: int, song_id: int, played_at: datetime) -> PlayResult:
        """Record that the user played the song at `played_at`; idempotent: the same
        (user, played_at, song) again changes nothing (created False), also when
        two requests race. SongNotFoundError / AccountGoneError when either side
        does not exist."""
        ...

    def history(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[PlayedSong]:
        """The user's plays, newest first (ties by song id, descending), each with
        the song's view for that user; `after.value` is a play time and `after.id`
        a song id."""
        ...

    def top(
        self, user_id: int, *, since: datetime | None, offset: int, limit: int
    ) -> list[TopSong]:
        """The user's songs played at or after `since` (None: ever), by their play
        count in that period (descending), ties by song id."""
        ...

    def states(self, song_ids: list[int], viewer_id: int | None) -> dict[int, PlayState]:
        """The play state of each given song (songs without plays have 0)."""
        ...
