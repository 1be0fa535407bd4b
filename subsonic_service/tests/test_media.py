"""stream, download and getCoverArt over the uploaded catalogue (conftest `library`):
the bytes of the real files, ranges, validators, HEAD, transcodes, covers, and
the envelopes of errors before any byte."""

from __future__ import annotations

import io
import os
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from database.media import MediaFile, media_of_songs
from database.tables import plays
from media import storage
from media.covers import CACHE_CONTROL, PRIVATE_CACHE_CONTROL
from subsonic_service.tests.conftest import Library


def _query(library: Library, user: str | None, params: dict[str, Any]) -> list[tuple[str, Any]]:
    query: list[tuple[str, Any]] = []
    if user is not None:
        query.append(("jwt", library.token(user)))
    query.extend(params.items())
    return query


def call(
    library: Library,
    name: str,
    *,
    user: str | None = "alice",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> httpx.Response:
    """`method` /rest/<name> with request headers (library.get sends none)."""
    return library.client.request(
        method, f"/rest/{name}", params=_query(library, user, params), headers=headers
    )


def media_of(library: Library, title: str) -> MediaFile:
    song_id = library.song_ids[title]
    with library.database.connect() as connection:
        return media_of_songs(connection, [song_id])[song_id]


def file_bytes(library: Library, title: str) -> bytes:
    media = media_of(library, title)
    return storage.resolve(media.root, media.path, library.settings).read_bytes()  # type: ignore[arg-type]


def so(library: Library, title: str) -> str:
    return f"so-{library.song_ids[title]}"


def error_of(response: httpx.Response) -> tuple[str, int]:
    """(format, code) of an error envelope, XML or JSON."""
    content_type = response.headers["content-type"]
    if content_type.startswith("application/json"):
        body = response.json()["subsonic-response"]
        assert body["status"] == "failed"
        return "json", body["error"]["code"]
    assert content_type.startswith("text/xml"), content_type
    root = ET.fromstring(response.content)  # noqa: S314 - our own server's answer
    assert root.tag.endswith("subsonic-response") and root.get("status") == "failed"
    error = next(element for element in root if element.tag.endswith("error"))
    return "xml", int(error.get("code", "-1"))


def needs_ffmpeg() -> None:
    """Skip without ffmpeg, except in CI, where it must be installed."""
    if shutil.which("ffmpeg"):
        return
    message = "ffmpeg is needed for transcodes: apt-get install ffmpeg"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def play_count(library: Library, user: str) -> int:
    with library.database.connect() as connection:
        statement = select(func.count()).where(plays.c.user_id == library.users[user])
        return int(connection.execute(statement).scalar_one())


def image(response: httpx.Response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


# -- stream ---------------------------------------------------------------------------------


def test_stream_sends_the_whole_file(library: Library) -> None:
    data = file_bytes(library, "Something")
    response = call(library, "stream", id=so(library, "Something"))
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "audio/ogg"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["etag"] == f'"{media_of(library, "Something").checksum}"'
    assert "last-modified" in response.headers
    assert "content-disposition" not in response.headers
    # The `.view` form and a form POST answer the same.
    assert call(library, "stream.view", id=so(library, "Something")).content == data
    posted = library.client.post(
        "/rest/stream",
        data={"jwt": library.token(), "id": so(library, "Something")},
    )
    assert posted.status_code == 200 and posted.content == data


def test_stream_ranges(library: Library) -> None:
    data = file_bytes(library, "Something")
    song = so(library, "Something")
    first = call(library, "stream", id=song, headers={"Range": "bytes=0-1"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-1/{len(data)}"
    assert first.content == data[:2]
    tail = call(library, "stream", id=song, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]

    beyond = call(library, "stream", id=song, headers={"Range": "bytes=999999999-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"

    # If-Range: a range only while the ETag still names this file.
    etag = first.headers["etag"]
    current = call(library, "stream", id=song, headers={"Range": "bytes=0-1", "If-Range": etag})
    assert current.status_code == 206 and current.content == data[:2]
    stale = call(library, "stream", id=song, headers={"Range": "bytes=0-1", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == data


def test_a_form_posted_stream_honours_range_and_validators_as_a_get(library: Library) -> None:
    """Apps send every call as a form POST (py-opensonic does); the stream it asks
    for is still a read, so Range and If-None-Match apply as to a GET."""
    data = file_bytes(library, "Something")
    form = {"jwt": library.token(), "id": so(library, "Something")}
    ranged = library.client.post("/rest/stream.view", data=form, headers={"Range": "bytes=2-5"})
    assert ranged.status_code == 206 and ranged.content == data[2:6]
    assert ranged.headers["content-range"] == f"bytes 2-5/{len(data)}"
    etag = ranged.headers["etag"]
    unchanged = library.client.post("/rest/stream", data=form, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""


def test_stream_head_and_validators(library: Library) -> None:
    data = file_bytes(library, "Dancing Queen")
    song = so(library, "Dancing Queen")
    head = call(library, "stream", id=song, method="HEAD")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["content-type"] == "audio/ogg"
    etag = head.headers["etag"]

    cached = call(library, "stream", id=song, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag
    changed = call(library, "stream", id=song, headers={"If-None-Match": '"another"'})
    assert changed.status_code == 200 and changed.content == data


def test_stream_ignores_what_it_documents_as_ignored(library: Library) -> None:
    data = file_bytes(library, "Je veux")
    response = call(
        library, "stream", id=so(library, "Je veux"), timeOffset=30,
        estimateContentLength="true", maxBitRate=0, format="raw", size="640x480",
    )  # fmt: skip
    assert response.status_code == 200 and response.content == data
    # A format this server cannot make is served as the original (no lower cap).
    assert call(library, "stream", id=so(library, "Je veux"), format="flac").content == data


def test_stream_never_counts_a_play(library: Library) -> None:
    user = library.new_user()
    before = play_count(library, user)
    for _ in range(3):
        assert call(library, "stream", user=user, id=so(library, "Waterloo")).status_code == 200
    assert call(library, "download", user=user, id=so(library, "Waterloo")).status_code == 200
    assert play_count(library, user) == before == 0


def test_stream_transcodes_to_mp3(library: Library) -> None:
    needs_ffmpeg()
    original = file_bytes(library, "Come Together")
    song = so(library, "Come Together")
    mp3 = call(library, "stream", id=song, format="mp3", headers={"Range": "bytes=0-1"})
    assert mp3.status_code == 200  # whole: a transcode takes no ranges
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.headers["accept-ranges"] == "none"
    assert mp3.content[:3] == b"ID3" or mp3.content[:2] in (b"\xff\xfb", b"\xff\xf3")
    assert mp3.content != original
    # No more bits than the ~45 kbps original has: the smallest mp3 rate, 64 kbps.
    checksum = media_of(library, "Come Together").checksum
    assert mp3.headers["etag"] == f'"{checksum}-mp3-64"'
    head = call(library, "stream", id=song, format="mp3", method="HEAD")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(mp3.content))


def test_stream_max_bit_rate_never_makes_the_answer_larger(library: Library) -> None:
    needs_ffmpeg()
    media = media_of(library, "Money, Money, Money")
    assert media.bitrate is not None and media.bitrate > 32, media  # ~45 kbps Vorbis
    song = so(library, "Money, Money, Money")
    original = file_bytes(library, "Money, Money, Money")
    # Below the file's, but the smallest rate media.transcode makes (64 kbps) is
    # above it: the original is the smaller answer, so it is sent.
    lower = call(library, "stream", id=song, maxBitRate=32)
    assert lower.status_code == 200 and lower.content == original
    assert lower.headers["content-type"] == "audio/ogg"
    # At or above the file's own bitrate, or `raw`: the original.
    assert call(library, "stream", id=song, maxBitRate=media.bitrate).content == original
    assert call(library, "stream", id=song, maxBitRate=32, format="raw").content == original


def test_stream_behind_the_gateway_is_an_accel_redirect(library: Library) -> None:
    app = library.client.app
    settings = app.state.settings  # type: ignore[attr-defined]
    app.state.settings = settings.model_copy(update={"media_accel_redirect": "/_media"})  # type: ignore[attr-defined]
    try:
        media = media_of(library, "Something")
        response = call(library, "stream", id=so(library, "Something"))
        assert response.status_code == 200 and response.content == b""
        location = f"/_media/{media.root}/{quote(media.path)}"
        assert response.headers["x-accel-redirect"] == location
        assert 0 < int(response.headers["x-accel-expires"]) <= 5
        download = call(library, "download", id=so(library, "Something"))
        assert download.headers["content-disposition"].startswith("attachment;")
    finally:
        app.state.settings = settings  # type: ignore[attr-defined]


# -- download -------------------------------------------------------------------------------


def test_download_is_the_original_as_an_attachment(library: Library) -> None:
    data = file_bytes(library, "Something")
    response = call(library, "download", id=so(library, "Something"))
    assert response.status_code == 200 and response.content == data
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="The Beatles - Something.ogg"'
    )
    # Never transcoded, whatever is asked.
    assert call(library, "download", id=so(library, "Something"), format="mp3").content == data
    part = call(library, "download", id=so(library, "Something"), headers={"Range": "bytes=2-5"})
    assert part.status_code == 206 and part.content == data[2:6]

    accented = call(library, "download", id=so(library, "Unrockbar"))
    disposition = accented.headers["content-disposition"]
    assert 'filename="Die _rzte - Unrockbar.ogg"' in disposition
    assert "filename*=UTF-8''Die%20%C3%84rzte%20-%20Unrockbar.ogg" in disposition


def test_download_of_an_album_or_playlist_is_not_offered(library: Library) -> None:
    album = f"al-{library.album_ids['Abbey Road']}"
    response = library.json("download", id=album)
    assert response["error"]["code"] == 0
    assert "not supported" in response["error"]["message"]
    assert library.json("download", id="pl-1")["error"]["code"] == 0
    assert library.json("download", id="so-999999")["error"]["code"] == 70
    assert library.json("download", id="nonsense")["error"]["code"] == 70


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["xml", "json"])
@pytest.mark.parametrize("name", ["stream", "download", "getCoverArt"])
def test_errors_before_any_byte_are_envelopes(library: Library, name: str, format: str) -> None:
    missing = call(library, name, f=format)
    assert missing.status_code == 200
    assert error_of(missing) == (format, 10)
    unknown_id = "so-999999" if name != "getCoverArt" else "al-999999"
    assert error_of(call(library, name, f=format, id=unknown_id)) == (format, 70)
    assert error_of(call(library, name, f=format, id="x-1")) == (format, 70)
    # Without credentials: 10 (no `u`), still an envelope.
    assert error_of(call(library, name, user=None, f=format, id="so-1"))[0] == format


def test_wrong_kinds_and_bad_parameters(library: Library) -> None:
    album = f"al-{library.album_ids['Abbey Road']}"
    assert library.json("stream", id=album)["error"]["code"] == 70
    song = so(library, "Something")
    assert library.json("stream", id=song, maxBitRate=-1)["error"]["code"] == 0
    assert library.json("getCoverArt", id=song, size=0)["error"]["code"] == 0
    assert library.json("getCoverArt", id=song, size="big")["error"]["code"] == 0
    assert library.json("getCoverArt", id="ar-999999")["error"]["code"] == 70
    assert library.json("getCoverArt", id="so-999999")["error"]["code"] == 70
    assert library.json("getCoverArt", id="pl-999999")["error"]["code"] == 70


# -- getCoverArt ----------------------------------------------------------------------------


def test_cover_of_an_album_with_embedded_art(library: Library) -> None:
    cover_id = f"al-{library.album_ids['Abbey Road']}"
    response = call(library, "getCoverArt", id=cover_id, size=64)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == CACHE_CONTROL
    picture = image(response)
    assert picture.size == (64, 64)
    red, green, blue = picture.convert("RGB").getpixel((32, 32))  # type: ignore[misc]
    assert red > 150 and green < 90 and blue < 90  # Abbey Road's red, not Arrival's blue
    # Snapped like the REST covers: 50 → 64, and the same ETag as /albums/{id}/cover.
    assert call(library, "getCoverArt", id=cover_id, size=50).content == response.content
    rest = library.apps["album"].get(f"/albums/{library.album_ids['Abbey Road']}/cover?size=64")
    assert rest.headers["etag"] == response.headers["etag"]
    assert image(call(library, "getCoverArt", id=cover_id)).size == (300, 300)  # never upscaled

    etag = response.headers["etag"]
    cached = call(library, "getCoverArt", id=cover_id, size=64, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    head = call(library, "getCoverArt", id=cover_id, size=64, method="HEAD")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag


def test_cover_of_an_album_without_art_is_the_placeholder(library: Library) -> None:
    response = call(library, "getCoverArt", id=f"al-{library.album_ids['Geräusch']}", size=64)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers
    assert image(response).size == (64, 64)


def test_cover_of_songs_and_artists(library: Library) -> None:
    song = call(library, "getCoverArt", id=so(library, "Dancing Queen"), size=128)
    assert song.headers["content-type"] == "image/jpeg"
    assert image(song).size == (128, 128)
    artist = call(library, "getCoverArt", id=f"ar-{library.artist_ids['ABBA']}", size=128)
    assert artist.headers["content-type"] == "image/jpeg"
    assert artist.content == song.content  # ABBA's newest album with a cover: Arrival
    bare = call(library, "getCoverArt", id=so(library, "Je veux"), size=128)
    assert bare.headers["cache-control"] == "no-store"


@pytest.fixture
def playlists(library: Library) -> Iterator[dict[str, Any]]:
    """A private and a public playlist of a fresh user's ("owner"), each starting
    with a song without art, then one with (Arrival's)."""
    owner = library.new_user()
    song = library.apps["song"]
    headers = {"Authorization": f"Bearer {library.token(owner)}"}
    made: dict[str, Any] = {"owner": owner}
    for name, public in (("private", False), ("public", True)):
        entries = [library.song_ids["Je veux"], library.song_ids["Dancing Queen"]]
        body = {"name": f"covers {name} {time.time_ns()}", "public": public, "song_ids": entries}
        created = song.post("/playlists", json=body, headers=headers)
        assert created.status_code == 201, created.text
        made[name] = created.json()["id"]
    yield made
    for playlist_id in (made["private"], made["public"]):
        song.delete(f"/playlists/{playlist_id}", headers=headers)


def test_cover_of_a_private_playlist_only_for_its_owner_and_admins(
    library: Library, playlists: dict[str, Any]
) -> None:
    private = f"pl-{playlists['private']}"
    own = call(library, "getCoverArt", user=playlists["owner"], id=private, size=64)
    assert own.status_code == 200 and own.headers["content-type"] == "image/jpeg"
    assert own.headers["cache-control"] == PRIVATE_CACHE_CONTROL
    # The first entry with art (Dancing Queen), not the first entry (Je veux, none).
    expected = call(library, "getCoverArt", id=so(library, "Dancing Queen"), size=64)
    assert own.content == expected.content
    assert call(library, "getCoverArt", user="admin", id=private, size=64).status_code == 200
    refused = library.json("getCoverArt", user="alice", id=private, size=64)
    assert refused["error"]["code"] == 70
    # The same answer as for a playlist that does not exist: nothing is revealed.
    assert refused["error"] == library.json("getCoverArt", user="alice", id="pl-999999")["error"]

    public = call(library, "getCoverArt", user="bob", id=f"pl-{playlists['public']}", size=64)
    assert public.status_code == 200
    assert public.headers["cache-control"] == CACHE_CONTROL
