"""The media annotation methods' rules (star, unstar, scrobble): which ids a call
names, the check that every one names a row before anything changes, and the
per-process "now playing" note of scrobble with submission=false.

The changes themselves are the owners' (methods/annotation.py calls them):
a star is a like in song_service or album_service, a scrobble a play in
song_service.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from subsonic_service import ids
from subsonic_service.errors import invalid, missing, not_found
from subsonic_service.params import Params, to_int
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork

# Ids one star, unstar or scrobble call may name: each is one call to its owner.
MAX_IDS = 500
# As song_service's PlayCreate: a play up to a day ahead of the server's clock is
# taken as given (clocks differ), one further ahead is a client bug (seconds sent
# as milliseconds). Checked here too, so no play of a call is recorded when one
# of its times would be refused.
MAX_PLAY_AHEAD = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# `time` is in milliseconds (Endpoints/scrobble.md); anything below 10^12 ms
# (2001-09-09) is a time in seconds, or none at all, sent by mistake: it would
# record a play in January 1970.
MIN_PLAY_MILLISECONDS = 10**12
# How many users' "now playing" one process remembers (the oldest note goes first).
NOW_PLAYING_USERS = 10_000

Unit = Callable[[], SqlSubsonicUnitOfWork]


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to star: a song ("so"), an album ("al") or an artist ("ar")."""

    kind: ids.Kind
    row_id: int


def star_targets(params: Params) -> list[Target]:
    """The songs, albums and artists of a star or unstar call, without repeats:
    `id` (a song; old clients send album and artist ids there too, typed ids say
    which), `albumId` (albums only), `artistId` (artists only), each repeatable.
    Error 10 when none is given, 70 for an id that is malformed or of the wrong
    kind (api reference: star.md, unstar.md)."""
    found: list[Target] = []
    for value in params.list("id"):
        parsed = ids.split(value)
        if parsed is None or parsed[0] not in ("so", "al", "ar"):
            raise not_found("Song")
        found.append(Target(parsed[0], parsed[1]))  # type: ignore[arg-type]
    found += [Target("al", ids.parse(value, "al")) for value in params.list("albumId")]
    found += [Target("ar", ids.parse(value, "ar")) for value in params.list("artistId")]
    if not found:
        raise missing("id")
    unique = list(dict.fromkeys(found))
    if len(unique) > MAX_IDS:
        raise invalid("id", f"at most {MAX_IDS} ids")
    return unique


def require_existing(unit: Unit, targets: Sequence[Target]) -> None:
    """Error 70 unless every target names a row: checked before the first owner
    call, so a bad id among good ones changes nothing."""
    by_kind: dict[str, list[int]] = {}
    for target in targets:
        by_kind.setdefault(target.kind, []).append(target.row_id)
    with unit() as uow:
        for kind, row_ids in by_kind.items():
            if len(uow.system.existing(kind, row_ids)) < len(set(row_ids)):
                raise not_found(ids.KINDS[kind])


@dataclass(frozen=True, slots=True)
class Scrobble:
    """The songs of a scrobble call, each with its time in epoch milliseconds
    (None: now, as song_service sets it)."""

    plays: list[tuple[int, int | None]]
    submission: bool


def scrobble_call(params: Params, now: datetime | None = None) -> Scrobble:
    """`id` (songs, repeatable, required), `time` (epoch milliseconds, paired
    with the ids by position; an id without one was played now) and `submission`
    (default true). Error 10 without an id, 70 for an id that is not a song's, 0
    for a time that is not an integer of milliseconds from 2001-09-09 to a day
    ahead, or for more times than ids (api reference: scrobble.md)."""
    song_ids = [ids.parse(value, "so") for value in params.list("id")]
    if not song_ids:
        raise missing("id")
    if len(song_ids) > MAX_IDS:
        raise invalid("id", f"at most {MAX_IDS} ids")
    latest = (now or datetime.now(UTC)) + MAX_PLAY_AHEAD
    highest = (latest - EPOCH) // timedelta(milliseconds=1)
    times = [to_int("time", value, MIN_PLAY_MILLISECONDS, highest) for value in params.list("time")]
    if len(times) > len(song_ids):
        raise invalid("time", "at most one time per id")
    paired = [
        (song_id, times[index] if index < len(times) else None)
        for index, song_id in enumerate(song_ids)
    ]
    return Scrobble(paired, bool(params.bool("submission", True)))


class NowPlaying:
    """What each user said they are playing (scrobble with submission=false):
    user id → (song id, since). Per process and in memory only: it is a hint that
    lives as long as a song plays, lost on restart and not shared between
    replicas. Nothing reads it yet (getNowPlaying is not served); bounded to
    NOW_PLAYING_USERS users, the longest silent forgotten first."""

    def __init__(self, capacity: int = NOW_PLAYING_USERS) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._playing: OrderedDict[int, tuple[int, datetime]] = OrderedDict()

    def note(self, user_id: int, song_id: int, since: datetime | None = None) -> None:
        with self._lock:
            self._playing.pop(user_id, None)
            self._playing[user_id] = (song_id, since or datetime.now(UTC))
            while len(self._playing) > self._capacity:
                self._playing.popitem(last=False)

    def get(self, user_id: int) -> tuple[int, datetime] | None:
        with self._lock:
            return self._playing.get(user_id)


NOW_PLAYING = NowPlaying()
