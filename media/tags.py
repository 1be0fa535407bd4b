"""Read an audio file's tags and stream facts with mutagen, in one shape for every
supported format: MP3 (ID3v2.3 and v2.4), FLAC, Ogg Vorbis, Ogg Opus, M4A (AAC or
ALAC in MP4) and WAV (ID3 in an "id3 " chunk).

The format is decided by content (mutagen's detection plus the file's magic
bytes), never by the file name: a text file named song.mp3 is "not audio".

Rules (issue 15, API.md "Media"):

- Multi-valued tags stay multi-valued: several ARTIST Vorbis comments, an ID3
  TPE1 frame with several (NUL-separated) values, an MP4 list.
- A single artist string is split only on separators with spaces around them:
  " / ", "; ", " feat. ", " ft. ", " featuring " (case-insensitive). So "AC/DC"
  survives. "&" and "," are not separators: "Simon & Garfunkel", "Earth, Wind &
  Fire" and "Crosby, Stills, Nash & Young" are one artist each, and there is no
  way to tell those from a list of two without a database of artists.
- Track and disc numbers read "3", "03" and "3/12" (ID3 TRCK/TPOS) forms, plus
  TRACKTOTAL/TOTALTRACKS and DISCTOTAL/TOTALDISCS comments and MP4 (n, total).
- Album artist "Various Artists", "Various" or "VA" (any case) or a compilation flag
  (ID3 TCMP, MP4 cpil, Vorbis COMPILATION) makes `compilation` true.
- Dates: "2004", "2004-05-06", "2004-05" and ISO timestamps are read; `date` is
  "YYYY-MM-DD" when the file gives a valid day, else "YYYY"; garbage is None.
- Text is NFC, without NULs or control characters, whitespace collapsed, cut to
  the catalogue's column sizes (title, artist and album 100, genre 50, counted
  as database.text.fit counts), at most 20 artists and 10 genres, so a 1 MB tag
  cannot blow up anything downstream.
- A file without title, artist and album tags falls back to its path relative to
  the library root: "Artist/Album/01 - Title.ogg" gives artist, album, track 1
  and title; "CD2" style folders give the disc. A missing title always falls
  back to the file name without its suffix (and without a leading track number).
- Errors: UnsupportedMediaError (HTTP 415) for content that is not audio in a
  supported format; DamagedMediaError (HTTP 422) for an empty, truncated or
  unreadable file, or one whose audio stream has no length. Each carries a
  one-sentence `detail` that names no path.
"""

from __future__ import annotations

import base64
import datetime
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import mutagen
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.flac import Picture as FlacPicture
from mutagen.id3 import ID3, TCON
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggtheora import OggTheora
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from database.text import fit, fold, nfc

__all__ = [
    "AudioTags",
    "DamagedMediaError",
    "MediaError",
    "Picture",
    "UnsupportedMediaError",
    "embedded_picture",
    "read_tags",
    "split_artists",
]

TITLE_LENGTH = 100  # songs.title / albums.title
ARTIST_LENGTH = 100  # artists.name, songs.artist
ALBUM_LENGTH = 100  # albums.title
GENRE_LENGTH = 50  # songs.genre / albums.genre
MAX_ARTISTS = 20
MAX_GENRES = 10
SUPPORTED = "MP3, FLAC, Ogg Vorbis, Opus, M4A (AAC/ALAC) or WAV"


class MediaError(Exception):
    """A file that cannot be read as audio; `detail` is one sentence for the user."""

    status_code = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnsupportedMediaError(MediaError):
    """Not audio, or audio in a format this library does not read (HTTP 415)."""

    status_code = 415


class DamagedMediaError(MediaError):
    """Audio that cannot be used: empty, truncated, unreadable, no length (HTTP 422)."""

    status_code = 422


