"""GET/HEAD /songs/{id}/stream and /download, POST /songs/{id}/stream-url, against
the real service on a migrated SQLite database and real audio files on disk."""

from __future__ import annotations

import hashlib
import math
import os
import re
import struct
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mutagen.mp3 import MP3
from sqlalchemy import insert

from common.settings import Settings
from database import Database
from database.tables import media_files
from database.types import utcnow
from media import signing, storage, transcode
from song_service.repos.media_base import MediaFile
from song_service.tests.conftest import song
from tests.databases import missing
from tests.e2e.fleet import free_ports

AuthHeader = Callable[..., dict[str, str]]


def write_wav(path: Path, seconds: float = 2.0, rate: int = 8000, freq: float = 440.0) -> bytes:
    """A real mono 16-bit PCM WAV (a sine tone); returns its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate)))
        for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path.read_bytes()


def add_song(client: TestClient, auth_header: AuthHeader, **fields: Any) -> int:
    response = client.post("/songs", json=song(**fields), headers=auth_header(1, "admin"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def add_media(
    database: Database,
    settings: Settings,
    song_id: int,
    relative: str,
    *,
    root: str = "media",
    content_type: str = "audio/wav",
    suffix: str = "wav",
    bitrate: int | None = 128,
) -> bytes:
    path = storage.resolve(root, relative, settings)  # type: ignore[arg-type]
    data = path.read_bytes()
    info = path.stat()
    media = MediaFile(
        song_id=song_id, root=root, path=relative, size=len(data), mtime_ns=info.st_mtime_ns,
        checksum=hashlib.sha256(data).hexdigest(), content_type=content_type, suffix=suffix,
        bitrate=bitrate, sample_rate=8000, channels=1, duration=2.0, embedded_cover=False,
        cover_path=None,
    )  # fmt: skip
    now = utcnow()
    with database.connect(write=True) as connection:
        connection.execute(
            insert(media_files).values(**media.row(), created_at=now, updated_at=now)
        )
        connection.commit()
    return data


@pytest.fixture
def playable(
    sql_client: TestClient, auth_header: AuthHeader, database: Database, settings: Settings
) -> tuple[int, bytes]:
    """A song with a real WAV under MEDIA_DIR: (song id, the file's bytes)."""
    song_id = add_song(sql_client, auth_header, title="Tone", artist="Sine Band")
    write_wav(settings.media_dir / "Sine Band" / "01 Tone.wav")
    return song_id, add_media(database, settings, song_id, "Sine Band/01 Tone.wav")


def multipart_parts(response: Any) -> list[tuple[str, bytes]]:
    """(Content-Range, body) of each part of a multipart/byteranges answer."""
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    parts = []
    for chunk in response.content.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        assert body.endswith(b"\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n") if line)
        assert headers["Content-Type"] == "audio/wav"
        parts.append((headers["Content-Range"], body[:-2]))
    return parts


