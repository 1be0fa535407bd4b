"""media.synth writes real audio: decoded back by libsndfile (or probed by ffprobe
for M4A), at the length and layout asked for, different per seed."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from media.synth import cover_image, melody, write_song
from media.tests.conftest import PYTHON_FORMATS, require_ffmpeg


@pytest.mark.parametrize("suffix", PYTHON_FORMATS)
@pytest.mark.parametrize("channels", [1, 2])
def test_decodes_back_at_the_length_asked(suffix: str, channels: int, tmp_path: Path) -> None:
    path = write_song(
        tmp_path / f"song.{suffix}",
        title="T",
        artists=["A"],
        album="B",
        seconds=2.5,
        channels=channels,
        seed=3,
    )
    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    # libopus takes no 22050 Hz input: the next rate up, 24000 Hz, is encoded (and
    # libsndfile decodes at the rate in the Opus header).
    assert rate == (24000 if suffix == "opus" else 22050)
    assert samples.shape[1] == channels
    # MP3 decoders may add up to a frame of padding; the others are sample-exact.
    expected = round(2.5 * rate)
    decoded = soundfile.info(str(path)).frames
    if suffix == "mp3":
        assert abs(decoded - expected) <= 1152
    else:
        assert decoded == expected
    loudness = float(np.sqrt(np.mean(samples**2)))
    assert 0.02 < loudness < 0.5  # audible, not clipped
    assert float(np.max(np.abs(samples))) < 0.75


def test_wav_holds_the_melody_exactly(tmp_path: Path) -> None:
    path = write_song(tmp_path / "song.wav", title="T", artists=["A"], album="B", seconds=1.0)
    decoded, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
    assert np.allclose(decoded, melody(1.0, 22050, 1, 0), atol=1 / 32768 + 1e-6)


def test_seeds_make_different_songs_and_the_same_seed_the_same() -> None:
    first = melody(3.0, 22050, 1, seed=1)[:, 0]
    again = melody(3.0, 22050, 1, seed=1)[:, 0]
    other = melody(3.0, 22050, 1, seed=2)[:, 0]
    assert np.array_equal(first, again)
    correlation = float(np.corrcoef(first, other)[0, 1])
    assert abs(correlation) < 0.5


def test_m4a_is_aac_in_mp4(tmp_path: Path) -> None:
    require_ffmpeg()
    path = write_song(
        tmp_path / "song.m4a",
        title="T",
        artists=["A"],
        album="B",
        seconds=2.0,
        sample_rate=44100,
        channels=2,
    )
    assert path.read_bytes()[4:8] == b"ftyp"
    ffprobe = shutil.which("ffprobe")
    assert ffprobe
    probe = subprocess.run(
        [ffprobe, "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    audio = next(s for s in json.loads(probe.stdout)["streams"] if s["codec_type"] == "audio")
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "44100", 2)
    assert float(audio["duration"]) == pytest.approx(2.0, abs=0.06)
    # No scratch files left beside the song.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.m4a"]


def test_m4a_without_ffmpeg_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(RuntimeError, match=r"needs ffmpeg \(apt-get install ffmpeg\)"):
        write_song(tmp_path / "song.m4a", title="T", artists=["A"], album="B")
    assert not (tmp_path / "song.m4a").exists()
    # The formats libsndfile writes need no program at all.
    write_song(tmp_path / "song.ogg", title="T", artists=["A"], album="B", seconds=0.5)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot write \.aiff audio"):
        write_song(tmp_path / "song.aiff", title="T", artists=["A"], album="B")
    with pytest.raises(ValueError, match="id3_version"):
        write_song(tmp_path / "song.mp3", title="T", artists=["A"], album="B", id3_version=2)
    with pytest.raises(ValueError, match="channels"):
        melody(1.0, 22050, 6, 0)


def test_cover_image_is_a_jpeg_of_the_size_asked() -> None:
    data = cover_image("Ансамбль Привет — 日本語 — Beyoncé", size=256, seed=4)
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (256, 256), "RGB")
        colours = image.convert("RGB").getcolors(maxcolors=256 * 256)
    assert colours is None or len(colours) > 50  # a gradient with text, not a flat fill
    assert cover_image("x", seed=1) != cover_image("x", seed=2)
    assert cover_image("x", seed=1) == cover_image("x", seed=1)


def test_the_command_line_writes_a_tagged_song(tmp_path: Path) -> None:
    from media.synth import main
    from media.tags import embedded_picture, read_tags

    path = tmp_path / "a.ogg"
    main([str(path), "--title", "Hello", "--artist", "Alice", "--artist", "Bob",
          "--album", "Home", "--track", "2", "--seconds", "1.5"])  # fmt: skip
    tags = read_tags(path)
    assert (tags.title, tags.artists, tags.album, tags.track) == (
        "Hello",
        ["Alice", "Bob"],
        "Home",
        2,
    )
    assert tags.duration == pytest.approx(1.5, abs=0.05)
    assert embedded_picture(path) is not None