@dataclass(frozen=True, slots=True)
class Picture:
    """An embedded image: its bytes and MIME type sniffed from them ("image/jpeg")."""

    data: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class AudioTags:
    """What a file says about itself. Text fields are cleaned and cut (see the
    module docstring); lists keep the file's order without duplicates."""

    title: str
    artists: list[str]  # empty when neither tags nor path name one
    album: str | None
    album_artists: list[str]  # empty when the file names none
    track: int | None
    track_total: int | None
    disc: int | None
    disc_total: int | None
    genres: list[str]
    date: str | None  # "YYYY" or "YYYY-MM-DD"
    year: int | None
    duration: float  # seconds, > 0
    bitrate: int | None  # kbps
    sample_rate: int | None  # Hz (48000 for Opus, which always decodes at 48 kHz)
    channels: int | None
    content_type: str  # audio/mpeg, audio/flac, audio/ogg, audio/mp4, audio/wav
    suffix: str  # mp3, flac, ogg, opus, m4a, wav: from the content, not the name
    compilation: bool
    has_picture: bool
    codec: str  # mp3, flac, vorbis, opus, aac, alac, pcm


# (content type, suffix) per mutagen type. Opus in Ogg is audio/ogg (RFC 7845,
# section 9); "audio/flac" and "audio/wav" are what browsers expect to see.
_FORMATS: dict[type, tuple[str, str]] = {
    MP3: ("audio/mpeg", "mp3"),
    FLAC: ("audio/flac", "flac"),
    OggVorbis: ("audio/ogg", "ogg"),
    OggOpus: ("audio/ogg", "opus"),
    MP4: ("audio/mp4", "m4a"),
    WAVE: ("audio/wav", "wav"),
}
_CODECS = {MP3: "mp3", FLAC: "flac", OggVorbis: "vorbis", OggOpus: "opus", WAVE: "pcm"}

_ARTIST_SEPARATORS = re.compile(r"\s+/\s+|\s*;\s+|\s+(?:feat\.|ft\.|featuring)\s+", re.IGNORECASE)
_GENRE_SEPARATORS = re.compile(r"\s+/\s+|\s*;\s*")
_NUMBER = re.compile(r"^\s*(\d{1,6})\s*(?:/\s*(\d{1,6})\s*)?$")
_DATE = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[T ].*)?\s*$")
_TRACK_STEM = re.compile(
    r"^(?:(?P<disc>\d{1,2})-)?(?P<track>\d{1,3})(?P<sep>\s*[-._)]\s*|\s+)(?P<title>.+)$"
)
_DISC_FOLDER = re.compile(r"^(?:cd|disc|disk)\s*[-_ ]?\s*(\d{1,2})$", re.IGNORECASE)
_VARIOUS = frozenset({"various artists", "various", "va"})
_FRONT_COVER = 3  # APIC / FLAC PICTURE type "Cover (front)"


