"""What every unit of work must do, asserted identically on each backend: nothing
is kept without a commit, an error undoes the whole unit, a commit is seen by the
next unit, and the read-then-write steps inside one unit (likes, track numbers,
token rotation, session versions) come out right, alone and under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from album_service.repos.base import AlbumUnitOfWork
from album_service.repos.memory import InMemoryAlbumUnitOfWork
from album_service.repos.sql import SqlAlbumUnitOfWork
from auth_service.repos.base import AuthUnitOfWork, NewRefreshToken
from auth_service.repos.memory import InMemoryAuthUnitOfWork
from auth_service.repos.sql import SqlAuthUnitOfWork
from database.models import UserLike
from database.types import utcnow
from song_service.repos.base import SongUnitOfWork
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.repos.sql import SqlSongUnitOfWork
from tests.contract.conftest import Backend
from user_service.repos.base import NewUser, UserUnitOfWork
from user_service.repos.memory import InMemoryUserUnitOfWork
from user_service.repos.sql import SqlUserUnitOfWork

T = TypeVar("T")
SONG = {"title": "song", "artist": "artist", "genre": "rock", "file_url": "/f.mp3"}


def song_units(backend: Backend) -> Callable[..., SongUnitOfWork]:
    return backend.units(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork)


def album_units(backend: Backend) -> Callable[..., AlbumUnitOfWork]:
    return backend.units(memory=InMemoryAlbumUnitOfWork, sql=SqlAlbumUnitOfWork)


def user_units(backend: Backend) -> Callable[..., UserUnitOfWork]:
    return backend.units(memory=InMemoryUserUnitOfWork, sql=SqlUserUnitOfWork)


def auth_units(backend: Backend) -> Callable[..., AuthUnitOfWork]:
    return backend.units(memory=InMemoryAuthUnitOfWork, sql=SqlAuthUnitOfWork)


def add_user(backend: Backend, name: str) -> int:
    """A users row written straight to the backend, as user_service leaves it."""
    return backend.insert(
        "users", username=name, email=f"{name}@example.com", password_hash="x",
        first_name=name.title(), role="user",
    )  # fmt: skip


def add_song(backend: Backend, title: str = "song") -> int:
    """A songs row written straight to the backend (albums only link songs)."""
    return backend.insert("songs", **{**SONG, "title": title})


def like_rows(backend: Backend, song_id: int) -> int:
    """How many user_likes rows the song has, counted in the table itself."""
    if backend.memory is not None:
        return sum(1 for (_, liked) in backend.memory.user_likes if liked == song_id)
    assert backend.database is not None
    likes = UserLike.__table__
    with backend.database.connect() as connection:
        return connection.scalar(
            select(func.count()).select_from(likes).where(likes.c.song_id == song_id)
        )


def new_token(user_id: int, name: str, family: str, session_version: int = 0) -> NewRefreshToken:
    return NewRefreshToken(
        user_id=user_id,
        token_hash=name.ljust(64, "0"),
        family_id=family.ljust(32, "0"),
        expires_at=utcnow() + timedelta(days=1),
        session_version=session_version,
    )


def in_parallel(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(0..count-1)` on `count` threads released together by a barrier,
    so every unit of work opens at about the same moment."""
    barrier = threading.Barrier(count)

    def start(index: int) -> T:
        barrier.wait(timeout=10)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


# Commit and rollback ---------------------------------------------------------


def test_a_write_unit_left_without_commit_keeps_nothing(backend: Backend) -> None:
    units = song_units(backend)
    with units(write=True) as uow:
        song = uow.songs.add(SONG)
        assert uow.songs.get(song.id) == song  # the unit sees its own write
    with units() as uow:
        assert uow.songs.get(song.id) is None


def test_an_error_inside_a_unit_undoes_everything_it_did(backend: Backend) -> None:
    alice = add_user(backend, "alice")
    kept = add_song(backend, "kept")
    units = song_units(backend)
    with pytest.raises(RuntimeError, match="midway"), units(write=True) as uow:
        song = uow.songs.add(SONG)
        uow.likes.like(alice, song.id)
        uow.likes.like(alice, kept)
        uow.songs.update(kept, {"title": "changed"})
        raise RuntimeError("midway")
    with units() as uow:
        assert uow.songs.get(song.id) is None
        assert uow.songs.get(kept).title == "kept"  # type: ignore[union-attr]
        assert uow.likes.counts([kept]) == {kept: 0}
    assert like_rows(backend, kept) == 0


