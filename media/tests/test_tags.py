"""media.tags on real files generated in every format (media.synth), with tags
written by mutagen, and on broken files: exact values, not "something came back"."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import unicodedata
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile
from mutagen.flac import FLAC
from mutagen.flac import Picture as FlacPicture
from mutagen.id3 import APIC, ID3, TCON, TIT2, TPE1, TPOS, TRCK
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from PIL import Image

from media.synth import cover_image, write_song
from media.tags import (
    AudioTags,
    DamagedMediaError,
    MediaError,
    Picture,
    UnsupportedMediaError,
    embedded_picture,
    read_tags,
    split_artists,
)
from media.tests.conftest import ALL_FORMATS, PYTHON_FORMATS, SongFactory, require_ffmpeg

CONTENT = {
    "ogg": ("audio/ogg", "vorbis"),
    "opus": ("audio/ogg", "opus"),
    "flac": ("audio/flac", "flac"),
    "mp3": ("audio/mpeg", "mp3"),
    "wav": ("audio/wav", "pcm"),
    "m4a": ("audio/mp4", "aac"),
}


def _drop_all_tags(path: Path) -> None:
    """Leave the audio and remove every tag, as an untagged rip would be."""
    audio = mutagen.File(path)
    audio.delete()
    if isinstance(audio, FLAC):
        audio.clear_pictures()
        audio.save()


def _ffprobe_duration(path: Path) -> float:
    ffprobe = shutil.which("ffprobe")
    assert ffprobe, "ffprobe comes with ffmpeg"
    out = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(out)["format"]["duration"])


# --- every format, every field -----------------------------------------------------


def test_known_tags_read_back_exactly(suffix: str, make_song: SongFactory, cover: bytes) -> None:
    path = make_song(
        f"in/song.{suffix}",
        title="Déjà Vu",
        artists=["Beyoncé", "Jay-Z"],
        album="B'Day",
        album_artists=["Beyoncé"],
        track=3,
        track_total=12,
        disc=1,
        disc_total=2,
        genres=["R&B", "Pop"],
        date="2006-09-01",
        seconds=3.0,
        cover=cover,
    )
    tags = read_tags(path)
    content_type, codec = CONTENT[suffix]
    expected = AudioTags(
        title="Déjà Vu",
        artists=["Beyoncé", "Jay-Z"],
        album="B'Day",
        album_artists=["Beyoncé"],
        track=3,
        track_total=12,
        disc=1,
        disc_total=2,
        genres=["R&B", "Pop"],
        date="2006-09-01",
        year=2006,
        duration=tags.duration,  # checked below, against an independent reader
        bitrate=tags.bitrate,
        sample_rate={"opus": 48000, "m4a": 44100}.get(suffix, 22050),
        channels=2 if suffix == "m4a" else 1,
        content_type=content_type,
        suffix=suffix,
        compilation=False,
        has_picture=True,
        codec=codec,
    )
    assert tags == expected
    if suffix == "m4a":
        # AAC adds encoder priming frames; ffprobe is the independent reference.
        assert tags.duration == pytest.approx(_ffprobe_duration(path), abs=0.06)
        assert tags.duration == pytest.approx(3.0, abs=0.06)
    else:
        # libsndfile decodes the stream itself: frames / rate, to the sample.
        assert tags.duration == pytest.approx(soundfile.info(str(path)).duration, abs=0.001)
        assert tags.duration == pytest.approx(3.0, abs=0.001)
    if suffix == "wav":
        assert tags.bitrate == 353  # 22050 Hz x 16 bit x 1 channel = 352.8 kbps
    else:
        assert tags.bitrate is not None
        assert 8 <= tags.bitrate <= 320


def test_embedded_cover_is_the_exact_bytes(
    suffix: str, make_song: SongFactory, cover: bytes
) -> None:
    path = make_song(f"c/song.{suffix}", cover=cover)
    picture = embedded_picture(path)
    assert picture == Picture(data=cover, mime="image/jpeg")
    with Image.open(io.BytesIO(picture.data)) as image:
        assert (image.format, image.size) == ("JPEG", (300, 300))


@pytest.mark.parametrize("suffix", ["flac", "mp3", "ogg"])
def test_png_cover_mime_is_sniffed(suffix: str, make_song: SongFactory) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format="PNG")
    png = buffer.getvalue()
    path = make_song(f"png/song.{suffix}", cover=png)
    assert embedded_picture(path) == Picture(data=png, mime="image/png")


def test_no_cover(suffix: str, make_song: SongFactory) -> None:
    path = make_song(f"nc/song.{suffix}")
    assert read_tags(path).has_picture is False
    assert embedded_picture(path) is None


def test_front_cover_preferred_over_earlier_pictures(make_song: SongFactory) -> None:
    back = cover_image("Back", size=64, seed=1)
    front = cover_image("Front", size=64, seed=2)
    mp3 = make_song("f/song.mp3")
    id3 = ID3(mp3)
    id3.add(APIC(encoding=3, mime="image/jpeg", type=4, desc="back", data=back))
    id3.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="front", data=front))
    id3.save()
    assert embedded_picture(mp3) == Picture(data=front, mime="image/jpeg")

    flac_path = make_song("f/song.flac")
    flac = FLAC(flac_path)
    for kind, data in ((0, back), (3, front)):
        picture = FlacPicture()
        picture.type, picture.mime, picture.data = kind, "image/jpeg", data
        flac.add_picture(picture)
    flac.save()
    assert embedded_picture(flac_path) == Picture(data=front, mime="image/jpeg")


def test_a_picture_that_is_not_an_image_does_not_count(make_song: SongFactory) -> None:
    path = make_song("link/song.mp3")
    id3 = ID3(path)
    # ID3v2.4 4.14: MIME "-->" means the data is a URL to the image, not an image.
    id3.add(APIC(encoding=3, mime="-->", type=3, desc="", data=b"http://example.com/a.jpg"))
    id3.save()
    assert read_tags(path).has_picture is False
    assert embedded_picture(path) is None


# --- unicode and ID3 versions ------------------------------------------------------


def test_unicode_survives_every_format(suffix: str, make_song: SongFactory) -> None:
    decomposed = unicodedata.normalize("NFD", "Beyoncé")  # e + combining acute
    path = make_song(
        f"u/song.{suffix}",
        title="日本語のうた",
        artists=["Ансамбль Привет", decomposed, "日本語"],
        album="Привет, мир",
        album_artists=["Ансамбль Привет"],
        genres=["Поп"],
    )
    tags = read_tags(path)
    assert tags.title == "日本語のうた"
    assert tags.artists == ["Ансамбль Привет", "Beyoncé", "日本語"]
    assert tags.artists[1] == unicodedata.normalize("NFC", "Beyoncé")
    assert tags.album == "Привет, мир"
    assert tags.album_artists == ["Ансамбль Привет"]
    assert tags.genres == ["Поп"]


@pytest.mark.parametrize("suffix", ["mp3", "wav"])
@pytest.mark.parametrize("version", [3, 4])
def test_id3_v23_and_v24(suffix: str, version: int, make_song: SongFactory, cover: bytes) -> None:
    path = make_song(
        f"id3v{version}/song.{suffix}",
        title="Ça plane pour moi",
        artists=["Plastic Bertrand", "Ансамбль Привет"],
        album="AN1",
        track=7,
        track_total=11,
        disc=2,
        disc_total=2,
        genres=["Punk", "Pop"],
        date="1977-06-01",
        compilation=True,
        cover=cover,
        id3_version=version,
    )
    id3 = WAVE(path).tags if suffix == "wav" else ID3(path)
    assert id3.version == (2, version, 0)
    tags = read_tags(path)
    assert (tags.title, tags.artists, tags.album) == (
        "Ça plane pour moi",
        ["Plastic Bertrand", "Ансамбль Привет"],
        "AN1",
    )
    assert (tags.track, tags.track_total, tags.disc, tags.disc_total) == (7, 11, 2, 2)
    # v2.3 stores the date as TYER "1977" + TDAT "0106"; mutagen joins them again.
    assert (tags.genres, tags.date, tags.year) == (["Punk", "Pop"], "1977-06-01", 1977)
    assert tags.compilation is True
    assert embedded_picture(path) == Picture(data=cover, mime="image/jpeg")


def test_id3v1_genre_references_are_resolved(make_song: SongFactory) -> None:
    path = make_song("g/song.mp3")
    id3 = ID3(path)
    id3.add(TCON(encoding=3, text=["(17)"]))  # ID3v1 genre 17
    id3.save()
    assert read_tags(path).genres == ["Rock"]


# --- artists -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["AC/DC"], ["AC/DC"]),
        (["Simon & Garfunkel"], ["Simon & Garfunkel"]),
        (["Earth, Wind & Fire"], ["Earth, Wind & Fire"]),
        (["Artist A / Artist B"], ["Artist A", "Artist B"]),
        (["Artist A; Artist B"], ["Artist A", "Artist B"]),
        (["Daft Punk feat. Pharrell Williams"], ["Daft Punk", "Pharrell Williams"]),
        (["Daft Punk Feat. Pharrell Williams"], ["Daft Punk", "Pharrell Williams"]),
        (["Eminem ft. Rihanna"], ["Eminem", "Rihanna"]),
        (["Santana featuring Rob Thomas"], ["Santana", "Rob Thomas"]),
        (["A / B; C feat. D"], ["A", "B", "C", "D"]),
        # Several values are trusted as they are: no splitting inside them.
        (["A / B", "C"], ["A / B", "C"]),
        (["Beyoncé", "BEYONCÉ", " beyonce "], ["Beyoncé"]),  # one artist, folded
        (["  ", "\x00"], []),
        (["A\x00B"], ["A", "B"]),  # NUL-joined values are several values
    ],
)
def test_split_artists(values: list[str], expected: list[str]) -> None:
    assert split_artists(values) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AC/DC", ["AC/DC"]),
        ("Simon & Garfunkel", ["Simon & Garfunkel"]),
        ("Daft Punk feat. Pharrell Williams", ["Daft Punk", "Pharrell Williams"]),
        ("Artist A / Artist B", ["Artist A", "Artist B"]),
    ],
)
def test_single_artist_string_in_a_file(
    raw: str, expected: list[str], make_song: SongFactory
) -> None:
    ogg = make_song("a/song.ogg")
    vorbis = OggVorbis(ogg)
    vorbis["ARTIST"] = [raw]
    vorbis.save()
    mp3 = make_song("a/song.mp3")
    id3 = ID3(mp3)
    id3.add(TPE1(encoding=3, text=[raw]))
    id3.save()
    assert read_tags(ogg).artists == expected
    assert read_tags(mp3).artists == expected


def test_several_artist_comments_stay_several(make_song: SongFactory) -> None:
    path = make_song("m/song.flac", artists=["AC/DC", "Simon & Garfunkel", "Björk"])
    assert FLAC(path)["ARTIST"] == ["AC/DC", "Simon & Garfunkel", "Björk"]
    assert read_tags(path).artists == ["AC/DC", "Simon & Garfunkel", "Björk"]


# --- numbers and dates -------------------------------------------------------------


@pytest.mark.parametrize(
    ("track", "disc", "expected"),
    [
        ("3/12", "1/2", (3, 12, 1, 2)),
        ("03", "1", (3, None, 1, None)),
        (" 7 / 9 ", "2/0", (7, 9, 2, None)),
        ("A1", "side B", (None, None, None, None)),
        ("0", "", (None, None, None, None)),
    ],
)
def test_track_and_disc_forms_vorbis_and_id3(
    track: str, disc: str, expected: tuple[int | None, ...], make_song: SongFactory
) -> None:
    ogg = make_song("n/song.ogg")
    vorbis = OggVorbis(ogg)
    vorbis["TRACKNUMBER"], vorbis["DISCNUMBER"] = [track], [disc]
    vorbis.save()
    tags = read_tags(ogg)
    assert (tags.track, tags.track_total, tags.disc, tags.disc_total) == expected

    mp3 = make_song("n/song.mp3")
    id3 = ID3(mp3)
    id3.add(TRCK(encoding=3, text=[track]))
    id3.add(TPOS(encoding=3, text=[disc]))
    id3.save()
    tags = read_tags(mp3)
    assert (tags.track, tags.track_total, tags.disc, tags.disc_total) == expected


def test_separate_total_comments(make_song: SongFactory) -> None:
    path = make_song("t/song.opus")
    opus = OggOpus(path)
    opus["TRACKNUMBER"], opus["TOTALTRACKS"] = ["4"], ["10"]
    opus["DISCNUMBER"], opus["TOTALDISCS"] = ["1"], ["3"]
    opus.save()
    tags = read_tags(path)
    assert (tags.track, tags.track_total, tags.disc, tags.disc_total) == (4, 10, 1, 3)


def test_m4a_zero_totals_are_none(make_song: SongFactory) -> None:
    path = make_song("z/song.m4a", track=5, disc=1)
    assert MP4(path)["trkn"] == [(5, 0)]
    tags = read_tags(path)
    assert (tags.track, tags.track_total, tags.disc, tags.disc_total) == (5, None, 1, None)


@pytest.mark.parametrize(
    ("raw", "date", "year"),
    [
        ("2004", "2004", 2004),
        ("2004-05-06", "2004-05-06", 2004),
        ("2004-05", "2004", 2004),
        ("2004-02-30", "2004", 2004),  # no such day: keep the year
        ("2004-05-06T10:20:30Z", "2004-05-06", 2004),
        ("sometime in spring", None, None),
        ("jan08", None, None),
        ("0000", None, None),
        ("", None, None),
    ],
)
def test_dates(raw: str, date: str | None, year: int | None, make_song: SongFactory) -> None:
    path = make_song("d/song.ogg")
    vorbis = OggVorbis(path)
    vorbis["DATE"] = [raw]
    vorbis.save()
    tags = read_tags(path)
    assert (tags.date, tags.year) == (date, year)


# --- compilations and genres -------------------------------------------------------


def test_compilation_flag_every_format(suffix: str, make_song: SongFactory) -> None:
    assert read_tags(make_song(f"cf/song.{suffix}", compilation=True)).compilation is True
    assert read_tags(make_song(f"cf/other.{suffix}")).compilation is False


@pytest.mark.parametrize("album_artist", ["Various Artists", "VARIOUS ARTISTS", "Various", "VA"])
def test_various_artists_is_a_compilation(album_artist: str, make_song: SongFactory) -> None:
    path = make_song("va/song.flac", album_artists=[album_artist])
    tags = read_tags(path)
    assert tags.compilation is True
    assert tags.album_artists == [album_artist]


def test_single_genre_string_is_split_on_semicolons(make_song: SongFactory) -> None:
    path = make_song("gs/song.ogg", genres=["Rock; Pop", "rock", "Drum & Bass"])
    assert read_tags(path).genres == ["Rock", "Pop", "Drum & Bass"]


# --- content decides, not the name -------------------------------------------------


@pytest.mark.parametrize(("real", "named"), [("ogg", "mp3"), ("flac", "wav"), ("mp3", "ogg")])
def test_format_comes_from_content(real: str, named: str, make_song: SongFactory) -> None:
    path = make_song(f"x/song.{real}")
    renamed = path.rename(path.with_suffix(f".{named}"))
    tags = read_tags(renamed)
    assert (tags.suffix, tags.content_type) == (real, CONTENT[real][0])


def test_flac_with_an_id3_tag_in_front_is_flac(make_song: SongFactory) -> None:
    path = make_song("id3flac/song.flac", title="Vorbis Title", track=2)
    stray = ID3()
    stray.add(TIT2(encoding=3, text=["ID3 Title"]))
    stray.save(path)  # some taggers put an ID3v2 tag before "fLaC"
    assert path.read_bytes()[:3] == b"ID3"
    tags = read_tags(path)
    assert (tags.suffix, tags.title, tags.track) == ("flac", "Vorbis Title", 2)


# --- path fallback -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "title", "artists", "album", "disc", "track"),
    [
        ("Artist/Album/01 - Title.ogg", "Title", ["Artist"], "Album", None, 1),
        (
            "Music/The Artist/The Album/07 The Song.flac",
            "The Song",
            ["The Artist"],
            "The Album",
            None,
            7,
        ),
        ("Artist/Album/CD2/03 Song.mp3", "Song", ["Artist"], "Album", 2, 3),
        ("Album/1-05 Song Name.wav", "Song Name", [], "Album", 1, 5),
        ("01. Title.ogg", "Title", [], None, None, 1),
        ("Title.ogg", "Title", [], None, None, None),
        ("2 Become 1.ogg", "2 Become 1", [], None, None, None),
        ("/../Album/./10_Song.ogg", "Song", [], "Album", None, 10),
        ("01.ogg", "01", [], None, None, None),
        (
            "Artist A feat. Artist B/Album/3 - Song_Name.opus",
            "Song Name",
            ["Artist A", "Artist B"],
            "Album",
            None,
            3,
        ),
    ],
)
def test_untagged_file_falls_back_to_its_path(
    relative: str,
    title: str,
    artists: list[str],
    album: str | None,
    disc: int | None,
    track: int | None,
    tmp_path: Path,
) -> None:
    path = write_song(tmp_path / relative, title="x", artists=["x"], album="x", seconds=1.0)
    _drop_all_tags(path)
    tags = read_tags(path, relative)
    assert (tags.title, tags.artists, tags.album, tags.disc, tags.track) == (
        title,
        artists,
        album,
        disc,
        track,
    )
    assert tags.duration == pytest.approx(1.0, abs=0.001)


def test_without_relative_only_the_file_name_is_used(tmp_path: Path) -> None:
    path = write_song(
        tmp_path / "Secret Folder" / "04 - Name.ogg",
        title="x",
        artists=["x"],
        album="x",
        seconds=1.0,
    )
    _drop_all_tags(path)
    tags = read_tags(path)
    assert (tags.title, tags.artists, tags.album, tags.track) == ("Name", [], None, 4)


def test_missing_title_falls_back_to_the_stem_and_keeps_other_tags(make_song: SongFactory) -> None:
    path = make_song(
        "Other/Folder/09 - From The Name.ogg", artists=["Tagged Artist"], album="Tagged Album"
    )
    vorbis = OggVorbis(path)
    del vorbis["TITLE"]
    vorbis.save()
    tags = read_tags(path, "Other/Folder/09 - From The Name.ogg")
    # Tagged files keep their tags; only the title comes from the name.
    assert (tags.title, tags.artists, tags.album, tags.track) == (
        "From The Name",
        ["Tagged Artist"],
        "Tagged Album",
        None,
    )


# --- broken files -------------------------------------------------------------------


@pytest.mark.parametrize("name", [f"empty.{s}" for s in ALL_FORMATS])
def test_zero_bytes_is_damaged(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(DamagedMediaError) as caught:
        read_tags(path)
    assert caught.value.detail == "The file is empty (0 bytes)."
    assert caught.value.status_code == 422


def test_truncated_to_a_few_hundred_bytes_is_damaged(
    suffix: str, make_song: SongFactory, cover: bytes
) -> None:
    path = make_song(f"cut/song.{suffix}", cover=cover)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DamagedMediaError) as caught:
        read_tags(path)
    assert "truncated" in caught.value.detail
    assert caught.value.status_code == 422
    with pytest.raises(DamagedMediaError):
        embedded_picture(path)


@pytest.mark.parametrize("suffix", ["wav", "m4a", "flac"])
def test_cut_after_the_headers_is_damaged(suffix: str, make_song: SongFactory) -> None:
    """Formats whose headers state a length: mutagen alone would report the full
    duration of a file whose audio is missing."""
    path = make_song(f"half/song.{suffix}", seconds=4.0)
    data = path.read_bytes()
    if suffix == "flac":
        flac = FLAC(path)
        # Keep every metadata block, drop all audio frames.
        end = _flac_audio_offset(data)
        data = data[:end]
        assert flac.info.length == pytest.approx(4.0)
    else:
        data = data[: len(data) // 2]
    path.write_bytes(data)
    with pytest.raises(DamagedMediaError) as caught:
        read_tags(path)
    assert caught.value.detail.endswith("is truncated: it ends before its audio data does.")


def _flac_audio_offset(data: bytes) -> int:
    offset = 4
    while True:
        last = data[offset] & 0x80
        offset += 4 + int.from_bytes(data[offset + 1 : offset + 4], "big")
        if last:
            return offset


def test_text_file_named_mp3_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("These are my lyrics, not a song.\n" * 40, encoding="utf-8")
    with pytest.raises(UnsupportedMediaError) as caught:
        read_tags(path)
    assert caught.value.status_code == 415
    assert caught.value.detail == (
        "The file is not audio in a supported format "
        "(MP3, FLAC, Ogg Vorbis, Opus, M4A (AAC/ALAC) or WAV)."
    )


def test_an_image_named_ogg_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "cover.ogg"
    path.write_bytes(cover_image("not audio", size=200))
    with pytest.raises(UnsupportedMediaError):
        read_tags(path)


def test_audio_in_an_unsupported_format_says_which(tmp_path: Path) -> None:
    path = tmp_path / "song.aiff"
    soundfile.write(path, np.zeros((22050, 1), dtype=np.float32), 22050, format="AIFF")
    with pytest.raises(UnsupportedMediaError) as caught:
        read_tags(path)
    assert caught.value.detail.startswith("AIFF audio is not supported")


def test_raw_aac_is_named_unsupported(tmp_path: Path) -> None:
    ffmpeg = require_ffmpeg()
    source = write_song(tmp_path / "song.wav", title="T", artists=["A"], album="B", seconds=1.0)
    target = tmp_path / "song.aac"
    arguments = ["-nostdin", "-loglevel", "error", "-i", str(source), "-f", "adts", str(target)]
    subprocess.run([ffmpeg, *arguments], check=True)
    with pytest.raises(UnsupportedMediaError) as caught:
        read_tags(target)
    assert caught.value.detail.startswith("AAC audio is not supported")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DamagedMediaError) as caught:
        read_tags(tmp_path / "gone.ogg")
    assert caught.value.detail == "The file does not exist."
    with pytest.raises(UnsupportedMediaError):
        read_tags(tmp_path)


def test_errors_name_no_path(tmp_path: Path, make_song: SongFactory) -> None:
    text = tmp_path / "secret-name.mp3"
    text.write_text("nope", encoding="utf-8")
    cut = make_song("secret-dir/secret-song.flac")
    cut.write_bytes(cut.read_bytes()[:200])
    for path in (text, cut, tmp_path / "secret-missing.ogg"):
        with pytest.raises(MediaError) as caught:
            read_tags(path)
        assert "secret" not in caught.value.detail
        assert str(tmp_path) not in str(caught.value)


def test_huge_bogus_tags_are_cut(make_song: SongFactory) -> None:
    ogg = make_song("huge/song.ogg", seconds=1.0)
    vorbis = OggVorbis(ogg)
    vorbis["TITLE"] = ["T" * 1_000_000]
    vorbis["ARTIST"] = ["A" * 1_000_000]
    vorbis["ALBUM"] = ["\x00" * 1000 + "B" * 1_000_000]
    vorbis["GENRE"] = ["G" * 1_000_000]
    vorbis.save()
    started = time.perf_counter()
    tags = read_tags(ogg)
    assert time.perf_counter() - started < 2.0
    assert (tags.title, tags.artists, tags.album, tags.genres) == (
        "T" * 100,
        ["A" * 100],
        "B" * 100,
        ["G" * 50],
    )

    mp3 = make_song("huge/song.mp3", seconds=1.0)
    id3 = ID3(mp3)
    id3.add(TIT2(encoding=3, text=["  Hello\x01  World\t\n" + "x" * 1_000_000]))
    id3.add(TPE1(encoding=3, text=[f"Artist {n}" for n in range(5000)]))
    id3.save()
    tags = read_tags(mp3)
    # NUL separates ID3v2.4 values; other control characters become spaces.
    assert tags.title == ("Hello World " + "x" * 100)[:100]
    assert tags.artists == [f"Artist {n}" for n in range(20)]


def test_astral_characters_count_twice_in_the_cut(make_song: SongFactory) -> None:
    """SQL Server's NVARCHAR(100) counts UTF-16 units: an emoji takes two."""
    path = make_song("emoji/song.flac", title="a" * 99 + "\U0001f3b5")
    assert read_tags(path).title == "a" * 99


def test_opus_reports_48_khz(make_song: SongFactory) -> None:
    path = make_song("o/song.opus", sample_rate=22050)
    # libopus takes 24 kHz input for a 22050 Hz request; it always decodes at 48 kHz.
    assert soundfile.info(str(path)).samplerate in (24000, 48000)
    assert read_tags(path).sample_rate == 48000


@pytest.mark.parametrize("suffix", PYTHON_FORMATS)
def test_stereo_and_rates(suffix: str, make_song: SongFactory) -> None:
    path = make_song(
        f"s/song.{suffix}", channels=2, sample_rate=44100 if suffix != "opus" else 48000
    )
    tags = read_tags(path)
    assert tags.channels == 2
    assert tags.sample_rate == (48000 if suffix == "opus" else 44100)
