"""star, unstar and scrobble in-process: each change is the owner's (song_service,
album_service), checked through the owners' REST reads as well as the facade's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from subsonic_service.services.annotation import NOW_PLAYING
from subsonic_service.tests.conftest import Library


def rest(library: Library, service: str, path: str, user: str) -> list[dict[str, Any]]:
    """An owner's REST list as `user`."""
    headers = {"Authorization": f"Bearer {library.token(user)}"}
    response = library.apps[service].get(path, params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def liked(library: Library, user: str) -> tuple[set[int], set[int], set[int]]:
    """(songs, albums, artists) `user` likes, from the owners."""
    return (
        {row["id"] for row in rest(library, "song", "/songs/liked", user)},
        {row["id"] for row in rest(library, "album", "/albums/liked", user)},
        {row["id"] for row in rest(library, "album", "/artists/liked", user)},
    )


def played(library: Library, user: str) -> list[tuple[int, str]]:
    return [(row["id"], row["played_at"]) for row in rest(library, "song", "/songs/played", user)]


def test_star_and_unstar_songs_albums_and_artists(library: Library) -> None:
    user = library.new_user()
    songs = [library.song_ids["Something"], library.song_ids["Je veux"]]
    albums = [library.album_ids["Arrival"], library.album_ids["Zaz"]]
    artists = [library.artist_ids["ABBA"], library.artist_ids["Die Ärzte"]]
    library.ok(
        "star", user,
        id=[f"so-{songs[0]}", f"so-{songs[1]}", f"al-{albums[1]}"],  # old clients: al- in id
        albumId=[f"al-{albums[0]}"],
        artistId=[f"ar-{artists[0]}", f"ar-{artists[1]}", f"ar-{artists[0]}"],
    )  # fmt: skip
    assert liked(library, user) == (set(songs), set(albums), set(artists))
    starred = library.ok("getStarred2", user)["starred2"]
    assert {item["id"] for item in starred["song"]} == {f"so-{i}" for i in songs}
    assert {item["id"] for item in starred["album"]} == {f"al-{i}" for i in albums}
    assert {item["id"] for item in starred["artist"]} == {f"ar-{i}" for i in artists}
    # Starring again changes nothing (the owners' likes are idempotent).
    library.ok("star", user, id=f"so-{songs[0]}")
    assert liked(library, user) == (set(songs), set(albums), set(artists))
    # Another user's stars are theirs alone.
    assert liked(library, library.new_user()) == (set(), set(), set())

    library.ok("unstar", user, id=[f"so-{songs[0]}", f"ar-{artists[1]}"], albumId=f"al-{albums[0]}")
    assert liked(library, user) == ({songs[1]}, {albums[1]}, {artists[0]})
    library.ok("unstar", user, id=f"so-{songs[0]}")  # not starred: still ok
    assert liked(library, user) == ({songs[1]}, {albums[1]}, {artists[0]})


def test_a_bad_id_among_good_ones_changes_nothing(library: Library) -> None:
    user = library.new_user()
    good = f"so-{library.song_ids['Waterloo']}"
    album = f"al-{library.album_ids['Hits']}"
    for bad in (
        {"id": [good, "so-999999"]},  # unknown song
        {"id": [good], "albumId": [album, "al-999999"]},  # unknown album
        {"id": [good], "artistId": ["ar-999999"]},  # unknown artist
        {"id": [good, "banana"]},  # malformed
        {"id": [good, "pl-1"]},  # not something to star
        {"id": [good], "albumId": [f"ar-{library.artist_ids['Zaz']}"]},  # wrong kind
    ):
        for method in ("star", "unstar"):
            body = library.json(method, user, **bad)
            assert body["status"] == "failed" and body["error"]["code"] == 70, (bad, body)
        assert liked(library, user) == (set(), set(), set()), bad
    # A starred song stays starred when an unstar call names a bad id beside it.
    library.ok("star", user, id=good)
    assert library.json("unstar", user, id=[good, "so-999999"])["error"]["code"] == 70
    assert liked(library, user)[0] == {library.song_ids["Waterloo"]}


def test_star_without_an_id_is_error_10(library: Library) -> None:
    for method in ("star", "unstar", "scrobble"):
        body = library.json(method, library.new_user())
        assert body["error"]["code"] == 10, body


def test_scrobble_records_plays_at_their_times_once(library: Library) -> None:
    user = library.new_user()
    first, second = library.song_ids["Dancing Queen"], library.song_ids["Unrockbar"]
    at = datetime(2026, 1, 17, 12, 0, tzinfo=UTC)
    ms = int(at.timestamp() * 1000)
    library.ok("scrobble", user, id=[f"so-{first}", f"so-{second}"], time=[ms, ms + 60_000])
    history = played(library, user)
    assert history == [
        (second, "2026-01-17T12:01:00Z"),
        (first, "2026-01-17T12:00:00Z"),
    ]
    # The same scrobble again (a client retrying) counts once.
    library.ok("scrobble", user, id=[f"so-{first}", f"so-{second}"], time=[ms, ms + 60_000])
    library.ok("scrobble", user, id=f"so-{first}", time=ms, submission="true")
    assert played(library, user) == history
    song = library.ok("getSong", user, id=f"so-{first}")["song"]
    assert song["playCount"] == 1
    # Without a time: now.
    before = datetime.now(UTC) - timedelta(seconds=5)
    library.ok("scrobble", user, id=f"so-{first}")
    newest_id, newest_at = played(library, user)[0]
    assert newest_id == first
    assert datetime.fromisoformat(newest_at.replace("Z", "+00:00")) >= before


def test_now_playing_records_no_play(library: Library) -> None:
    user = library.new_user()
    song_id = library.song_ids["Je veux"]
    library.ok("scrobble", user, id=f"so-{song_id}", submission="false")
    assert played(library, user) == []
    noted = NOW_PLAYING.get(library.users[user])
    assert noted is not None and noted[0] == song_id


def test_scrobble_checks_every_id_and_time_first(library: Library) -> None:
    user = library.new_user()
    good = f"so-{library.song_ids['Something']}"
    ahead = int((datetime.now(UTC) + timedelta(days=2)).timestamp() * 1000)
    cases = [
        ({"id": [good, "so-999999"]}, 70),
        ({"id": [good, f"al-{library.album_ids['Zaz']}"]}, 70),
        ({"id": [good], "time": ["yesterday"]}, 0),
        ({"id": [good], "time": ["-5"]}, 0),
        ({"id": [good], "time": ["0"]}, 0),  # no time at all: not a play in 1970
        ({"id": [good], "time": ["1768651200"]}, 0),  # seconds, not milliseconds
        ({"id": [good, good], "time": ["1000", str(ahead)]}, 0),
        ({"id": [good], "time": ["1000", "2000"]}, 0),
        ({"id": [good], "submission": "maybe"}, 0),
    ]
    for params, code in cases:
        body = library.json("scrobble", user, **params)
        assert body["status"] == "failed" and body["error"]["code"] == code, (params, body)
    assert played(library, user) == []
