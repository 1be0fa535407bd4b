"""media.transcode with Debian's ffmpeg on real audio (skipped without ffmpeg on a
developer's machine, failed in CI, which installs it)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import mutagen
import pytest
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus

from common.errors import TooManyRequestsError
from media import transcode
from media.synth import write_song
from media.transcode import FfmpegMissingError, Plan, TranscodeFailedError, Transcoder
from tests.databases import missing


@pytest.fixture
def ffmpeg() -> str:
    path = transcode.ffmpeg_path()
    if path is None:
        missing("ffmpeg is not installed: apt-get install ffmpeg")
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    return write_song(
        folder / "song.flac", title="T", artists=["A"], album="B", seconds=6.0, channels=2,
        sample_rate=44100,
    )  # fmt: skip


def test_plan_needs_ffmpeg_only_for_another_format_or_a_lower_bitrate() -> None:
    plan = transcode.plan
    assert plan("ogg", 160, None, None) is None
    assert plan("ogg", 160, "raw", None) is None
    assert plan("ogg", 160, "raw", 64) is None  # raw is always the original
    assert plan("mp3", 192, "mp3", None) is None
    assert plan("mp3", 192, "mp3", 320) is None  # no lower cap: the original
    assert plan("mp3", 192, "mp3", 192) is None
    assert plan("mp3", 192, "mp3", 100) == Plan("mp3", 96)  # snapped down
    assert plan("mp3", 192, None, 128) == Plan("mp3", 128)
    assert plan("flac", None, None, 500) == Plan("mp3", 320)  # unknown bitrate: transcode
    assert plan("flac", 900, "opus", None) == Plan("opus", 128)
    assert plan("flac", 900, "mp3", None) == Plan("mp3", 192)
    assert plan("opus", 96, "opus", 8) == Plan("opus", 64)  # below the smallest: the smallest
    # The smallest transcode is no smaller than a 45 kbps original: the original.
    assert plan("ogg", 45, None, 1) is None
    assert plan("ogg", 45, None, 32) is None
    # A format change never asks for more than the original has.
    assert plan("ogg", 45, "mp3", None) == Plan("mp3", 64)
    assert plan("flac", 900, "mp3", 500) == Plan("mp3", 320)
    assert [transcode.snap_bitrate(k) for k in (1, 64, 95, 96, 319, 320, 999)] == [
        64, 64, 64, 96, 256, 320, 320,
    ]  # fmt: skip
    assert Plan("opus", 128).content_type == "audio/ogg"
    assert Plan("mp3", 128).content_type == "audio/mpeg"


def test_transcodes_to_real_audio_and_caches(ffmpeg: str, source: Path, tmp_path: Path) -> None:
    transcoder = Transcoder(tmp_path / "cache", concurrency=2, ffmpeg=ffmpeg)

    mp3_path = asyncio.run(transcoder.get(source, 7, "c" * 64, Plan("mp3", 128)))
    assert mp3_path == transcoder.cache_path(7, "c" * 64, Plan("mp3", 128))
    assert mp3_path.parent == tmp_path / "cache" / "transcode" / "7"
    audio = MP3(mp3_path)
    assert abs(audio.info.length - 6.0) < 0.2
    assert round(audio.info.bitrate / 1000) == 128
    assert audio.tags is not None and audio.tags["TIT2"].text == ["T"]  # tags carried over
    assert audio.info.channels == 2

    opus_path = asyncio.run(transcoder.get(source, 7, "c" * 64, Plan("opus", 64)))
    opus = OggOpus(opus_path)
    assert abs(opus.info.length - 6.0) < 0.2
    assert isinstance(mutagen.File(opus_path), OggOpus)
    assert sorted(p.name for p in mp3_path.parent.iterdir()) == [
        f"{'c' * 64}-mp3-128.mp3",
        f"{'c' * 64}-opus-64.opus",
    ]  # fmt: skip (no temporary files left)

    # The second time comes from the cache: no ffmpeg is run (none could be).
    stamp = mp3_path.stat().st_mtime_ns
    cached_only = Transcoder(tmp_path / "cache", concurrency=1, ffmpeg="/nonexistent/ffmpeg")
    assert asyncio.run(cached_only.get(source, 7, "c" * 64, Plan("mp3", 128))) == mp3_path
    assert mp3_path.stat().st_mtime_ns == stamp
    # Another checksum (the file was replaced) is another cache entry.
    assert transcoder.cache_path(7, "d" * 64, Plan("mp3", 128)) != mp3_path

    transcoder.remove(7)
    assert not (tmp_path / "cache" / "transcode" / "7").exists()


def test_concurrency_bound_is_429_with_retry_after(
    ffmpeg: str, source: Path, tmp_path: Path
) -> None:
    transcoder = Transcoder(tmp_path / "cache", concurrency=1, ffmpeg=ffmpeg)

    async def scenario() -> tuple[Path, Path, BaseException | None]:
        first = asyncio.create_task(transcoder.get(source, 1, "a" * 64, Plan("opus", 96)))
        while transcoder.running == 0:  # noqa: ASYNC110  until its ffmpeg runs
            await asyncio.sleep(0.001)
        # The same variant waits for the running transcode instead of starting another.
        same = asyncio.create_task(transcoder.get(source, 1, "a" * 64, Plan("opus", 96)))
        refused = None
        try:
            await transcoder.get(source, 1, "a" * 64, Plan("mp3", 64))
        except TooManyRequestsError as exc:
            refused = exc
        return await first, await same, refused

    first, same, refused = asyncio.run(scenario())
    assert first == same and first.is_file()
    assert isinstance(refused, TooManyRequestsError)
    assert refused.status_code == 429
    assert refused.headers == {"Retry-After": str(transcode.RETRY_AFTER_SECONDS)}
    assert transcoder.running == 0
    # With the slot free again, the refused variant is made.
    assert asyncio.run(transcoder.get(source, 1, "a" * 64, Plan("mp3", 64))).is_file()


def test_a_file_ffmpeg_cannot_decode_leaves_nothing(ffmpeg: str, tmp_path: Path) -> None:
    bogus = tmp_path / "not-audio.mp3"
    bogus.write_text("this is a text file, not audio\n" * 50)
    transcoder = Transcoder(tmp_path / "cache", concurrency=1, ffmpeg=ffmpeg)
    with pytest.raises(TranscodeFailedError) as caught:
        asyncio.run(transcoder.get(bogus, 3, "b" * 64, Plan("mp3", 128)))
    assert caught.value.status_code == 422
    assert list((tmp_path / "cache" / "transcode" / "3").iterdir()) == []
    assert transcoder.running == 0


def test_without_ffmpeg_a_transcode_is_501(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert transcode.ffmpeg_path() is None
    transcoder = Transcoder(tmp_path / "cache", concurrency=1)
    with pytest.raises(FfmpegMissingError) as caught:
        asyncio.run(transcoder.get(source, 1, "a" * 64, Plan("mp3", 128)))
    assert caught.value.status_code == 501
    assert "ffmpeg" in caught.value.detail and "format=raw" in caught.value.detail
    assert not (tmp_path / "cache" / "transcode").exists() or not os.listdir(
        tmp_path / "cache" / "transcode"
    )