def test_a_commit_is_seen_by_the_next_unit_and_later_writes_need_their_own(
    backend: Backend,
) -> None:
    units = album_units(backend)
    with units(write=True) as uow:
        album = uow.albums.add({"title": "a", "artist": "b", "genre": "c"})
        uow.commit()
        late = uow.albums.add({"title": "late", "artist": "b", "genre": "c"})
        uow.albums.update(album.id, {"title": "renamed"})
    with units() as uow:
        assert uow.albums.get(album.id) == album
        assert uow.albums.get(late.id) is None


# Read-then-write steps inside one unit ---------------------------------------


def test_likes_are_idempotent_within_a_unit_and_across_units(backend: Backend) -> None:
    alice, bob = add_user(backend, "alice"), add_user(backend, "bob")
    song_id = add_song(backend)
    units = song_units(backend)
    with units(write=True) as uow:
        assert uow.likes.like(alice, song_id) == 1
        assert uow.likes.like(alice, song_id) == 1
        uow.commit()
    with units(write=True) as uow:
        assert uow.likes.like(alice, song_id) == 1
        assert uow.likes.like(bob, song_id) == 2
        assert uow.likes.unlike(bob, song_id) == 1
        assert uow.likes.unlike(bob, song_id) == 1
        uow.commit()
    with units() as uow:
        assert uow.likes.counts([song_id]) == {song_id: 1}
        view = uow.songs.get_view(song_id, alice)
        assert view is not None and (view.like_count, view.liked_by_me) == (1, True)
    assert like_rows(backend, song_id) == 1


@pytest.mark.parametrize("existing", [0, 1, 4])
def test_a_link_without_a_number_goes_last_inside_one_unit(backend: Backend, existing: int) -> None:
    songs = [add_song(backend, f"s{i}") for i in range(existing + 1)]
    units = album_units(backend)
    with units(write=True) as uow:
        album_id = uow.albums.add({"title": "a", "artist": "b", "genre": "c"}).id
        for number, song_id in enumerate(songs[:existing], start=1):
            assert uow.albums.link(album_id, song_id, None).track_number == number
        assert uow.albums.link(album_id, songs[-1], None).track_number == existing + 1
        uow.commit()
    with units() as uow:
        tracks = uow.albums.tracks(album_id, after=None, offset=0, limit=100)
    assert [(t.id, t.track_number) for t in tracks] == [
        (song_id, number) for number, song_id in enumerate(songs, start=1)
    ]


def test_refresh_token_rotation_and_revoking_a_user(backend: Backend) -> None:
    alice, bob = add_user(backend, "alice"), add_user(backend, "bob")
    units = auth_units(backend)
    now = utcnow()
    with units(write=True) as uow:
        first = uow.refresh_tokens.add(new_token(alice, "a", "1", session_version=2), now=now)
        other = uow.refresh_tokens.add(new_token(alice, "b", "2"), now=now)
        gone = uow.refresh_tokens.add(new_token(alice, "c", "3"), now=now)
        bobs = uow.refresh_tokens.add(new_token(bob, "d", "4"), now=now)
        assert uow.refresh_tokens.revoke(gone.token_hash, user_id=alice, now=now) is True
        uow.commit()

    with units(write=True) as uow:
        record = uow.refresh_tokens.get_for_update(first.token_hash)
        assert record == first
        assert record.session_version == 2
        uow.refresh_tokens.mark_used(record.id, now=now)
        assert uow.refresh_tokens.get_for_update(first.token_hash).used_at == now  # type: ignore[union-attr]
        assert uow.refresh_tokens.get_for_update("0" * 64) is None
        uow.commit()

    later = now + timedelta(seconds=1)
    with units(write=True) as uow:
        assert uow.refresh_tokens.revoke_user(alice, now=later) == 2  # not the revoked one
        # Left without a commit: every token of alice stays as it was.
    with units(write=True) as uow:
        assert uow.refresh_tokens.revoke_user(alice, now=later) == 2
        assert uow.refresh_tokens.revoke_user(alice, now=later) == 0
        assert uow.refresh_tokens.revoke_user(404, now=later) == 0
        uow.commit()

    with units() as uow:
        tokens = uow.refresh_tokens
        revoked = {t.token_hash: tokens.get_for_update(t.token_hash) for t in (first, other, gone)}
        assert revoked[first.token_hash].revoked_at == later  # type: ignore[union-attr]
        assert revoked[first.token_hash].used_at == now  # type: ignore[union-attr]
        assert revoked[other.token_hash].revoked_at == later  # type: ignore[union-attr]
        # Revoked before: left as it was.
        assert revoked[gone.token_hash].revoked_at == now  # type: ignore[union-attr]
        assert tokens.get_for_update(bobs.token_hash) == bobs