def test_range_matrix(
    sql_client: TestClient, auth_header: AuthHeader, playable: tuple[int, bytes]
) -> None:
    song_id, data = playable
    size = len(data)
    url, user = f"/songs/{song_id}/stream", auth_header(2)
    etag = f'"{hashlib.sha256(data).hexdigest()}"'

    whole = sql_client.get(url, headers=user)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["content-length"] == str(size)
    assert whole.headers["etag"] == etag
    assert whole.headers["last-modified"].endswith(" GMT")
    assert whole.headers["cache-control"] == "private, no-cache"

    partial = {
        "bytes=0-0": (0, 1),  # first byte
        f"bytes={size - 1}-{size - 1}": (size - 1, size),  # last byte
        "bytes=100-1099": (100, 1100),  # middle
        "bytes=-500": (size - 500, size),  # suffix
        "bytes=1000-": (1000, size),  # open-ended
        "bytes=0-1": (0, 2),  # Safari's probe
        f"bytes=0-{size + 1000}": (0, size),  # last-pos past the end: clipped
        f"bytes=-{size * 2}": (0, size),  # suffix longer than the file
        f"bytes=10-19, {size + 5}-": (10, 20),  # the unsatisfiable one is dropped
        "BYTES = 5-9": (5, 10),  # unit case-insensitive, whitespace allowed
    }
    for header, (start, end) in partial.items():
        response = sql_client.get(url, headers={**user, "Range": header})
        assert response.status_code == 206, header
        assert response.content == data[start:end], header
        assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{size}", header
        assert response.headers["content-length"] == str(end - start), header
        assert response.headers["etag"] == etag

    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        response = sql_client.get(url, headers={**user, "Range": header})
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{size}", header
        assert response.json() == {"detail": f"Range not satisfiable: the file has {size} bytes"}

    # Malformed, another unit or an invalid range: ignored, the whole file (RFC 9110, 14.2).
    for header in (
        "bytes=abc",
        "bytes=5-3",
        "items=0-1",
        "bytes=",
        "bytes=-",
        "0-1",
        "bytes=1-2-3",
    ):
        response = sql_client.get(url, headers={**user, "Range": header})
        assert response.status_code == 200, header
        assert response.content == data, header

    multi = sql_client.get(url, headers={**user, "Range": "bytes=0-9, 2000-2099, -16"})
    assert multi.status_code == 206
    assert multipart_parts(multi) == [
        (f"bytes 0-9/{size}", data[0:10]),
        (f"bytes 2000-2099/{size}", data[2000:2100]),
        (f"bytes {size - 16}-{size - 1}/{size}", data[-16:]),
    ]
    assert multi.headers["content-length"] == str(len(multi.content))
    # Overlapping ranges are merged into one.
    merged = sql_client.get(url, headers={**user, "Range": "bytes=0-99, 50-149"})
    assert merged.status_code == 206
    assert merged.headers["content-range"] == f"bytes 0-149/{size}"
    assert merged.content == data[:150]


