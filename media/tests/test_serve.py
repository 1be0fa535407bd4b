"""media.serve.audio_response's decisions, without a service around it (the HTTP
behaviour through both APIs: song_service/tests/test_stream_api.py and
subsonic_service/tests/test_media.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from starlette.responses import RedirectResponse, Response

from common.errors import NotFoundError
from common.settings import Settings
from database.media import MediaFile
from media import storage
from media.serve import audio_response, download_name, is_remote
from media.streaming import AudioFileResponse


def serve(*args: Any, **kwargs: Any) -> Response:
    return asyncio.run(audio_response(*args, **kwargs))


def media_file(path: str, *, root: str = "media", size: int = 4) -> MediaFile:
    return MediaFile(
        song_id=1, root=root, path=path, size=size, mtime_ns=1_700_000_000 * 10**9,
        checksum="ab" * 32, content_type="audio/ogg", suffix="ogg", bitrate=128,
        sample_rate=44100, channels=2, duration=1.0, embedded_cover=False, cover_path=None,
    )  # fmt: skip


@pytest.fixture
def stored(settings: Settings) -> MediaFile:
    target = storage.root_dir("media", settings) / "a" / "song.ogg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"OggS")
    return media_file("a/song.ogg")


def test_no_file_redirects_a_remote_url_and_is_404_otherwise(settings: Settings) -> None:
    url = "https://cdn.example/song.mp3"
    answer = serve(settings, None, url, song_id=1, expires_at=0)
    assert isinstance(answer, RedirectResponse) and answer.status_code == 307
    assert answer.headers["location"] == url
    for file_url in ("/local/path.mp3", "ftp://host/x.mp3", "", None):
        with pytest.raises(NotFoundError):
            serve(settings, None, file_url, song_id=1, expires_at=0)


def test_a_missing_or_escaping_file_is_404(settings: Settings) -> None:
    for path in ("gone.ogg", "../outside.ogg"):
        with pytest.raises(NotFoundError):
            serve(settings, media_file(path), None, song_id=1, expires_at=0)


def test_stream_and_download_of_the_file(settings: Settings, stored: MediaFile) -> None:
    stream = serve(settings, stored, None, song_id=1, expires_at=0)
    assert isinstance(stream, AudioFileResponse)
    assert stream.headers["etag"] == f'"{stored.checksum}"'
    assert "content-disposition" not in stream.headers
    download = serve(
        settings, stored, None, song_id=1, expires_at=0, purpose="download",
        filename="A - B.ogg", format="mp3",  # a download is never transcoded
    )  # fmt: skip
    assert isinstance(download, AudioFileResponse)
    assert download.headers["content-disposition"] == 'attachment; filename="A - B.ogg"'


def test_behind_the_gateway_never_past_the_callers_expiry(
    settings: Settings, stored: MediaFile
) -> None:
    gateway = settings.model_copy(update={"media_accel_redirect": "/_media"})
    soon = int(time.time()) + 2
    answer = serve(gateway, stored, None, song_id=1, expires_at=soon)
    assert answer.headers["x-accel-redirect"] == "/_media/media/a/song.ogg"
    assert 0 < int(answer.headers["x-accel-expires"]) <= 2
    expired = serve(gateway, stored, None, song_id=1, expires_at=0)
    assert "x-accel-expires" not in expired.headers


def test_download_name_and_remote_urls() -> None:
    name = download_name("AC/DC", "T.N.T.", "ogg")  # no separator survives
    assert "/" not in name and name.startswith("AC") and name.endswith(".ogg")
    assert download_name("A", "B", "") == "A - B"
    assert is_remote("HTTPS://x.example/a") and not is_remote("/x") and not is_remote(None)
