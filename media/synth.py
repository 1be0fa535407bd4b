"""Real, playable, tagged audio made with Python packages alone, for `make seed`
and the media tests.

`write_song` synthesises a short melody (sine notes with harmonics and an
envelope, on a pentatonic scale, varied by `seed`), encodes it by the path's
suffix and writes its tags with mutagen:

    .wav   PCM 16-bit, ID3 tags in an "id3 " chunk      (libsndfile)
    .flac  FLAC 16-bit, Vorbis comments + PICTURE block (libsndfile)
    .ogg   Ogg Vorbis, Vorbis comments                  (libsndfile)
    .opus  Ogg Opus, Vorbis comments (RFC 7845)         (libsndfile)
    .mp3   MPEG-1/2 Layer III, ID3v2.4 or v2.3          (libsndfile with LAME)
    .m4a   AAC in MP4, iTunes atoms                     (ffmpeg: RuntimeError without it)

Covers are embedded as APIC (ID3), a FLAC PICTURE block, METADATA_BLOCK_PICTURE
(Ogg, base64 of a FLAC PICTURE block) or `covr` (MP4). `cover_image` makes a JPEG.

soundfile and numpy are test/seed dependencies (requirements-dev.txt); this module
is not imported by the services.
"""

from __future__ import annotations

import base64
import colorsys
import io
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile
from mutagen.flac import FLAC
from mutagen.flac import Picture as FlacPicture
from mutagen.id3 import APIC, ID3, TALB, TCMP, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from PIL import Image, ImageDraw, ImageFont

__all__ = ["SUFFIXES", "cover_image", "write_song"]

SUFFIXES = ("ogg", "opus", "flac", "mp3", "wav", "m4a")

# libsndfile's (format, subtype) per suffix; m4a goes through ffmpeg.
_SOUNDFILE_FORMATS = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}
# The only input rates libopus accepts (RFC 6716, section 2); others are raised to
# the next one up, so a 22050 Hz request becomes 24000 Hz for Opus.
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
# Major pentatonic degrees in semitones: any sequence of them sounds consonant.
_PENTATONIC = (0, 2, 4, 7, 9)
_FRONT_COVER = 3  # APIC / FLAC picture type "Cover (front)" (ID3v2.4 section 4.14)
_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)


