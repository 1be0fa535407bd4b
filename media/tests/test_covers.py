"""media.covers on real images (made with Pillow) and real audio files (FLAC made
with soundfile, a picture embedded with mutagen): snapping, resizing, the disk
cache, damaged and oversized sources, and the placeholder."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile
from mutagen.flac import FLAC, Picture
from PIL import Image

from common.settings import Settings
from media import covers
from media.covers import (
    AudioArt,
    BadImageError,
    CoverCache,
    etag_matches,
    find_cover,
    is_web_url,
    placeholder,
    resize,
    snap_size,
)


def image_bytes(
    size: tuple[int, int], fmt: str = "JPEG", mode: str = "RGB", colour: object = (200, 30, 40)
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt)  # type: ignore[arg-type]
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def write_flac(path: Path, picture: bytes | None, mime: str = "image/jpeg") -> Path:
    """A real 0.2 s FLAC file, with `picture` as its front cover when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tone = 0.2 * np.sin(np.linspace(0, 2 * np.pi * 440 * 0.2, 8820))
    soundfile.write(path, tone, 44100, format="FLAC")
    if picture is not None:
        audio = FLAC(path)
        art = Picture()
        art.type = 3  # front cover
        art.mime = mime
        art.data = picture
        audio.add_picture(art)
        audio.save()
    return path


@pytest.fixture
def media_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path,
        media_dir=tmp_path / "media",
        library_dir=tmp_path / "library",
        cache_dir=tmp_path / "cache",
        log_level="WARNING",
    )


def cache_files(settings: Settings) -> list[Path]:
    return sorted(path for path in (settings.cache_dir / "covers").rglob("*") if path.is_file())


# Sizes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        (None, 1024),
        (1, 64),
        (64, 64),
        (65, 128),
        (128, 128),
        (200, 256),
        (300, 512),
        (512, 512),
        (513, 1024),
        (1024, 1024),
        (1025, 1024),
        (10**30, 1024),
    ],
)
def test_sizes_snap_up_to_the_next_served_size(asked: int | None, served: int) -> None:
    assert snap_size(asked) == served


@pytest.mark.parametrize("asked", [0, -1])
def test_a_size_below_one_is_refused(asked: int) -> None:
    with pytest.raises(covers.CoverSizeError):
        snap_size(asked)


# Resizing ---------------------------------------------------------------------


def test_a_photo_is_scaled_to_its_longest_side_and_stays_jpeg() -> None:
    content, suffix = resize(image_bytes((2000, 1000)), 512)
    image = opened(content)
    assert (suffix, image.format, image.size) == (".jpg", "JPEG", (512, 256))
    red, green, blue = image.getpixel((256, 128))  # type: ignore[misc]
    assert red > 180 and green < 60 and blue < 60  # the colour survived


def test_a_portrait_keeps_its_aspect_ratio() -> None:
    image = opened(resize(image_bytes((600, 1200), "PNG"), 256)[0])
    assert image.size == (128, 256)


def test_an_image_with_transparency_becomes_png_and_keeps_it() -> None:
    source = image_bytes((800, 800), "PNG", "RGBA", (0, 128, 255, 100))
    content, suffix = resize(source, 128)
    image = opened(content)
    assert (suffix, image.format, image.mode, image.size) == (".png", "PNG", "RGBA", (128, 128))
    assert image.getpixel((64, 64))[3] == 100  # type: ignore[index]


def test_a_palette_gif_with_a_transparent_colour_counts_as_transparent() -> None:
    out = io.BytesIO()
    Image.new("P", (300, 300), 1).save(out, "GIF", transparency=1)
    assert resize(out.getvalue(), 64)[1] == ".png"


def test_a_small_image_is_never_upscaled() -> None:
    image = opened(resize(image_bytes((300, 200), "PNG"), 1024)[0])
    assert image.size == (300, 200)


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees clockwise: display height is the width
    out = io.BytesIO()
    Image.new("RGB", (400, 200), "green").save(out, "JPEG", exif=exif)
    assert opened(resize(out.getvalue(), 1024)[0]).size == (200, 400)


def test_a_cmyk_jpeg_is_served_as_rgb() -> None:
    image = opened(resize(image_bytes((500, 500), "JPEG", "CMYK", (0, 255, 255, 0)), 64)[0])
    assert (image.mode, image.size) == ("RGB", (64, 64))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"this is not an image at all\n" * 10,
        image_bytes((640, 480))[:300],  # truncated JPEG
        image_bytes((640, 480), "PNG")[:60],  # truncated PNG
        b"\x89PNG\r\n\x1a\n" + os.urandom(500),  # a PNG signature over noise
        image_bytes((64, 64), "TIFF"),  # a format cover art does not come in
    ],
    ids=["empty", "text", "truncated-jpeg", "truncated-png", "png-noise", "tiff"],
)
def test_a_damaged_or_unsupported_image_is_a_bad_image(data: bytes) -> None:
    with pytest.raises(BadImageError):
        resize(data, 256)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [5_001, 9_400, 12_000, 14_000])
