"""media.signing: HMAC-signed stream URLs and their key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from pydantic import SecretStr

from common.errors import UnauthorizedError
from common.keys import ensure_hmac_key
from common.settings import Settings
from media import signing
from media.signing import SignedUrlExpiredError, SignedUrlInvalidError

KEY = b"k" * 32


def query(text: str) -> dict[str, str]:
    return dict(parse_qsl(text))


def test_a_signed_query_verifies_for_its_song_user_and_purpose() -> None:
    expires = int(time.time()) + 60
    signed = query(signing.sign(KEY, 5, 9, "stream", expires))
    assert set(signed) == {"uid", "expires", "sig"}
    grant = signing.verify(KEY, 5, "stream", signed)
    assert (grant.song_id, grant.user_id, grant.purpose, grant.expires_at) == (
        5,
        9,
        "stream",
        expires,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"uid": "10"},
        {"uid": "09"},
        {"uid": "-9"},
        {"expires": "99999999999"},
        {"expires": "1e9"},
        {"sig": "A" * 43},
        {"sig": ""},
        {"sig": "é"},
    ],
)
def test_tampering_is_403(change: dict[str, str]) -> None:
    signed = {**query(signing.sign(KEY, 5, 9, "stream", int(time.time()) + 60)), **change}
    with pytest.raises(SignedUrlInvalidError) as caught:
        signing.verify(KEY, 5, "stream", signed)
    assert caught.value.status_code == 403


def test_another_song_purpose_or_key_is_403_and_expiry_401() -> None:
    expires = int(time.time()) + 60
    signed = query(signing.sign(KEY, 5, 9, "stream", expires))
    for song_id, purpose, key in (
        (6, "stream", KEY),
        (5, "download", KEY),
        (5, "stream", b"x" * 32),
    ):
        with pytest.raises(SignedUrlInvalidError):
            signing.verify(key, song_id, purpose, signed)  # type: ignore[arg-type]
    with pytest.raises(SignedUrlExpiredError) as caught:
        signing.verify(KEY, 5, "stream", signed, now=expires)
    assert caught.value.status_code == 401
    assert "expired" in caught.value.detail
    # A forged expiry is a bad signature, not an "expired" one.
    old = query(signing.sign(KEY, 5, 9, "stream", expires - 3600))
    with pytest.raises(SignedUrlInvalidError):
        signing.verify(KEY, 5, "stream", {**old, "expires": str(expires)})
    with pytest.raises(UnauthorizedError):
        signing.verify(KEY, 5, "stream", {"uid": "9", "expires": str(expires)})
    assert not signing.has_signature({"format": "mp3"})
    assert signing.has_signature({"sig": "x"})


def test_key_from_secret_or_a_shared_file(tmp_path: Path) -> None:
    base = Settings(_env_file=None, data_dir=tmp_path)
    with_secret = base.model_copy(update={"stream_url_secret": SecretStr("s" * 32)})
    assert signing.signing_key(with_secret) == b"s" * 32

    path = tmp_path / "keys" / "stream-url.key"
    from_file = base.model_copy(update={"stream_url_key_file": path})
    signing.reset_cache()
    key = signing.signing_key(from_file)  # made on first use when missing
    assert len(key) == 64 and path.read_bytes().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert ensure_hmac_key(path) is False  # never replaced once made
    signing.reset_cache()
    assert signing.signing_key(from_file) == key

    # Replicas racing to make the key all end up with the one written first.
    race = tmp_path / "race" / "stream-url.key"
    made: list[bool] = []
    threads = [
        threading.Thread(target=lambda: made.append(ensure_hmac_key(race))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made.count(True) == 1
    assert len(race.read_bytes().strip()) == 64
    signing.reset_cache()


def test_make_keys_writes_the_stream_url_key(tmp_path: Path) -> None:
    """`python -m common.keys` (run by `make run` and compose's `keys` job) makes the
    key file next to the RS256 pair, once."""
    from tests.e2e.fleet import REPO_ROOT, SETTINGS_VARIABLES

    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(PYTHONPATH=str(REPO_ROOT), DATA_DIR=str(tmp_path / "data"))
    command = [sys.executable, "-m", "common.keys"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    path = tmp_path / "data" / "keys" / "stream-url.key"
    assert f"stream URL key created: {path}" in first.stdout
    key = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "stream URL key present" in second.stdout
    assert path.read_bytes() == key
