"""media.storage: paths never leave their root, spooled uploads are hashed and
capped and leave nothing behind, placed files never overwrite one another."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from common.settings import Settings
from media import storage


@pytest.fixture
def roots(tmp_path: Path) -> Settings:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    for folder in (settings.media_dir, settings.library_dir):
        assert folder is not None
        folder.mkdir(parents=True)
    return settings


@pytest.mark.parametrize("relative", ["", "../x", "/etc/passwd", "a/../../x", "a\x00b"])
def test_a_path_cannot_leave_its_root(roots: Settings, relative: str) -> None:
    with pytest.raises(storage.UnsafePathError):
        storage.resolve("library", relative, roots)


def test_a_symlink_out_of_the_root_is_refused(roots: Settings, tmp_path: Path) -> None:
    assert roots.library_dir is not None
    (roots.library_dir / "out").symlink_to(tmp_path)
    with pytest.raises(storage.UnsafePathError):
        storage.resolve("library", "out/x.ogg", roots)
    assert storage.resolve("library", "A/b.ogg", roots) == roots.library_dir.resolve() / "A/b.ogg"


def test_place_never_overwrites(roots: Settings, tmp_path: Path) -> None:
    placed = []
    for content in (b"one", b"two"):
        received = tmp_path / content.decode()
        received.write_bytes(content)
        placed.append(storage.place(received, "A/B/01 - Song.ogg", roots))
        assert received.exists()  # a link: the received file stays for a re-run
    assert [path.name for path in placed] == ["01 - Song.ogg", "01 - Song (2).ogg"]
    assert [path.read_bytes() for path in placed] == [b"one", b"two"]
    assert storage.relative_to("media", placed[1], roots) == "A/B/01 - Song (2).ogg"


def test_stale_incoming_files_are_removed(roots: Settings) -> None:
    assert roots.media_dir is not None
    incoming = roots.media_dir / storage.INCOMING
    incoming.mkdir()
    old, new = incoming / "old", incoming / "new"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    long_ago = time.time() - 7200
    os.utime(old, (long_ago, long_ago))
    assert storage.remove_stale_incoming(3600, roots) == 1
    assert [path.name for path in incoming.iterdir()] == ["new"]


@pytest.mark.parametrize(
    ("text", "safe"),
    [("AC/DC", "AC DC"), ("..hidden", "hidden"), ("a:b*c?", "a b c"), ("  ", "fallback")],
)
def test_safe_component(text: str, safe: str) -> None:
    assert storage.safe_component(text, "fallback") == safe