def test_a_decompression_bomb_is_refused_before_decoding(side: int) -> None:
    # One-bit pixels compress to a few KB and would decode to 25 to 196
    # megapixels: over MAX_SOURCE_PIXELS (9,400 px a side took 2.9 GB in four
    # concurrent sizes under Pillow's own ~89 Mpx limit), over that limit, where
    # Pillow itself only warns, and over twice it, where Pillow raises.
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    assert len(out.getvalue()) < 1_000_000
    with pytest.raises(BadImageError):
        resize(out.getvalue(), 256)


def test_more_bytes_than_the_cap_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = image_bytes((100, 100))
    monkeypatch.setattr(covers, "MAX_SOURCE_BYTES", len(data) - 1)
    with pytest.raises(BadImageError):
        resize(data, 64)


# Sources, cache ---------------------------------------------------------------


def sidecar_art(settings: Settings, image: bytes, name: str = "cover.jpg") -> AudioArt:
    folder = settings.library_dir / "Artist" / "Album"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(image)
    (folder / "01 - Song.flac").write_bytes(b"not read for a sidecar")
    return AudioArt(
        "library", "Artist/Album/01 - Song.flac", "a" * 64, False, f"Artist/Album/{name}"
    )


def test_a_sidecar_image_is_resized_cached_and_served_again_from_the_cache(
    media_settings: Settings,
) -> None:
    art = sidecar_art(media_settings, image_bytes((1500, 1500)))
    first = find_cover(art, 256, media_settings)
    assert first is not None
    assert first.media_type == "image/jpeg"
    assert opened(first.content).size == (256, 256)
    [cached] = cache_files(media_settings)
    assert cached.read_bytes() == first.content and cached.suffix == ".jpg"
    stamp = cached.stat().st_mtime_ns

    again = find_cover(art, 256, media_settings)
    assert again == first
    assert cached.stat().st_mtime_ns == stamp  # read, not rendered again
    other_size = find_cover(art, 64, media_settings)
    assert other_size is not None and other_size.etag != first.etag
    assert opened(other_size.content).size == (64, 64)


def test_a_changed_sidecar_gets_a_new_cache_entry_and_etag(media_settings: Settings) -> None:
    art = sidecar_art(media_settings, image_bytes((400, 400), colour="red"))
    before = find_cover(art, 128, media_settings)
    path = media_settings.library_dir / "Artist/Album/cover.jpg"
    path.write_bytes(image_bytes((400, 400), colour="blue"))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    after = find_cover(art, 128, media_settings)
    assert before is not None and after is not None
    assert before.etag != after.etag
    assert opened(after.content).getpixel((64, 64))[2] > 200  # type: ignore[index]


def test_a_damaged_sidecar_finds_no_cover_and_is_remembered(media_settings: Settings) -> None:
    art = sidecar_art(media_settings, b"\xff\xd8\xff\xe0 broken jpeg")
    assert find_cover(art, 128, media_settings) is None
    [marker] = cache_files(media_settings)
    assert marker.suffix == ".failed"
    assert find_cover(art, 128, media_settings) is None  # not decoded again


def test_a_missing_sidecar_or_a_path_leaving_the_root_is_no_cover(
    media_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "secret.jpg").write_bytes(image_bytes((100, 100)))
    for cover_path in ("Artist/Album/gone.jpg", "../secret.jpg", "/etc/hostname", "a\x00b"):
        art = AudioArt("library", "Artist/Album/x.flac", "b" * 64, False, cover_path)
        assert find_cover(art, 64, media_settings) is None
    art = AudioArt("elsewhere", "x.flac", "b" * 64, False, "cover.jpg")
    assert find_cover(art, 64, media_settings) is None
    assert find_cover(None, 64, media_settings) is None


def test_a_link_out_of_the_root_is_not_followed(media_settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "secret.jpg").write_bytes(image_bytes((100, 100)))
    art = sidecar_art(media_settings, image_bytes((10, 10)))
    link = media_settings.library_dir / "Artist/Album/folder.jpg"
    link.symlink_to(tmp_path / "secret.jpg")
    art = AudioArt("library", art.path, art.checksum, False, "Artist/Album/folder.jpg")
    assert find_cover(art, 64, media_settings) is None