def test_head_and_conditional_requests(
    sql_client: TestClient, auth_header: AuthHeader, playable: tuple[int, bytes]
) -> None:
    song_id, data = playable
    url, user = f"/songs/{song_id}/stream", auth_header(2)
    whole = sql_client.get(url, headers=user)
    etag, modified = whole.headers["etag"], whole.headers["last-modified"]

    head = sql_client.head(url, headers=user)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == whole.headers[name], name
    head_range = sql_client.head(url, headers={**user, "Range": "bytes=0-1"})
    assert head_range.status_code == 206
    assert head_range.headers["content-range"] == f"bytes 0-1/{len(data)}"
    assert head_range.content == b""

    for conditional in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},  # weak comparison
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
        {"If-None-Match": etag, "Range": "bytes=0-1"},
    ):
        response = sql_client.get(url, headers={**user, **conditional})
        assert response.status_code == 304, conditional
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "private, no-cache"
    assert sql_client.head(url, headers={**user, "If-None-Match": etag}).status_code == 304

    # If-None-Match wins over If-Modified-Since (RFC 9110, 13.1.3).
    stale = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
    assert sql_client.get(url, headers={**user, **stale}).status_code == 200
    assert (
        sql_client.get(url, headers={**user, "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
    ).status_code == 200
    assert sql_client.get(url, headers={**user, "If-Modified-Since": "garbage"}).status_code == 200

    # If-Range: a stale validator means the whole, current file.
    stale_range = sql_client.get(url, headers={**user, "Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale_range.status_code == 200
    assert stale_range.content == data
    fresh_range = sql_client.get(url, headers={**user, "Range": "bytes=0-9", "If-Range": etag})
    assert fresh_range.status_code == 206
    assert fresh_range.content == data[:10]
    dated_range = sql_client.get(url, headers={**user, "Range": "bytes=0-9", "If-Range": modified})
    assert dated_range.status_code == 206

    failed = sql_client.get(url, headers={**user, "If-Match": '"other"'})
    assert failed.status_code == 412
    assert failed.json() == {"detail": "Precondition failed"}
    assert sql_client.get(url, headers={**user, "If-Match": etag}).status_code == 200


def test_access_missing_and_remote(
    sql_client: TestClient,
    auth_header: AuthHeader,
    playable: tuple[int, bytes],
    settings: Settings,
) -> None:
    song_id, _ = playable
    user = auth_header(2)
    assert sql_client.get(f"/songs/{song_id}/stream").status_code == 401
    assert sql_client.head(f"/songs/{song_id}/stream").status_code == 401
    bad_token = {"Authorization": "Bearer nonsense"}
    assert sql_client.get(f"/songs/{song_id}/stream", headers=bad_token).status_code == 401

    missing = sql_client.get("/songs/999999/stream", headers=user)
    assert missing.status_code == 404
    assert sql_client.get("/songs/0/stream", headers=user).status_code in (404, 422)
    assert sql_client.get(f"/songs/{2**64}/stream", headers=user).status_code in (404, 422)

    remote = add_song(sql_client, auth_header, file_url="https://cdn.example.com/a%20b.mp3")
    redirect = sql_client.get(f"/songs/{remote}/stream", headers=user, follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "https://cdn.example.com/a%20b.mp3"
    head = sql_client.head(f"/songs/{remote}/download", headers=user, follow_redirects=False)
    assert head.status_code == 307

    nothing = add_song(sql_client, auth_header, file_url="/music/song.mp3")
    none = sql_client.get(f"/songs/{nothing}/stream", headers=user)
    assert none.status_code == 404
    assert "no audio file" in none.json()["detail"]

    (settings.media_dir / "Sine Band" / "01 Tone.wav").unlink()
    gone = sql_client.get(f"/songs/{song_id}/stream", headers=user)
    assert gone.status_code == 404
    assert gone.json() == {"detail": "The song's file is missing"}
    assert sql_client.head(f"/songs/{song_id}/stream", headers=user).status_code == 404


def test_download_names_the_file(
    sql_client: TestClient, auth_header: AuthHeader, database: Database, settings: Settings
) -> None:
    song_id = add_song(sql_client, auth_header, title="Ça/va? «oui»", artist="AC/DC")
    write_wav(settings.library_dir / "x" / "a%b?c #1.wav")
    data = add_media(database, settings, song_id, "x/a%b?c #1.wav", root="library")
    response = sql_client.get(f"/songs/{song_id}/download", headers=auth_header(2))
    assert response.status_code == 200
    assert response.content == data
    name = "AC DC - Ça va «oui».wav"  # separators and "?" replaced (media.storage)
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"AC DC - _a va _oui_.wav\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    ranged = sql_client.get(
        f"/songs/{song_id}/download", headers={**auth_header(2), "Range": "bytes=-10"}
    )
    assert ranged.status_code == 206
    assert ranged.content == data[-10:]
    assert (
        "content-disposition"
        not in sql_client.get(f"/songs/{song_id}/stream", headers=auth_header(2)).headers
    )


def signed(client: TestClient, song_id: int, headers: dict[str, str], **params: str) -> str:
    response = client.post(f"/songs/{song_id}/stream-url", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"url", "expires_at"}
    return body["url"]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


def test_signed_urls(
    sql_client: TestClient,
    auth_header: AuthHeader,
    playable: tuple[int, bytes],
    database: Database,
    settings: Settings,
) -> None:
    song_id, data = playable
    other = add_song(sql_client, auth_header, title="Other")
    write_wav(settings.media_dir / "other.wav", freq=220)
    add_media(database, settings, other, "other.wav")

    assert sql_client.post(f"/songs/{song_id}/stream-url").status_code == 401
    assert sql_client.post("/songs/999999/stream-url", headers=auth_header(2)).status_code == 404

    before = time.time()
    response = sql_client.post(f"/songs/{song_id}/stream-url", headers=auth_header(2))
    body = response.json()
    url = body["url"]
    assert re.fullmatch(rf"/songs/{song_id}/stream\?uid=2&expires=\d+&sig=[\w-]+", url)
    expires = dict(parse_qsl(urlsplit(url).query))["expires"]
    assert body["expires_at"].endswith("Z") or body["expires_at"].endswith("+00:00")
    assert abs(int(expires) - (before + settings.stream_url_ttl_seconds)) < 5

    # Plays with no Authorization header, ranges and all.
    played = sql_client.get(url)
    assert played.status_code == 200
    assert played.content == data
    ranged = sql_client.get(url, headers={"Range": "bytes=-100"})
    assert ranged.status_code == 206
    assert ranged.content == data[-100:]
    assert sql_client.head(url).status_code == 200
    assert sql_client.get(url + "&format=raw").content == data

    sig = dict(parse_qsl(urlsplit(url).query))["sig"]
    tampered = with_query(url, sig=("A" if sig[0] != "A" else "B") + sig[1:])
    assert sql_client.get(tampered).status_code == 403
    assert sql_client.get(with_query(url, uid="3")).status_code == 403
    assert sql_client.get(with_query(url, expires=str(int(expires) + 3600))).status_code == 403
    assert sql_client.get(with_query(url, uid="02")).status_code == 403
    other_song = url.replace(f"/songs/{song_id}/", f"/songs/{other}/")
    denied = sql_client.get(other_song)
    assert denied.status_code == 403
    assert denied.json()["detail"] == "The signed stream URL is not valid for this song"
    # A stream URL does not open the download route.
    assert sql_client.get(url.replace("/stream?", "/download?")).status_code == 403
    incomplete = f"/songs/{song_id}/stream?uid=2&expires={expires}"
    assert sql_client.get(incomplete).status_code == 401

    key = signing.signing_key(settings)
    past = int(time.time()) - 1
    expired = sql_client.get(
        f"/songs/{song_id}/stream?{signing.sign(key, song_id, 2, 'stream', past)}"
    )
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]

    download = signed(sql_client, song_id, auth_header(2), purpose="download")
    assert download.startswith(f"/songs/{song_id}/download?")
    fetched = sql_client.get(download)
    assert fetched.status_code == 200
    assert fetched.headers["content-disposition"].startswith("attachment;")

    # Every replica reads the same key file: a key made once is kept.
    signing.reset_cache()
    assert signing.signing_key(settings) == key
    assert sql_client.get(url).status_code == 200
    assert os.stat(settings.stream_url_key_file).st_mode & 0o077 == 0


def test_signed_url_with_public_base_url(
    app: FastAPI, sql_client: TestClient, auth_header: AuthHeader, playable: tuple[int, bytes]
) -> None:
    song_id, _ = playable
    app.state.settings = app.state.settings.model_copy(
        update={"public_base_url": "https://music.example.com"}
    )
    url = signed(sql_client, song_id, auth_header(2))
    assert url.startswith(f"https://music.example.com/songs/{song_id}/stream?uid=2&")


def test_accel_redirect(
    app: FastAPI,
    sql_client: TestClient,
    auth_header: AuthHeader,
    database: Database,
    settings: Settings,
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"media_accel_redirect": "/_media"})
    song_id = add_song(sql_client, auth_header, title="Ünï", artist="B")
    write_wav(settings.library_dir / "Ä b" / "1?2%3 #.wav")
    add_media(database, settings, song_id, "Ä b/1?2%3 #.wav", root="library")
    response = sql_client.get(
        f"/songs/{song_id}/stream", headers={**auth_header(2), "Range": "bytes=0-1"}
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["x-accel-redirect"] == "/_media/library/%C3%84%20b/1%3F2%253%20%23.wav"
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["cache-control"] == "private, no-cache"
    download = sql_client.get(f"/songs/{song_id}/download", headers=auth_header(2))
    assert download.headers["x-accel-redirect"].startswith("/_media/library/")
    assert download.headers["content-disposition"].startswith('attachment; filename="B - _n_.wav"')
    head = sql_client.head(f"/songs/{song_id}/stream", headers=auth_header(2))
    assert head.status_code == 200
    assert head.headers["x-accel-redirect"].startswith("/_media/library/")


def test_transcoded_streams(
    app: FastAPI,
    sql_client: TestClient,
    auth_header: AuthHeader,
    playable: tuple[int, bytes],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if transcode.ffmpeg_path() is None:
        missing("ffmpeg is not installed: apt-get install ffmpeg")
    song_id, data = playable
    url, user = f"/songs/{song_id}/stream", auth_header(2)
    checksum = hashlib.sha256(data).hexdigest()

    mp3 = sql_client.get(url, params={"format": "mp3", "max_bitrate": 100}, headers=user)
    assert mp3.status_code == 200, mp3.text
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.headers["accept-ranges"] == "none"
    assert mp3.headers["etag"] == f'"{checksum}-mp3-96"'  # 100 kbps snapped down to 96
    assert mp3.headers["content-length"] == str(len(mp3.content))
    cached = settings.cache_dir / "transcode" / str(song_id) / f"{checksum}-mp3-96.mp3"  # type: ignore[operator]
    assert cached.read_bytes() == mp3.content
    assert abs(MP3(cached).info.length - 2.0) < 0.2

    # Ranges are not offered on a transcode: the whole result, 200.
    ranged = sql_client.get(
        url, params={"format": "mp3", "max_bitrate": 96}, headers={**user, "Range": "bytes=0-1"}
    )
    assert ranged.status_code == 200
    assert ranged.content == mp3.content
    stamp = cached.stat().st_mtime_ns
    again = sql_client.get(
        url,
        params={"format": "mp3", "max_bitrate": 96},
        headers={**user, "If-None-Match": mp3.headers["etag"]},
    )
    assert again.status_code == 304
    assert cached.stat().st_mtime_ns == stamp  # from the cache, not made again

    opus = sql_client.get(url, params={"format": "opus"}, headers=user)
    assert opus.status_code == 200
    assert opus.headers["content-type"] == "audio/ogg"
    assert opus.content.startswith(b"OggS")
    head = sql_client.head(url, params={"format": "opus"}, headers=user)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == opus.headers["content-length"]

    # The original needs no ffmpeg: raw, or the original's own format at no lower bitrate.
    assert sql_client.get(url, params={"format": "raw"}, headers=user).content == data
    assert sql_client.get(url, params={"max_bitrate": 320}, headers=user).content == data
    assert sql_client.get(url, params={"format": "flac"}, headers=user).status_code == 422
    assert sql_client.get(url, params={"max_bitrate": 0}, headers=user).status_code == 422

    # All slots busy: 429 with Retry-After (the real race is in media/tests/test_transcode.py).
    transcoder = app.state.transcoder
    transcoder.running = transcoder.concurrency
    busy = sql_client.get(url, params={"format": "mp3", "max_bitrate": 64}, headers=user)
    assert busy.status_code == 429
    assert busy.headers["retry-after"] == str(transcode.RETRY_AFTER_SECONDS)
    assert "transcodes are running" in busy.json()["detail"]
    transcoder.running = 0

    # Without ffmpeg: 501 saying so; the original still plays.
    del app.state.transcoder
    monkeypatch.setenv("PATH", str(settings.cache_dir / "no-bin"))
    refused = sql_client.get(url, params={"format": "mp3", "max_bitrate": 64}, headers=user)
    assert refused.status_code == 501
    assert "ffmpeg" in refused.json()["detail"]
    assert sql_client.get(url, params={"format": "raw"}, headers=user).content == data


def test_over_a_real_http_server(
    app: FastAPI, auth_header: AuthHeader, database: Database, settings: Settings
) -> None:
    """The same answers from uvicorn on a socket (as `make run` serves them): HEAD
    keeps Content-Length with no body, ranges and 304 over a kept-alive connection."""
    port = free_ports(1)[0]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            created = http.post("/songs", json=song(), headers=auth_header(1, "admin"))
            song_id = created.json()["id"]
            write_wav(settings.media_dir / "real.wav", seconds=3.0)
            data = add_media(database, settings, song_id, "real.wav")
            url, user = f"/songs/{song_id}/stream", auth_header(2)
            head = http.head(url, headers=user)
            assert head.status_code == 200
            assert head.headers["content-length"] == str(len(data)) and head.content == b""
            for start in range(0, len(data), 8192):  # a player's sequential range reads
                part = http.get(url, headers={**user, "Range": f"bytes={start}-{start + 8191}"})
                assert part.status_code == 206
                assert part.content == data[start : start + 8192]
            etag = head.headers["etag"]
            assert http.get(url, headers={**user, "If-None-Match": etag}).status_code == 304
            assert http.get(url, headers=user).content == data
    finally:
        server.should_exit = True
        thread.join(timeout=10)
