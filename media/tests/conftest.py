"""Fixtures that make real audio files for the media tests (media.synth), and the
ffmpeg gate: M4A needs ffmpeg, which a test skips without, except in CI (CI=true),
where a missing ffmpeg fails the test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from media.synth import cover_image, write_song

SongFactory = Callable[..., Path]

# Formats libsndfile writes (no external program needed), and all of them.
PYTHON_FORMATS = ("ogg", "opus", "flac", "mp3", "wav")
ALL_FORMATS = (*PYTHON_FORMATS, "m4a")


def require_ffmpeg() -> str:
    """ffmpeg's path; skips the test without it, or fails it in CI."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    message = "ffmpeg is needed for M4A (AAC) files: apt-get install ffmpeg"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(params=ALL_FORMATS)
def suffix(request: pytest.FixtureRequest) -> str:
    """Each supported suffix in turn; m4a only where ffmpeg is installed."""
    if request.param == "m4a":
        require_ffmpeg()
    return str(request.param)


@pytest.fixture(scope="session")
def cover() -> bytes:
    """A 300 px JPEG cover."""
    return cover_image("Test Cover", size=300, seed=7)


@pytest.fixture
def make_song(tmp_path: Path) -> SongFactory:
    """make_song("a/b/01 - x.ogg", title=..., ...) writes a real tagged song under
    tmp_path (see media.synth.write_song for the keywords) and returns its path.
    Defaults: 2 s, mono, 22050 Hz (44100 Hz stereo for m4a, where mono AAC at low
    rates is ambiguous to mutagen: it may hide Parametric Stereo)."""

    def make(relative: str, **tags: Any) -> Path:
        path = tmp_path / relative
        tags.setdefault("title", "Untitled Test")
        tags.setdefault("artists", ["Test Artist"])
        tags.setdefault("album", "Test Album")
        tags.setdefault("seconds", 2.0)
        if path.suffix == ".m4a":
            require_ffmpeg()
            tags.setdefault("sample_rate", 44100)
            tags.setdefault("channels", 2)
        return write_song(path, **tags)

    return make