def test_concurrent_renders_of_one_cover_agree_and_leave_no_temporary_files(
    media_settings: Settings,
) -> None:
    art = sidecar_art(media_settings, image_bytes((2000, 2000)))
    results: list[object] = []
    barrier = threading.Barrier(6)

    def render() -> None:
        barrier.wait()
        results.append(find_cover(art, 512, media_settings))

    threads = [threading.Thread(target=render) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6 and len(set(results)) == 1 and results[0] is not None
    [only] = cache_files(media_settings)  # no .tmp- leftovers
    assert not only.name.startswith(".tmp-")


def test_an_unwritable_cache_still_serves_the_image(media_settings: Settings) -> None:
    art = sidecar_art(media_settings, image_bytes((300, 300)))
    media_settings.cache_dir.mkdir(parents=True)
    (media_settings.cache_dir / "covers").write_text("a file where the folder should be")
    cover = find_cover(art, 64, media_settings)
    assert cover is not None and opened(cover.content).size == (64, 64)


def test_cache_entries_of_both_encodings_are_found(tmp_path: Path) -> None:
    cache = CoverCache(tmp_path)
    png = cache.put("ab" * 32, image_bytes((8, 8), "PNG"), ".png")
    assert cache.get("ab" * 32) == png and png.media_type == "image/png"
    assert cache.get("cd" * 32) is None


# Embedded pictures (media.tags reads them) --------------------------------------


def embedded_art(
    settings: Settings, picture: bytes | None, cover_path: str | None = None
) -> AudioArt:
    path = write_flac(settings.media_dir / "Band" / "Record" / "01 Song.flac", picture)
    return AudioArt(
        "media", path.relative_to(settings.media_dir).as_posix(), "c" * 64, True, cover_path
    )


def test_the_embedded_picture_comes_first(media_settings: Settings) -> None:
    art = embedded_art(media_settings, image_bytes((700, 700), colour="blue"))
    sidecar = sidecar_art(media_settings, image_bytes((700, 700), colour="red"))
    both = AudioArt(art.root, art.path, art.checksum, True, None)
    cover = find_cover(both, 128, media_settings)
    assert cover is not None
    assert opened(cover.content).getpixel((64, 64))[2] > 200  # type: ignore[index]
    assert sidecar.cover_path  # the sidecar exists but was not needed


def test_a_damaged_embedded_picture_falls_to_the_image_beside_the_file(
    media_settings: Settings,
) -> None:
    folder = media_settings.media_dir / "Band" / "Record"
    art = embedded_art(media_settings, b"\xff\xd8\xff garbage", cover_path="Band/Record/folder.png")
    (folder / "folder.png").write_bytes(image_bytes((300, 300), "PNG", colour="red"))
    cover = find_cover(art, 128, media_settings)
    assert cover is not None
    assert opened(cover.content).getpixel((64, 64))[0] > 200  # type: ignore[index]


def test_an_audio_file_that_lost_its_picture_is_no_cover(media_settings: Settings) -> None:
    art = embedded_art(media_settings, None)  # the row still says embedded
    assert find_cover(art, 128, media_settings) is None
    gone = AudioArt("media", "Band/Record/missing.flac", "d" * 64, True, None)
    assert find_cover(gone, 128, media_settings) is None


# Placeholder, headers -----------------------------------------------------------


@pytest.mark.parametrize("size", [64, 1024])
def test_the_placeholder_is_a_png_of_the_size(size: int) -> None:
    image = opened(placeholder(size))
    assert (image.format, image.size) == ("PNG", (size, size))


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ('"x","y"', False),
        ("*", True),
        ('"abcd"', False),
    ],
)
def test_if_none_match_compares_weakly(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://cdn.example.com/a.jpg", True),
        ("http://cdn.example.com/a.jpg", True),
        ("HTTPS://cdn.example.com/a.jpg", True),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("//evil.example.com/a.jpg", False),
        ("https:///a.jpg", False),
        ("ftp://example.com/a.jpg", False),
        ("", False),
        (None, False),
    ],
)
def test_only_http_urls_are_redirect_targets(url: str | None, ok: bool) -> None:
    assert is_web_url(url) is ok


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".opus", ".flac", ".wav"])
def test_the_embedded_picture_of_every_format_becomes_the_cover(
    media_settings: Settings, suffix: str
) -> None:
    """Real tagged songs (media.synth): ID3 APIC in MP3 and WAV, METADATA_BLOCK_PICTURE
    in Ogg Vorbis and Opus, a FLAC picture block."""
    from media.synth import write_song

    path = media_settings.media_dir / "Band" / f"song{suffix}"
    path.parent.mkdir(parents=True)
    art = image_bytes((900, 600), "PNG", colour=(10, 220, 30))
    write_song(path, title="t", artists=["Band"], album="A", seconds=0.5, cover=art)
    source = AudioArt("media", f"Band/song{suffix}", suffix.strip(".") * 20, True, None)
    cover = find_cover(source, 256, media_settings)
    assert cover is not None, suffix
    image = opened(cover.content)
    assert (cover.media_type, image.size) == ("image/jpeg", (256, 171))
    red, green, blue = image.getpixel((128, 85))  # type: ignore[misc]
    assert green > 180 and red < 60 and blue < 80