def write_song(
    path: Path,
    *,
    title: str,
    artists: Sequence[str],
    album: str | None,
    album_artists: Sequence[str] | None = None,
    track: int | None = None,
    track_total: int | None = None,
    disc: int | None = None,
    disc_total: int | None = None,
    genres: Sequence[str] = (),
    date: str | None = None,
    seconds: float = 8.0,
    cover: bytes | None = None,
    compilation: bool = False,
    seed: int = 0,
    sample_rate: int = 22050,
    channels: int = 1,
    id3_version: int = 4,
) -> Path:
    """Write a playable song of `seconds` seconds to `path`, encoded by its suffix
    (see the module docstring), tagged with the given values (lists stay
    multi-valued where the format allows: Vorbis comments, ID3v2.4 and v2.3 with
    NUL separators, MP4 lists), `cover` (JPEG or PNG bytes) embedded as the front
    cover. `sample_rate` in Hz (Opus raises it to 24000 or 48000), `channels` 1 or
    2, `id3_version` 3 or 4 for .mp3 and .wav. Returns `path`.

    Raises ValueError for an unknown suffix and RuntimeError for .m4a when ffmpeg
    is not installed.
    """
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        raise ValueError(f"cannot write .{suffix} audio; choose one of {', '.join(SUFFIXES)}")
    if suffix == "m4a" and shutil.which("ffmpeg") is None:
        raise RuntimeError("writing .m4a (AAC) needs ffmpeg (apt-get install ffmpeg)")
    if id3_version not in (3, 4):
        raise ValueError("id3_version must be 3 or 4")
    rate = sample_rate
    if suffix == "opus":
        rate = next((r for r in _OPUS_RATES if r >= sample_rate), 48000)
    samples = melody(seconds, rate, channels, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == "m4a":
        _encode_m4a(path, samples, rate)
    else:
        kind, subtype = _SOUNDFILE_FORMATS[suffix]
        soundfile.write(path, samples, rate, format=kind, subtype=subtype)
    tags = _Tags(
        title=title,
        artists=list(artists),
        album=album,
        album_artists=list(album_artists or []),
        track=track,
        track_total=track_total,
        disc=disc,
        disc_total=disc_total,
        genres=list(genres),
        date=date,
        cover=cover,
        compilation=compilation,
    )
    if suffix in ("mp3", "wav"):
        _tag_id3(path, suffix, tags, id3_version)
    elif suffix == "m4a":
        _tag_mp4(path, tags)
    else:
        _tag_vorbis(path, suffix, tags)
    return path


def melody(seconds: float, sample_rate: int, channels: int, seed: int) -> np.ndarray:
    """`seconds` of a little tune as float32 samples shaped (frames, channels),
    peaking at 0.5 (about -6 dBFS). `seed` picks the key, tempo, timbre and notes,
    so different seeds sound different; the same seed gives the same samples."""
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    if channels not in (1, 2):
        raise ValueError("channels must be 1 or 2")
    rng = np.random.default_rng(seed)
    frames = max(1, round(seconds * sample_rate))
    out = np.zeros((frames, channels), dtype=np.float64)
    root = 196.0 * 2 ** (int(rng.integers(0, 12)) / 12)  # G3 up to F#4
    beat = 60.0 / float(rng.uniform(84, 144))
    brightness = float(rng.uniform(0.15, 0.45))  # weight of the 2nd harmonic
    degree = int(rng.integers(0, len(_PENTATONIC)))
    start = 0.0
    while start < seconds:
        length = beat * float(rng.choice((0.5, 1.0, 1.0, 1.5, 2.0)))
        # A random walk over two octaves of the scale: steps, not leaps, so it sings.
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, 2 * len(_PENTATONIC) - 1))
        octave, step = divmod(degree, len(_PENTATONIC))
        frequency = root * 2 ** (octave + _PENTATONIC[step] / 12)
        pan = float(rng.uniform(0.2, 0.8))
        _add_note(out, sample_rate, start, min(length, seconds - start), frequency, brightness, pan)
        start += length
    # A quiet drone on the root an octave down holds the tune together.
    t = np.arange(frames) / sample_rate
    drone = 0.12 * np.sin(2 * np.pi * (root / 2) * t)
    out += drone[:, None]
    fade = min(frames, int(0.05 * sample_rate))  # no click at the ends
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        out[:fade] *= ramp[:, None]
        out[-fade:] *= ramp[::-1, None]
    peak = float(np.max(np.abs(out))) or 1.0
    return (out * (0.5 / peak)).astype(np.float32)


def _add_note(
    out: np.ndarray,
    sample_rate: int,
    start: float,
    length: float,
    frequency: float,
    brightness: float,
    pan: float,
) -> None:
    first = int(start * sample_rate)
    count = min(int(length * sample_rate), out.shape[0] - first)
    if count <= 0:
        return
    t = np.arange(count) / sample_rate
    phase = 2 * np.pi * frequency * t
    wave = np.sin(phase) + brightness * np.sin(2 * phase) + 0.08 * np.sin(3 * phase)
    attack = np.minimum(1.0, t / 0.012)  # 12 ms attack, then a plucked decay
    release = np.minimum(1.0, (count - np.arange(count)) / (0.02 * sample_rate))
    envelope = attack * np.exp(-2.5 * t / max(length, 0.05)) * release
    note = 0.4 * wave * envelope
    if out.shape[1] == 1:
        out[first : first + count, 0] += note
    else:
        out[first : first + count, 0] += note * (1.0 - pan)
        out[first : first + count, 1] += note * pan