def test_revoking_sessions_bumps_the_version_once_per_change(backend: Backend) -> None:
    units = user_units(backend)
    with units(write=True) as uow:
        alice = uow.users.add(
            NewUser(
                username="alice", email="alice@example.com", password_hash="old",
                first_name="Alice", last_name=None,
            )
        )  # fmt: skip
        uow.commit()
    assert alice.session_version == 0
    with units(write=True) as uow:
        bumped = uow.users.update(alice.id, {"password_hash": "new"}, revoke_sessions=True)
        assert bumped is not None and bumped.session_version == 1
        again = uow.users.update(alice.id, {"role": "admin"}, revoke_sessions=True)
        assert again is not None and again.session_version == 2
        plain = uow.users.update(alice.id, {"first_name": "Al"})
        assert plain is not None and plain.session_version == 2
        uow.commit()
    with units(write=True) as uow:
        before = uow.users.get(alice.id)
        refused = uow.users.update(
            alice.id, {"password_hash": "newer"}, revoke_sessions=True, if_password_hash="old"
        )
        assert refused is None
        assert uow.users.get(alice.id) == before  # nothing changed, not even updated_at
        accepted = uow.users.update(
            alice.id, {"password_hash": "newer"}, revoke_sessions=True, if_password_hash="new"
        )
        assert accepted is not None
        assert (accepted.password_hash, accepted.session_version) == ("newer", 3)
        assert uow.users.update(404, {"first_name": "X"}, revoke_sessions=True) is None
        uow.commit()
    with units() as uow:
        stored = uow.users.get(alice.id)
    assert stored is not None
    assert (stored.password_hash, stored.role, stored.first_name) == ("newer", "admin", "Al")
    assert stored.session_version == 3


# Concurrency: each thread runs its own unit, as concurrent requests do --------


def test_concurrent_appends_to_one_album_number_the_tracks_one_to_n(backend: Backend) -> None:
    songs = [add_song(backend, f"s{i}") for i in range(6)]
    units = album_units(backend)
    with units(write=True) as uow:
        album_id = uow.albums.add({"title": "a", "artist": "b", "genre": "c"}).id
        uow.commit()

    def append(index: int) -> int:
        with units(write=True) as uow:
            number = uow.albums.link(album_id, songs[index], None).track_number
            uow.commit()
        return number

    numbers = in_parallel(len(songs), append)
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
    with units() as uow:
        tracks = uow.albums.tracks(album_id, after=None, offset=0, limit=100)
    assert sorted(t.track_number for t in tracks) == [1, 2, 3, 4, 5, 6]
    assert {t.id: t.track_number for t in tracks} == dict(zip(songs, numbers, strict=True))


def test_concurrent_likes_and_unlikes_keep_the_count_equal_to_the_rows(
    backend: Backend,
) -> None:
    """Four requests of one fan like the song at once (the song's lock makes them
    take turns, so none inserts a second row); two other fans like it while two
    take their earlier like back."""
    fans = [add_user(backend, f"fan{i}") for i in range(5)]
    song_id = add_song(backend)
    units = song_units(backend)
    with units(write=True) as uow:
        for user_id in (fans[2], fans[4]):
            uow.likes.like(user_id, song_id)
        uow.commit()
    # (fan, like?) per thread: fan0 four times, fans 1 and 3 like, 2 and 4 unlike.
    plan = [(fans[0], True)] * 4 + [(fans[i], i % 2 == 1) for i in range(1, 5)]

    def toggle(index: int) -> int:
        user_id, like = plan[index]
        with units(write=True) as uow:
            count = (uow.likes.like if like else uow.likes.unlike)(user_id, song_id)
            uow.commit()
        return count

    counts = in_parallel(len(plan), toggle)
    assert all(1 <= count <= 5 for count in counts[:4])  # fan0's own like is counted
    assert all(0 <= count <= 5 for count in counts[4:])
    with units() as uow:
        final = uow.likes.counts([song_id])[song_id]
        view = uow.songs.get_view(song_id, fans[0])
    assert final == like_rows(backend, song_id) == 3
    assert view is not None and (view.like_count, view.liked_by_me) == (3, True)


def test_concurrent_session_revocations_each_count(backend: Backend) -> None:
    units = user_units(backend)
    with units(write=True) as uow:
        alice = uow.users.add(
            NewUser(
                username="alice", email="alice@example.com", password_hash="x",
                first_name="Alice", last_name=None,
            )
        )  # fmt: skip
        uow.commit()

    def revoke(index: int) -> Any:
        with units(write=True) as uow:
            updated = uow.users.update(alice.id, {"last_name": f"v{index}"}, revoke_sessions=True)
            uow.commit()
        return updated

    results = in_parallel(6, revoke)
    assert sorted(r.session_version for r in results) == [1, 2, 3, 4, 5, 6]
    with units() as uow:
        assert uow.users.get(alice.id).session_version == 6  # type: ignore[union-attr]
