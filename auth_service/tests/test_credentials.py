"""The credentials secret, its settings and key file, and the cryptography built
on it (auth_service/services/credentials.py)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from auth_service.services import credentials
from auth_service.services.credentials import CredentialKeys
from common.keys import KeyFileError
from common.settings import Settings

SECRET = b"x" * 32


def test_api_keys_are_prefixed_random_and_hinted() -> None:
    keys = {credentials.new_api_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"mpk_[A-Za-z0-9_-]{43}", key)
        assert credentials.api_key_hint(key) == key[:8]


def test_app_passwords_are_typeable_with_100_bits() -> None:
    passwords = {credentials.new_app_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert re.fullmatch(r"[a-z2-7]{5}(-[a-z2-7]{5}){3}", password)
    assert len(credentials.APP_PASSWORD_ALPHABET) ** 20 == 2**100


def test_hmac_is_keyed_and_stable() -> None:
    keys = CredentialKeys(SECRET)
    digest = keys.key_hmac("mpk_abc")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == CredentialKeys(SECRET).key_hmac("mpk_abc")
    assert digest != keys.key_hmac("mpk_abd")
    assert digest != CredentialKeys(b"y" * 32).key_hmac("mpk_abc")
    # Neither a plain hash of the key nor one under the raw secret.
    import hashlib
    import hmac

    assert digest != hashlib.sha256(b"mpk_abc").hexdigest()
    assert digest != hmac.new(SECRET, b"mpk_abc", hashlib.sha256).hexdigest()


def test_encryption_round_trips_and_fails_closed() -> None:
    keys = CredentialKeys(SECRET)
    ciphertext = keys.encrypt("abcde-fghij-klmno-pqrst")
    assert "abcde" not in ciphertext and len(ciphertext) <= 255
    assert keys.encrypt("abcde-fghij-klmno-pqrst") != ciphertext  # a fresh IV each time
    assert keys.decrypt(ciphertext) == "abcde-fghij-klmno-pqrst"
    assert CredentialKeys(b"y" * 32).decrypt(ciphertext) is None  # another secret
    assert keys.decrypt("not a fernet token") is None
    assert keys.decrypt("é") is None


def test_subsonic_token_and_constant_time_compare() -> None:
    # The example of the Subsonic API documentation (Authentication, 1.13.0).
    assert credentials.subsonic_token("sesame", "c19b2d") == "26719a1196d2a940705a59634eb18eab"
    assert credentials.same_text("abc", "abc")
    assert not credentials.same_text("abc", "abd")
    assert not credentials.same_text("abc", "ábc")  # non-ASCII compares, never raises


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CREDENTIALS_SECRET must be at least 32"):
        Settings(_env_file=None, data_dir=tmp_path, credentials_secret="s" * 31)
    ok = Settings(_env_file=None, data_dir=tmp_path, credentials_secret="s" * 32)
    assert isinstance(ok.credentials_secret, SecretStr)
    with pytest.raises(ValueError):
        CredentialKeys(b"s" * 31)


def test_key_file_defaults_under_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.credentials_key_file == tmp_path / "keys" / "credentials.key"
    elsewhere = Settings(_env_file=None, data_dir=tmp_path, credentials_key_file=tmp_path / "k")
    assert elsewhere.credentials_key_file == tmp_path / "k"


def test_keys_from_the_secret_or_the_file(tmp_path: Path) -> None:
    base = Settings(_env_file=None, data_dir=tmp_path)
    from_file = CredentialKeys.from_settings(base)  # made on first use
    path = tmp_path / "keys" / "credentials.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert CredentialKeys.from_settings(base).key_hmac("k") == from_file.key_hmac("k")
    with_secret = base.model_copy(update={"credentials_secret": SecretStr("z" * 40)})
    assert CredentialKeys.from_settings(with_secret).key_hmac("k") == CredentialKeys(
        b"z" * 40
    ).key_hmac("k")


def test_an_unusable_key_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "credentials.key"
    path.write_text("short\n")
    settings = Settings(_env_file=None, data_dir=tmp_path, credentials_key_file=path)
    with pytest.raises(KeyFileError, match="fewer than 32 characters") as caught:
        CredentialKeys.from_settings(settings)
    assert "short" not in str(caught.value).replace("fewer", "")
    folder = tmp_path / "not-a-folder"
    folder.write_text("")
    blocked = Settings(_env_file=None, data_dir=tmp_path, credentials_key_file=folder / "k")
    with pytest.raises(KeyFileError, match="CREDENTIALS_SECRET"):
        CredentialKeys.from_settings(blocked)


def test_make_keys_writes_the_credentials_key(tmp_path: Path) -> None:
    """`python -m common.keys` (make run, compose's keys job) makes it once."""
    from tests.e2e.fleet import REPO_ROOT, SETTINGS_VARIABLES

    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.pop("CREDENTIALS_SECRET", None)
    env.pop("CREDENTIALS_KEY_FILE", None)
    env.update(PYTHONPATH=str(REPO_ROOT), DATA_DIR=str(tmp_path / "data"))
    command = [sys.executable, "-m", "common.keys"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    path = tmp_path / "data" / "keys" / "credentials.key"
    assert f"credentials key created: {path}" in first.stdout
    key = path.read_bytes()
    assert len(key.strip()) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "credentials key present" in second.stdout
    assert path.read_bytes() == key
    env["CREDENTIALS_SECRET"] = "q" * 32
    path.unlink()
    third = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "credentials key" not in third.stdout and not path.exists()