def read_tags(path: Path, relative: str | None = None) -> AudioTags:
    """The tags and stream facts of the audio file at `path`.

    `relative` is the file's POSIX path under its root ("Artist/Album/01 -
    Title.ogg"); its folders are the fallback for an untagged file. Without it
    only the file's own name is used. Raises UnsupportedMediaError (415) or
    DamagedMediaError (422), never another exception for bad content.
    """
    audio, size = _open(path)
    kind = type(audio)
    content_type, suffix = _FORMATS[kind]
    info = audio.info
    duration = float(getattr(info, "length", 0.0) or 0.0)
    if not math.isfinite(duration) or duration <= 0:
        raise DamagedMediaError("The audio stream has no length: the file is damaged or empty.")
    fields = _fields(audio)
    name = PurePosixPath(relative) if relative else PurePosixPath(path.name)
    fallback = _from_path(name)
    untagged = not (fields.title or fields.artists or fields.album)

    artists = fields.artists or (fallback.artists if untagged else [])
    album = fields.album or (fallback.album if untagged else None)
    album_artists = fields.album_artists
    track = fields.track if fields.track is not None else (fallback.track if untagged else None)
    disc = fields.disc if fields.disc is not None else (fallback.disc if untagged else None)
    date_text, year = _date(fields.date)
    various = any(fold(artist) in _VARIOUS for artist in album_artists)
    bitrate = int(getattr(info, "bitrate", 0) or 0)
    if bitrate <= 0:
        bitrate = round(size * 8 / duration)  # Opus: mutagen gives none; the average will do
    sample_rate = 48000 if kind is OggOpus else (int(getattr(info, "sample_rate", 0)) or None)
    channels = int(getattr(info, "channels", 0) or 0) or None
    return AudioTags(
        title=fields.title or fallback.title or _clean(path.stem, TITLE_LENGTH) or "Untitled",
        artists=artists,
        album=album,
        album_artists=album_artists,
        track=track,
        track_total=fields.track_total,
        disc=disc,
        disc_total=fields.disc_total,
        genres=fields.genres,
        date=date_text,
        year=year,
        duration=duration,
        bitrate=max(1, round(bitrate / 1000)),
        sample_rate=sample_rate,
        channels=channels,
        content_type=content_type,
        suffix=suffix,
        compilation=fields.compilation or various,
        has_picture=bool(_pictures(audio)),
        codec=_codec(audio),
    )


def embedded_picture(path: Path) -> Picture | None:
    """The file's embedded front cover, else its first embedded picture, else None.
    Only real images count (JPEG, PNG, GIF, WebP, BMP by their magic bytes); the
    MIME type is sniffed from the bytes, not trusted from the tag. Raises the same
    errors as read_tags."""
    audio, _ = _open(path)
    pictures = _pictures(audio)
    if not pictures:
        return None
    front = [data for kind, data in pictures if kind == _FRONT_COVER]
    data = front[0] if front else pictures[0][1]
    # _pictures keeps recognised images only, so the fallback is never used.
    return Picture(data=data, mime=_image_mime(data) or "application/octet-stream")


def split_artists(values: Iterable[str], limit: int = ARTIST_LENGTH) -> list[str]:
    """Cleaned artist names from tag values: several values stay several; a single
    value is split on " / ", "; ", " feat. ", " ft. ", " featuring " (see the
    module docstring for why not "&" or ","). Duplicates (by folded name) go."""
    cleaned = [v for v in (_clean(value, None) for value in _values(values)) if v]
    if len(cleaned) == 1:
        cleaned = _ARTIST_SEPARATORS.split(cleaned[0])
    return _unique((_clean(value, limit) for value in cleaned), MAX_ARTISTS)


# --- opening -------------------------------------------------------------------


