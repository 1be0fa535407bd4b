"""What every SearchRepository must do, asserted identically on each backend:
the ranking of artists, albums and songs with folding, an empty q listing all
with offsets, the summaries' counts, and the genre list's counts and names."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert

from database.artists import artist_id_for, memory_artist_id_for
from database.search import sync_terms
from database.tables import album_songs, albums
from database.writes import insert_stamped
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.repos.plays_base import PlayRepository
from song_service.repos.search_base import SearchRepository
from song_service.repos.sql import SqlSongUnitOfWork
from tests.contract.conftest import Backend
from tests.contract.test_play_repository import T0
from tests.contract.test_song_repository import add_user, likes_repo, new_song, songs_repo


def search_repo(backend: Backend) -> SearchRepository:
    """The search repository, each call one committed unit of work."""
    return backend.repository(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork, name="search")


def plays_repo(backend: Backend) -> PlayRepository:
    return backend.repository(memory=InMemorySongUnitOfWork, sql=SqlSongUnitOfWork, name="plays")


def add_song(backend: Backend, title: str, artist: str = "artist", **fields: object) -> int:
    return songs_repo(backend).add(new_song(title, artist=artist, **fields)).id


def add_album(
    backend: Backend, title: str, artist: str, genre: str = "rock", songs: Sequence[int] = ()
) -> int:
    """An album as album_service writes it: its artist resolved (or made), its
    search terms stored and its songs linked."""
    values = {"title": title, "artist": artist, "genre": genre}
    if backend.memory is not None:
        db = backend.memory
        artist_id = memory_artist_id_for(db, artist)
        album_id = db.insert(
            "albums",
            values | {"artist_id": artist_id},
            dict.fromkeys(("description", "cover_image_url", "release_date")),
        )["id"]
        for track, song_id in enumerate(songs, 1):
            db.album_songs[(album_id, song_id)] = {
                "album_id": album_id, "song_id": song_id, "disc_number": 1,
                "track_number": track,
            }  # fmt: skip
        return album_id
    assert backend.database is not None
    with backend.database.connect(write=True) as connection:
        artist_id = artist_id_for(connection, artist)
        album_id = insert_stamped(connection, albums, values | {"artist_id": artist_id})
        sync_terms(connection, albums, album_id, title, artist)
        for track, song_id in enumerate(songs, 1):
            connection.execute(
                insert(album_songs).values(album_id=album_id, song_id=song_id, track_number=track)
            )
        connection.commit()
    return album_id


def test_search_ranks_every_type_with_folding(backend: Backend) -> None:
    halo = add_song(backend, "Halo", "Beyoncé", duration=200)
    crazy = add_song(backend, "Crazy in Love", "BEYONCÉ", duration=None)
    beyond = add_song(backend, "Beyond", "Other")
    exact = add_song(backend, "Beyonce", "Cover Band", duration=100)
    add_song(backend, "Schrei nach Liebe", "Die Ärzte")
    lemonade = add_album(backend, "Lemonade", "Beyoncé", songs=[halo, crazy, exact])
    add_album(backend, "Beyoncé Live", "Beyoncé")
    repo = search_repo(backend)

    # One artist for both spellings; the count by artist_id.
    artists = repo.artists("beyonce", offset=0, limit=10)
    assert [(a.name, a.album_count, a.song_count) for a in artists] == [("Beyoncé", 2, 2)]
    assert [a.name for a in repo.artists("ÄRZTE", offset=0, limit=10)] == ["Die Ärzte"]
    # Albums: the title prefix, then the word match on the artist.
    found = repo.albums("beyonce", offset=0, limit=10)
    assert [a.title for a in found] == ["Beyoncé Live", "Lemonade"]
    summary = found[1]
    assert (summary.id, summary.song_count, summary.duration) == (lemonade, 3, 300)
    assert summary.artist_id == artists[0].id
    # Songs: the exact title, then word matches by id.
    songs = repo.songs("beyonce", offset=0, limit=10, viewer_id=None)
    assert [view.song.id for view in songs] == [exact, halo, crazy]
    assert [v.song.id for v in repo.songs("BEYON", offset=0, limit=10, viewer_id=None)] == [
        exact, beyond, halo, crazy,
    ]  # fmt: skip
    assert [v.song.id for v in repo.songs("beyonce", offset=1, limit=1, viewer_id=None)] == [halo]
    assert repo.songs("zzz", offset=0, limit=10, viewer_id=None) == []
    assert repo.albums("zzz", offset=0, limit=10) == []
    assert repo.artists("zzz", offset=0, limit=10) == []


def test_an_empty_q_lists_everything_by_key_with_offsets(backend: Backend) -> None:
    for title, artist in [("beta", "Zed"), ("Ärger", "alpha"), ("Zebra", "Émile"), ("alpha", "b")]:
        add_song(backend, title, artist)
    add_album(backend, "Second", "Zed")
    add_album(backend, "first", "Émile")
    repo = search_repo(backend)
    titles = [v.song.title for v in repo.songs("", offset=0, limit=10, viewer_id=None)]
    assert titles == ["alpha", "Ärger", "beta", "Zebra"]
    assert [v.song.title for v in repo.songs("", offset=1, limit=2, viewer_id=None)] == [
        "Ärger", "beta",
    ]  # fmt: skip
    assert [a.name for a in repo.artists("", offset=0, limit=10)] == ["alpha", "b", "Émile", "Zed"]
    assert [a.name for a in repo.artists("", offset=3, limit=10)] == ["Zed"]
    assert [a.title for a in repo.albums("", offset=0, limit=10)] == ["first", "Second"]
    assert [a.title for a in repo.albums("", offset=1, limit=1)] == ["Second"]
    assert repo.albums("", offset=2, limit=1) == []


def test_found_songs_carry_the_viewers_like_and_play_state(backend: Backend) -> None:
    song = add_song(backend, "Halo", "Beyoncé")
    user = add_user(backend)
    likes_repo(backend).like(user, song)
    plays_repo(backend).record(user, song, T0)
    view = search_repo(backend).songs("halo", offset=0, limit=10, viewer_id=user)[0]
    assert (view.like_count, view.liked_by_me, view.play_count) == (1, True, 1)
    assert (view.my_play_count, view.last_played_at) == (1, T0)
    anonymous = search_repo(backend).songs("halo", offset=0, limit=10, viewer_id=None)[0]
    assert (anonymous.liked_by_me, anonymous.my_play_count, anonymous.last_played_at) == (
        None, None, None,
    )  # fmt: skip


def test_genres_fold_count_and_name_by_the_lowest_id(backend: Backend) -> None:
    add_song(backend, "a", genre="rock")
    add_song(backend, "b", genre="Rock")
    add_song(backend, "c", genre="Électro")
    add_album(backend, "x", "y", genre="ROCK")
    add_album(backend, "x", "y", genre="Jazz")
    add_album(backend, "x", "y", genre="electro")
    add_album(backend, "x", "y", genre="Zouk")
    add_song(backend, "d", genre="zouk")  # a song names it after an album did
    repo = search_repo(backend)
    genres = repo.genres(offset=0, limit=10)
    assert [(g.key, g.name, g.song_count, g.album_count) for g in genres] == [
        ("electro", "Électro", 1, 1),
        ("jazz", "Jazz", 0, 1),
        ("rock", "rock", 2, 1),
        ("zouk", "zouk", 1, 1),
    ]
    assert [g.name for g in repo.genres(offset=1, limit=2)] == ["Jazz", "rock"]
    assert repo.genres(offset=4, limit=2) == []