def _encode_m4a(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """AAC-LC in an MP4 container with the index in front (faststart), so the file
    streams; ffmpeg reads 16-bit PCM WAV from a temporary file beside `path`."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("writing .m4a (AAC) needs ffmpeg (apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        source = Path(scratch) / "source.wav"
        soundfile.write(source, samples, sample_rate, format="WAV", subtype="PCM_16")
        arguments = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source)]
        arguments += ["-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(path)]
        result = subprocess.run(  # noqa: S603 - a fixed ffmpeg command line on our own files
            [ffmpeg, *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg could not encode AAC: {result.stderr.strip()[-500:]}")


class _Tags:
    """The values write_song was given, gathered for the per-format writers."""

    __slots__ = (
        "album",
        "album_artists",
        "artists",
        "compilation",
        "cover",
        "date",
        "disc",
        "disc_total",
        "genres",
        "title",
        "track",
        "track_total",
    )

    def __init__(self, **values: object) -> None:
        for name, value in values.items():
            setattr(self, name, value)


def _image_mime(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG\r\n\x1a\n") else "image/jpeg"


def _numbered(number: int | None, total: int | None) -> str | None:
    """ID3's "3/12" form (ID3v2.4 TRCK/TPOS); "3" without a total."""
    if number is None:
        return None
    return f"{number}/{total}" if total else str(number)


def _tag_id3(path: Path, suffix: str, tags: _Tags, version: int) -> None:
    frames = [TIT2(encoding=3, text=[tags.title])]
    if tags.artists:
        frames.append(TPE1(encoding=3, text=tags.artists))
    if tags.album is not None:
        frames.append(TALB(encoding=3, text=[tags.album]))
    if tags.album_artists:
        frames.append(TPE2(encoding=3, text=tags.album_artists))
    if (trck := _numbered(tags.track, tags.track_total)) is not None:
        frames.append(TRCK(encoding=3, text=[trck]))
    if (tpos := _numbered(tags.disc, tags.disc_total)) is not None:
        frames.append(TPOS(encoding=3, text=[tpos]))
    if tags.genres:
        frames.append(TCON(encoding=3, text=tags.genres))
    if tags.date:
        frames.append(TDRC(encoding=3, text=[tags.date]))
    if tags.compilation:
        frames.append(TCMP(encoding=3, text=["1"]))  # iTunes' compilation flag
    if tags.cover:
        mime = _image_mime(tags.cover)
        frames.append(APIC(encoding=3, mime=mime, type=_FRONT_COVER, desc="", data=tags.cover))
    # v23_sep=None: several values stay NUL-separated in ID3v2.3 too (as v2.4 does)
    # instead of being joined with "/", which would glue "AC/DC"-style names.
    if suffix == "wav":
        wave = WAVE(path)
        if wave.tags is None:
            wave.add_tags()
        for frame in frames:
            wave.tags.add(frame)
        wave.save(v2_version=version, v23_sep=None)
    else:
        id3 = ID3()
        for frame in frames:
            id3.add(frame)
        id3.save(path, v2_version=version, v23_sep=None)


def _flac_picture(cover: bytes) -> FlacPicture:
    picture = FlacPicture()
    picture.type = _FRONT_COVER
    picture.mime = _image_mime(cover)
    picture.desc = ""
    picture.data = cover
    with Image.open(io.BytesIO(cover)) as image:
        picture.width, picture.height = image.size
        picture.depth = 24
    return picture


def _tag_vorbis(path: Path, suffix: str, tags: _Tags) -> None:
    """Vorbis comments (https://xiph.org/vorbis/doc/v-comment.html and the
    recommended field names TRACKTOTAL, DISCTOTAL, ALBUMARTIST, COMPILATION)."""
    audio: FLAC | OggVorbis | OggOpus
    if suffix == "flac":
        audio = FLAC(path)
    elif suffix == "opus":
        audio = OggOpus(path)
    else:
        audio = OggVorbis(path)
    if audio.tags is None:
        audio.add_tags()
    comments = audio.tags
    comments.clear()  # libsndfile's own ENCODER and friends
    comments["TITLE"] = [tags.title]
    values = {
        "ARTIST": tags.artists,
        "ALBUM": [tags.album] if tags.album is not None else [],
        "ALBUMARTIST": tags.album_artists,
        "TRACKNUMBER": [str(tags.track)] if tags.track is not None else [],
        "TRACKTOTAL": [str(tags.track_total)] if tags.track_total else [],
        "DISCNUMBER": [str(tags.disc)] if tags.disc is not None else [],
        "DISCTOTAL": [str(tags.disc_total)] if tags.disc_total else [],
        "GENRE": tags.genres,
        "DATE": [tags.date] if tags.date else [],
        "COMPILATION": ["1"] if tags.compilation else [],
    }
    for key, value in values.items():
        if value:
            comments[key] = list(value)
    if tags.cover:
        picture = _flac_picture(tags.cover)
        if isinstance(audio, FLAC):
            audio.clear_pictures()
            audio.add_picture(picture)
        else:
            # The Ogg form of a FLAC PICTURE block (Xiph wiki, VorbisComment,
            # "Cover art"): the block's bytes, base64-encoded.
            encoded = base64.b64encode(picture.write()).decode("ascii")
            comments["METADATA_BLOCK_PICTURE"] = [encoded]
    audio.save()


def _tag_mp4(path: Path, tags: _Tags) -> None:
    """iTunes-style atoms: ©nam ©ART ©alb aART trkn disk ©gen ©day cpil covr."""
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    atoms = audio.tags
    atoms["\xa9nam"] = [tags.title]
    if tags.artists:
        atoms["\xa9ART"] = list(tags.artists)
    if tags.album is not None:
        atoms["\xa9alb"] = [tags.album]
    if tags.album_artists:
        atoms["aART"] = list(tags.album_artists)
    if tags.track is not None:
        atoms["trkn"] = [(tags.track, tags.track_total or 0)]
    if tags.disc is not None:
        atoms["disk"] = [(tags.disc, tags.disc_total or 0)]
    if tags.genres:
        atoms["\xa9gen"] = list(tags.genres)
    if tags.date:
        atoms["\xa9day"] = [tags.date]
    if tags.compilation:
        atoms["cpil"] = True
    if tags.cover:
        kind = (
            MP4Cover.FORMAT_PNG if _image_mime(tags.cover) == "image/png" else MP4Cover.FORMAT_JPEG
        )
        atoms["covr"] = [MP4Cover(tags.cover, imageformat=kind)]
    audio.save()


def cover_image(text: str, *, size: int = 600, seed: int = 0) -> bytes:
    """A `size` x `size` JPEG (bytes): a diagonal two-colour gradient chosen by
    `seed` with `text` written across it (wrapped, centred, with a shadow).
    Uses DejaVu Sans Bold when installed, else Pillow's built-in font."""
    rng = np.random.default_rng(seed)
    hue = float(rng.uniform(0, 1))
    first = np.array(colorsys.hsv_to_rgb(hue, 0.65, 0.95)) * 255
    second = np.array(colorsys.hsv_to_rgb((hue + 0.35) % 1.0, 0.8, 0.35)) * 255
    ramp = np.add.outer(np.arange(size), np.arange(size)) / max(1, 2 * (size - 1))
    pixels = first * (1 - ramp[..., None]) + second * ramp[..., None]
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    font = _font(max(12, size // 11))
    lines = _wrap(draw, text, font, size * 0.85)
    heights = [draw.textbbox((0, 0), line or " ", font=font)[3] for line in lines]
    gap = size // 40
    y = (size - sum(heights) - gap * (len(lines) - 1)) / 2
    for line, height in zip(lines, heights, strict=True):
        width = draw.textlength(line, font=font)
        x = (size - width) / 2
        shadow = max(1, size // 150)
        draw.text((x + shadow, y + shadow), line, font=font, fill=(0, 0, 0))
        draw.text((x, y), line, font=font, fill=(255, 255, 255))
        y += height + gap
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _font(points: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in _FONTS:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, points)
    return ImageFont.load_default(size=points)


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    width: float,
) -> list[str]:
    """`text` in lines no wider than `width` px, breaking at spaces (a single word
    wider than that stays whole), at most 5 lines."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines[:5] or [""]


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m media.synth OUT.ogg --title T --artist A [--album B --track N]`:
    one tagged tune with a cover, for trying an upload or a scan without music
    of your own at hand."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m media.synth", description=main.__doc__)
    parser.add_argument("path", type=Path, help=f"the file to write: .{', .'.join(SUFFIXES)}")
    parser.add_argument("--title", required=True)
    parser.add_argument("--artist", action="append", required=True, help="repeat for several")
    parser.add_argument("--album")
    parser.add_argument("--track", type=int)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    cover = cover_image(f"{args.album or args.title}\n{args.artist[0]}", seed=len(args.title))
    write_song(
        args.path, title=args.title, artists=args.artist, album=args.album, track=args.track,
        seconds=args.seconds, cover=cover, seed=sum(map(ord, args.title)),
    )  # fmt: skip
    print(args.path)


if __name__ == "__main__":
    main()
