"""A real OpenSubsonic client library (py-opensonic, from PyPI, used by the tests
only: it is GPL) drives subsonic_service over HTTP on the running fleet, once with
an API key, once with the app password as Subsonic's salted token (`u`+`t`+`s`)
and once as the legacy `u`+`p=enc:` password. The client sends every call as a
form POST to `<method>.view` with `f=json`, as apps do.

The catalogue is uploaded first (real tagged Ogg files, media.synth), so stream
and getCoverArt serve real bytes.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from libopensonic import Connection
from libopensonic import errors as sonic_errors
from PIL import Image

from media import synth
from tests.e2e.clients import admin_headers, bearer, expect
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e
SCHEMES = ("api_key", "token", "password")


@dataclass(frozen=True)
class Catalogue:
    """What this module uploaded: its titles and the Subsonic ids they got."""

    stem: str
    artist: str
    album: str
    genre: str
    songs: dict[str, str]  # title -> so-N
    album_id: str
    artist_id: str
    first_bytes: bytes  # the first 100 bytes of the first song's file


@dataclass(frozen=True)
class Listener:
    username: str
    headers: dict[str, str]
    api_key: str
    app_password: str


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60, trust_env=False) as client:
        yield client


def _cover() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 320), (10, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def catalogue(
    fleet: Fleet, http: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> Catalogue:
    stem = uuid.uuid4().hex[:8]
    artist, album, genre = f"Client Band {stem}", f"Client Album {stem}", f"Genre{stem}"
    folder: Path = tmp_path_factory.mktemp("subsonic-client")
    titles = [f"First {stem}", f"Second {stem}", f"Third {stem}"]
    files = []
    for number, title in enumerate(titles, start=1):
        path = synth.write_song(
            folder / f"{number}.ogg", title=title, artists=[artist], album=album,
            album_artists=[artist], track=number, genres=[genre], date="2024-05-01",
            seconds=3.0, cover=_cover(), seed=number + int(stem, 16) % 1000,
        )  # fmt: skip
        files.append(("files", (path.name, path.read_bytes(), "audio/ogg")))
    uploaded = expect(
        http.post(f"{fleet.song}/songs/upload", files=files, headers=admin_headers(http, fleet)),
        201,
    )
    by_title = {song["title"]: song for song in uploaded}
    album_row = expect(http.get(f"{fleet.album}/albums", params={"q": album}), 200)[0]
    return Catalogue(
        stem=stem,
        artist=artist,
        album=album,
        genre=genre,
        songs={title: f"so-{by_title[title]['id']}" for title in titles},
        album_id=f"al-{album_row['id']}",
        artist_id=f"ar-{album_row['artist_id']}",
        first_bytes=files[0][1][1][:100],
    )


@pytest.fixture(scope="module")
def listener(fleet: Fleet, http: httpx.Client) -> Listener:
    """A signed-up user with an API key and an app password."""
    username = f"sub{uuid.uuid4().hex[:10]}"
    email, password = f"{username}@example.com", f"pw-{username}-long"
    body = {"username": username, "email": email, "password": password, "first_name": "Sub"}
    expect(http.post(f"{fleet.user}/users", json=body), 201)
    login = expect(
        http.post(f"{fleet.auth}/auth/login", json={"email": email, "password": password}), 200
    )
    headers = bearer(login["auth_token"])
    key = expect(
        http.post(f"{fleet.auth}/auth/api-keys", json={"name": "phone"}, headers=headers), 201
    )
    app = expect(http.post(f"{fleet.auth}/auth/app-password", headers=headers), 201)
    return Listener(username, headers, key["key"], app["password"])


def _connect(fleet: Fleet, listener: Listener, scheme: str) -> Connection:
    url = urlsplit(fleet.subsonic)
    base, port = f"{url.scheme}://{url.hostname}", url.port
    if scheme == "api_key":
        return Connection(base, port=port, api_key=listener.api_key, app_name="e2e-client")
    return Connection(
        base, port=port, username=listener.username, password=listener.app_password,
        app_name="e2e-client", legacy_auth=scheme == "password",
    )  # fmt: skip


@pytest.fixture(params=SCHEMES)
def sonic(request: pytest.FixtureRequest, fleet: Fleet, listener: Listener) -> Iterator[Connection]:
    connection = _connect(fleet, listener, request.param)
    try:
        yield connection
    finally:
        connection.cleanup()


def test_the_whole_flow(
    sonic: Connection, catalogue: Catalogue, listener: Listener, fleet: Fleet, http: httpx.Client
) -> None:
    first, second, third = catalogue.songs.values()
    # System.
    assert sonic.ping() is True
    assert sonic.get_license()["license"]["valid"] is True
    extensions = {extension.name for extension in sonic.get_open_subsonic_extensions()}
    assert {"apiKeyAuthentication", "formPost"} <= extensions
    # py-opensonic 10.4.1's get_music_folders() iterates `musicFolders` itself, not its
    # `musicFolder` list (Responses/musicFolders.md), and fails on any server that
    # answers as the reference does; the same call through the client's own request.
    folders = _through_client(sonic, "getMusicFolders")["musicFolders"]["musicFolder"]
    assert folders == [{"id": 1, "name": "Music"}]

    user = sonic.get_user(listener.username)
    assert user.username == listener.username and user.stream_role and not user.admin_role
    # A user is not an admin: scanning is refused with error 50.
    with pytest.raises(sonic_errors.AuthError):
        sonic.start_scan()
    assert sonic.get_scan_status().scanning in (True, False)

    # Browsing by ID3 tags (and the older getIndexes, by the same rule).
    indexes = sonic.get_indexes()
    assert catalogue.artist in {artist.name for index in indexes.index for artist in index.artist}
    artists = sonic.get_artists()
    indexed = {artist.name: index.name for index in artists.index for artist in index.artist}
    assert indexed[catalogue.artist] == "C"
    artist = sonic.get_artist(catalogue.artist_id)
    assert catalogue.album_id in [album.id for album in artist.album]
    album = sonic.get_album(catalogue.album_id)
    assert [song.id for song in album.song] == [first, second, third]
    assert album.song_count == 3 and album.genre == catalogue.genre
    song = sonic.get_song(second)
    assert song.title.startswith("Second") and song.album_id == catalogue.album_id
    assert song.content_type == "audio/ogg" and song.size and song.track == 2

    # Lists, random songs, genres.
    newest = sonic.get_album_list2("newest", size=500)
    assert catalogue.album_id in [item.id for item in newest]
    by_genre = sonic.get_album_list2("byGenre", size=10, genre=catalogue.genre)
    assert [item.id for item in by_genre] == [catalogue.album_id]
    alphabetical = sonic.get_album_list2("alphabeticalByName", size=500)
    assert catalogue.album_id in [item.id for item in alphabetical]
    randoms = sonic.get_random_songs(size=3)
    assert 1 <= len(randoms) <= 3
    genres = {genre.value: genre for genre in sonic.get_genres()}
    assert genres[catalogue.genre].song_count == 3 and genres[catalogue.genre].album_count == 1
    assert len(sonic.get_songs_by_genre(catalogue.genre, count=2)) == 2

    # Search: a query, and the empty query that lists everything, paged.
    found = sonic.search3(catalogue.stem)
    assert {item.id for item in found.song} == {first, second, third}
    assert [item.id for item in found.album] == [catalogue.album_id]
    assert [item.id for item in found.artist] == [catalogue.artist_id]
    everything = sonic.search3("", artist_count=1, album_count=1, song_count=2)
    assert len(everything.artist) == 1 and len(everything.album) == 1 and len(everything.song) == 2

    # Stars on several ids of each kind, then off again.
    sonic.star(
        sids=[first, second], album_ids=[catalogue.album_id], artist_ids=[catalogue.artist_id]
    )
    starred = sonic.get_starred2()
    assert {first, second} <= {item.id for item in starred.song or []}
    assert catalogue.album_id in [item.id for item in starred.album or []]
    assert catalogue.artist_id in [item.id for item in starred.artist or []]
    sonic.unstar(
        sids=[first, second], album_ids=[catalogue.album_id], artist_ids=[catalogue.artist_id]
    )
    after = sonic.get_starred2()
    assert not {first, second} & {item.id for item in after.song or []}
    assert catalogue.album_id not in [item.id for item in after.album or []]

    # Scrobbles: "now playing" counts nothing, a submission counts once at its time.
    # Seconds since the epoch (the client sends milliseconds); unique per scheme.
    played_at = 1_767_225_600 + uuid.uuid4().int % 10_000_000
    before = _plays(http, fleet, listener)
    sonic.scrobble(third, submission=False)
    assert _plays(http, fleet, listener) == before
    sonic.scrobble(third, submission=True, listen_time=played_at)
    sonic.scrobble(third, submission=True, listen_time=played_at)
    assert _plays(http, fleet, listener) == before + 1

    # Streaming with a Range, as a player seeking does; covers at a size.
    response = sonic.stream(first, byte_range="bytes=0-99")
    try:
        assert response.status == 206
        assert response.headers["Content-Range"].startswith("bytes 0-99/")
        body = _read(sonic, response)
    finally:
        response.release()
    assert body == catalogue.first_bytes
    download = sonic.download(first)
    try:
        assert download.status == 200
        assert "attachment" in download.headers["Content-Disposition"]
        assert _read(sonic, download)[:100] == catalogue.first_bytes
    finally:
        download.release()
    cover = sonic.get_cover_art(catalogue.album_id, size=64)
    try:
        image = Image.open(io.BytesIO(_read(sonic, cover)))
    finally:
        cover.release()
    assert max(image.size) == 64

    # Playlists: created, updated (added, removed by index, renamed), read, deleted.
    name = f"Mix {uuid.uuid4().hex[:6]}"
    sonic.create_playlist(name=name, song_ids=[first, second])
    mine = [item for item in sonic.get_playlists() if item.name == name]
    assert len(mine) == 1
    playlist_id = mine[0].id
    sonic.update_playlist(
        playlist_id, name=f"{name}!", comment="for the road",
        song_ids_to_add=[third, first], song_indices_to_remove=[0],
    )  # fmt: skip
    playlist = sonic.get_playlist(playlist_id)
    assert playlist.name == f"{name}!" and playlist.comment == "for the road"
    assert [entry.id for entry in playlist.entry] == [second, third, first]
    assert playlist.song_count == 3 and playlist.owner == listener.username
    sonic.create_playlist(playlist_id=playlist_id, song_ids=[third])
    assert [entry.id for entry in sonic.get_playlist(playlist_id).entry] == [third]
    sonic.delete_playlist(playlist_id)
    with pytest.raises(sonic_errors.DataNotFoundError):
        sonic.get_playlist(playlist_id)


def _through_client(sonic: Connection, method: str) -> dict[str, Any]:
    """`method` called with the client's own credentials, request and status check
    (for a call whose wrapper the library gets wrong); the `subsonic-response`."""
    client = sonic._async

    async def call() -> dict[str, Any]:
        return await client._handle_info_res(await client._do_request(method))

    return asyncio.run_coroutine_threadsafe(call(), sonic._loop).result(30)


def _read(sonic: Connection, response: Any) -> bytes:
    """The body of an aiohttp response the sync client handed back, read on the
    client's own event loop."""
    return asyncio.run_coroutine_threadsafe(response.read(), sonic._loop).result(30)


def _plays(http: httpx.Client, fleet: Fleet, listener: Listener) -> int:
    return len(
        expect(
            http.get(f"{fleet.song}/songs/played", headers=listener.headers, params={"limit": 200}),
            200,
        )
    )


def test_wrong_credentials_are_refused(fleet: Fleet, listener: Listener) -> None:
    url = urlsplit(fleet.subsonic)
    wrong_key = Connection(f"{url.scheme}://{url.hostname}", port=url.port, api_key="mpk_wrong")
    wrong_password = Connection(
        f"{url.scheme}://{url.hostname}", port=url.port, username=listener.username,
        password="not-the-app-password",
    )  # fmt: skip
    try:
        with pytest.raises(sonic_errors.SonicError) as bad_key:
            wrong_key.ping()
        with pytest.raises(sonic_errors.CredentialError):
            wrong_password.ping()
    finally:
        wrong_key.cleanup()
        wrong_password.cleanup()
    assert "API key" in str(bad_key.value)