def _open(path: Path) -> tuple[Any, int]:
    """The mutagen object for `path` and the file's size, or a MediaError."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(64)
    except FileNotFoundError:
        raise DamagedMediaError("The file does not exist.") from None
    except IsADirectoryError:
        raise UnsupportedMediaError("This is a folder, not an audio file.") from None
    except OSError:
        raise DamagedMediaError("The file cannot be read.") from None
    if size == 0:
        raise DamagedMediaError("The file is empty (0 bytes).")
    magic = _sniff(head, path)
    audio = _load(path, magic)
    if audio is None:
        if magic is None:
            raise UnsupportedMediaError(
                f"The file is not audio in a supported format ({SUPPORTED})."
            )
        raise DamagedMediaError(
            f"The file looks like {magic} audio but cannot be read: it is truncated or damaged."
        )
    kind = type(audio)
    if kind not in _FORMATS:
        raise UnsupportedMediaError(f"{kind.__name__} audio is not supported; use {SUPPORTED}.")
    if magic is None:
        # mutagen found something frame-like inside other bytes; that is not audio.
        raise UnsupportedMediaError(f"The file is not audio in a supported format ({SUPPORTED}).")
    if kind is MP3 and audio.info.sketchy:
        raise DamagedMediaError(
            "The MP3 stream has too few valid frames: the file is truncated or damaged."
        )
    _check_container(path, kind, size, audio)
    return audio, size


# The mutagen types to try for each family _sniff names: the content picks the
# parser, so a FLAC file named .wav is still read as FLAC. The unsupported Ogg
# codecs are listed so that the error can name them.
_CANDIDATES: dict[str, list[type]] = {
    "MP3": [MP3],
    "MPEG": [MP3],
    "AAC": [AAC],
    "FLAC": [FLAC],
    "Ogg": [OggVorbis, OggOpus, OggFLAC, OggSpeex, OggTheora],
    "WAV": [WAVE],
    "MP4": [MP4],
}


def _load(path: Path, magic: str | None) -> Any:
    """The mutagen object for the family `magic` names, or None when the bytes do
    not parse. Without a known family mutagen guesses, only so that an error can
    name a format this library does not read (AIFF, APE, ...)."""
    try:
        if magic is None:
            return mutagen.File(path, easy=False)
        candidates = _CANDIDATES[magic]
        if len(candidates) == 1:
            return candidates[0](path)
        return mutagen.File(path, options=candidates, easy=False)
    except Exception:  # mutagen raises many types for bad bytes; all mean the same here
        return None


def _sniff(head: bytes, path: Path) -> str | None:
    """The audio family the first bytes announce, or None."""
    if head.startswith(b"ID3"):
        # An ID3v2 tag in front: MP3 usually, FLAC sometimes (some taggers do that).
        end = 10 + sum((byte & 0x7F) << (7 * (3 - i)) for i, byte in enumerate(head[6:10]))
        with path.open("rb") as handle:
            handle.seek(end)
            return "FLAC" if handle.read(4) == b"fLaC" else "MP3"
    if head.startswith(b"fLaC"):
        return "FLAC"
    if head.startswith(b"OggS"):
        return "Ogg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "WAV"
    if head[4:8] == b"ftyp":
        return "MP4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # An MPEG audio frame sync: layer bits 00 mean ADTS AAC (ISO 13818-7), a
        # raw AAC stream this library does not read; else MPEG layer I-III.
        return "AAC" if head[1] & 0x06 == 0 else "MPEG"
    return None


def _check_container(path: Path, kind: type, size: int, audio: Any) -> None:
    """Truncation that mutagen does not notice because it reads headers only: a
    WAV or MP4 whose chunks/atoms claim more bytes than the file has, or a FLAC
    that stops where its audio frames should start."""
    try:
        with path.open("rb") as handle:
            if kind is WAVE:
                _check_riff(handle, size)
            elif kind is MP4:
                _check_atoms(handle, size)
            elif kind is FLAC:
                _check_flac(handle, size)
    except OSError:
        raise DamagedMediaError("The file cannot be read.") from None


def _truncated(name: str) -> DamagedMediaError:
    return DamagedMediaError(f"The {name} file is truncated: it ends before its audio data does.")


def _check_riff(handle: Any, size: int) -> None:
    handle.seek(12)
    offset = 12
    while offset + 8 <= size:
        header = handle.read(8)
        if len(header) < 8:
            break
        length = int.from_bytes(header[4:8], "little")
        if header[:4] == b"data" and offset + 8 + length > size:
            raise _truncated("WAV")
        offset += 8 + length + (length & 1)  # chunks are word-aligned
        handle.seek(offset)


def _check_atoms(handle: Any, size: int) -> None:
    offset = 0
    seen_media = False
    while offset + 8 <= size:
        handle.seek(offset)
        header = handle.read(16)
        length = int.from_bytes(header[:4], "big")
        if length == 1 and len(header) >= 16:
            length = int.from_bytes(header[8:16], "big")  # 64-bit size
        elif length == 0:
            length = size - offset  # "extends to the end of the file"
        if length < 8 or offset + length > size:
            raise _truncated("M4A")
        seen_media = seen_media or header[4:8] == b"mdat"
        offset += length
    if not seen_media:
        raise _truncated("M4A")


def _check_flac(handle: Any, size: int) -> None:
    handle.seek(0)
    head = handle.read(10)
    offset = 0
    if head.startswith(b"ID3"):  # an ID3 tag some taggers put in front of FLAC
        synchsafe = head[6:10]
        offset = 10 + sum((byte & 0x7F) << (7 * (3 - i)) for i, byte in enumerate(synchsafe))
    offset += 4  # "fLaC"
    while True:
        handle.seek(offset)
        header = handle.read(4)
        if len(header) < 4:
            raise _truncated("FLAC")
        offset += 4 + int.from_bytes(header[1:4], "big")
        if header[0] & 0x80:  # the last metadata block
            break
    handle.seek(offset)
    sync = handle.read(2)
    # Every FLAC frame starts with the 14-bit sync code 0b11111111111110.
    if len(sync) < 2 or sync[0] != 0xFF or sync[1] & 0xFE != 0xF8:
        raise _truncated("FLAC")


# --- fields --------------------------------------------------------------------


@dataclass(slots=True)
class _Fields:
    title: str | None = None
    artists: list[str] | None = None
    album: str | None = None
    album_artists: list[str] | None = None
    track: int | None = None
    track_total: int | None = None
    disc: int | None = None
    disc_total: int | None = None
    genres: list[str] | None = None
    date: str | None = None
    compilation: bool = False


def _fields(audio: Any) -> _Fields:
    tags = audio.tags
    if tags is None:
        fields = _Fields()
    elif isinstance(tags, ID3):
        fields = _id3_fields(tags)
    elif isinstance(audio, MP4):
        fields = _mp4_fields(tags)
    else:
        fields = _vorbis_fields(tags)
    fields.artists = fields.artists or []
    fields.album_artists = fields.album_artists or []
    fields.genres = fields.genres or []
    return fields


def _id3_text(tags: ID3, frame_id: str) -> list[str]:
    return [str(value) for frame in tags.getall(frame_id) for value in frame.text]


def _id3_fields(tags: ID3) -> _Fields:
    track, track_total = _number(_first(_id3_text(tags, "TRCK")))
    disc, disc_total = _number(_first(_id3_text(tags, "TPOS")))
    genres: list[str] = []
    for frame in tags.getall("TCON"):
        # TCON.genres resolves ID3v1 references such as "(17)" and "17" to "Rock".
        genres.extend(frame.genres if isinstance(frame, TCON) else frame.text)
    # ID3v2.3 dates (TYER/TDAT) are upgraded to TDRC by mutagen when it loads.
    dates = _id3_text(tags, "TDRC") or _id3_text(tags, "TYER") or _id3_text(tags, "TDOR")
    return _Fields(
        title=_clean(_first(_id3_text(tags, "TIT2")), TITLE_LENGTH),
        artists=split_artists(_id3_text(tags, "TPE1")),
        album=_clean(_first(_id3_text(tags, "TALB")), ALBUM_LENGTH),
        album_artists=split_artists(_id3_text(tags, "TPE2")),
        track=track,
        track_total=track_total,
        disc=disc,
        disc_total=disc_total,
        genres=_genres(genres),
        date=_first(dates),
        compilation=_truthy(_first(_id3_text(tags, "TCMP"))),
    )


def _vorbis_fields(tags: Any) -> _Fields:
    comments: dict[str, list[str]] = {}
    for key, value in tags.items():  # keys are case-insensitive (Vorbis comment spec)
        comments.setdefault(key.upper(), []).extend(value if isinstance(value, list) else [value])

    def values(*keys: str) -> list[str]:
        return next((comments[key] for key in keys if comments.get(key)), [])

    track, track_total = _number(_first(values("TRACKNUMBER")))
    disc, disc_total = _number(_first(values("DISCNUMBER")))
    track_total = _number(_first(values("TRACKTOTAL", "TOTALTRACKS")))[0] or track_total
    disc_total = _number(_first(values("DISCTOTAL", "TOTALDISCS")))[0] or disc_total
    return _Fields(
        title=_clean(_first(values("TITLE")), TITLE_LENGTH),
        artists=split_artists(values("ARTIST")),
        album=_clean(_first(values("ALBUM")), ALBUM_LENGTH),
        album_artists=split_artists(values("ALBUMARTIST", "ALBUM ARTIST", "ALBUM_ARTIST")),
        track=track,
        track_total=track_total,
        disc=disc,
        disc_total=disc_total,
        genres=_genres(values("GENRE")),
        date=_first(values("DATE", "YEAR", "ORIGINALDATE")),
        compilation=_truthy(_first(values("COMPILATION"))),
    )


def _mp4_fields(tags: Any) -> _Fields:
    def text(key: str) -> list[str]:
        return [str(value) for value in tags.get(key, [])]

    def pair(key: str) -> tuple[int | None, int | None]:
        found = tags.get(key)
        if not found:
            return None, None
        number, total = (*tuple(found[0]), 0, 0)[:2]
        return _positive(number), _positive(total)

    genres = text("\xa9gen")
    if not genres:
        # "gnre" holds an ID3v1 genre index plus one.
        for index in tags.get("gnre", []):
            if 1 <= int(index) <= len(TCON.GENRES):
                genres.append(TCON.GENRES[int(index) - 1])
    track, track_total = pair("trkn")
    disc, disc_total = pair("disk")
    return _Fields(
        title=_clean(_first(text("\xa9nam")), TITLE_LENGTH),
        artists=split_artists(text("\xa9ART")),
        album=_clean(_first(text("\xa9alb")), ALBUM_LENGTH),
        album_artists=split_artists(text("aART")),
        track=track,
        track_total=track_total,
        disc=disc,
        disc_total=disc_total,
        genres=_genres(genres),
        date=_first(text("\xa9day")),
        compilation=bool(tags.get("cpil", False)),
    )


def _codec(audio: Any) -> str:
    if isinstance(audio, MP4):
        codec = str(getattr(audio.info, "codec", ""))
        return "alac" if codec == "alac" else "aac" if codec.startswith("mp4a") else codec
    return _CODECS[type(audio)]


# --- pictures ------------------------------------------------------------------


def _pictures(audio: Any) -> list[tuple[int | None, bytes]]:
    """(picture type or None, bytes) of every embedded image, in file order."""
    found: list[tuple[int | None, bytes]] = []
    tags = audio.tags
    if isinstance(audio, FLAC):
        found.extend((picture.type, picture.data) for picture in audio.pictures)
    if isinstance(tags, ID3):
        found.extend((frame.type, frame.data) for frame in tags.getall("APIC"))
    elif isinstance(audio, MP4) and tags is not None:
        found.extend((None, bytes(cover)) for cover in tags.get("covr", []))
    elif tags is not None and not isinstance(tags, ID3):
        for key, values in tags.items():
            if key.upper() == "METADATA_BLOCK_PICTURE":
                found.extend(p for p in map(_block_picture, values) if p is not None)
            elif key.upper() == "COVERART":  # the older, unofficial form: bare base64
                found.extend((None, data) for data in map(_base64, values) if data)
    return [(kind, bytes(data)) for kind, data in found if _image_mime(bytes(data))]


def _base64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value)
    except ValueError:
        return None


def _block_picture(value: str) -> tuple[int | None, bytes] | None:
    """A METADATA_BLOCK_PICTURE value: base64 of a FLAC PICTURE block. A broken
    one is no picture, not a broken file."""
    data = _base64(value)
    if data is None:
        return None
    try:
        picture = FlacPicture(data)
    except Exception:  # mutagen raises several types for a malformed block
        return None
    return picture.type, picture.data


def _image_mime(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM") and len(data) > 26:
        return "image/bmp"
    return None


# --- text and numbers ----------------------------------------------------------


def _values(values: Iterable[str]) -> list[str]:
    """Tag values with NUL-joined values (some taggers' multi-value form) split."""
    return [part for value in values for part in str(value).split("\x00")]


def _first(values: Sequence[str]) -> str | None:
    for value in _values(values):
        if value.strip(" \t\r\n\x00"):
            return value
    return None


def _clean(value: str | None, limit: int | None) -> str | None:
    """NFC text without NULs or control characters, whitespace runs as one space,
    cut to `limit` (database.text.fit); None when nothing is left."""
    if value is None:
        return None
    text = str(value).replace("\x00", "").lstrip()
    # A 1 MB bogus tag costs no more than a short one.
    text = text[: limit * 4] if limit is not None else text[:4096]
    text = "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)
    text = " ".join(nfc(text).split())
    if limit is not None:
        text = fit(text, limit)
    return text or None


def _unique(values: Iterable[str | None], most: int) -> list[str]:
    kept: dict[str, str] = {}
    for value in values:
        if value and fold(value) not in kept:
            kept[fold(value)] = value
            if len(kept) == most:
                break
    return list(kept.values())


def _genres(values: Iterable[str]) -> list[str]:
    parts = [
        part
        for value in _values(values)
        for part in _GENRE_SEPARATORS.split(_clean(value, None) or "")
    ]
    return _unique((_clean(part, GENRE_LENGTH) for part in parts), MAX_GENRES)


def _positive(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 10000 else None


def _number(value: str | None) -> tuple[int | None, int | None]:
    """("3/12" or "03") → (3, 12) or (3, None); anything else → (None, None)."""
    if value is None:
        return None, None
    match = _NUMBER.match(value)
    if not match:
        return None, None
    return _positive(match.group(1)), _positive(match.group(2))


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes")


def _date(value: str | None) -> tuple[str | None, int | None]:
    """("2004-05-06" or "2004", 2004) from the forms the module docstring lists."""
    if value is None:
        return None, None
    match = _DATE.match(value[:64])
    if not match:
        return None, None
    year = int(match.group(1))
    if not 1000 <= year <= 9999:
        return None, None
    if match.group(3):
        try:
            day = datetime.date(year, int(match.group(2)), int(match.group(3)))
        except ValueError:
            return str(year), year
        return day.isoformat(), year
    return str(year), year


# --- path fallback -------------------------------------------------------------


@dataclass(slots=True)
class _Guess:
    title: str | None = None
    artists: list[str] | None = None
    album: str | None = None
    track: int | None = None
    disc: int | None = None


def _from_path(relative: PurePosixPath) -> _Guess:
    """Title, track (and disc) from the file name; album and artist from the two
    folders above it, skipping a "CD1"/"Disc 2" folder (which gives the disc):
    "Artist/Album/CD2/01 - Title.ogg" → Artist, Album, disc 2, track 1, Title."""
    guess = _Guess(artists=[])
    stem = relative.stem
    match = _TRACK_STEM.match(stem)
    if match:
        # "2 Become 1" is a title, not track 2: a bare number needs two digits or
        # punctuation after it to count as a track number.
        separated = bool(match.group("sep").strip()) or len(match.group("track")) >= 2
        if separated:
            guess.track = _positive(match.group("track"))
            guess.disc = _positive(match.group("disc")) if match.group("disc") else None
            stem = match.group("title")
    guess.title = _clean(stem.replace("_", " "), TITLE_LENGTH)
    folders = [part for part in relative.parts[:-1] if part not in ("/", ".", "..")]
    if folders and (disc := _DISC_FOLDER.match(folders[-1])):
        guess.disc = guess.disc or _positive(disc.group(1))
        folders.pop()
    if folders:
        guess.album = _clean(folders[-1], ALBUM_LENGTH)
    if len(folders) >= 2:
        guess.artists = split_artists([folders[-2]])
    return guess
