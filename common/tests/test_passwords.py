from __future__ import annotations

import pytest
from pydantic import ValidationError

from common.passwords import PasswordHasher
from common.settings import Settings


def test_hash_and_verify(fast_hasher: PasswordHasher) -> None:
    hashed = fast_hasher.hash("correct horse")
    assert hashed.startswith("$bcrypt-sha256$")
    assert "correct horse" not in hashed
    assert fast_hasher.verify("correct horse", hashed)
    assert not fast_hasher.verify("correct horsE", hashed)


def test_no_truncation_at_72_bytes(fast_hasher: PasswordHasher) -> None:
    base = "a" * 72
    hashed = fast_hasher.hash(base + "1")
    assert not fast_hasher.verify(base + "2", hashed)
    assert fast_hasher.verify(base + "1", hashed)


def test_128_multibyte_characters_and_nul_bytes(fast_hasher: PasswordHasher) -> None:
    for password in ["🎵" * 128, "pass\x00word-with-nul", "ﷺ" * 100]:
        assert fast_hasher.verify(password, fast_hasher.hash(password))


def test_unknown_account_and_foreign_hashes_never_verify(fast_hasher: PasswordHasher) -> None:
    assert not fast_hasher.verify("anything", None)
    assert not fast_hasher.verify("anything", "$2b$04$notours")
    assert not fast_hasher.verify("anything", "")


def test_needs_rehash_when_cost_rises() -> None:
    cheap = PasswordHasher(rounds=4).hash("pw")
    assert PasswordHasher(rounds=5).needs_rehash(cheap)
    assert not PasswordHasher(rounds=4).needs_rehash(cheap)


def test_settings_refuse_a_cost_below_12() -> None:
    assert Settings(_env_file=None).bcrypt_rounds >= 12
    with pytest.raises(ValidationError):
        Settings(_env_file=None, bcrypt_rounds=10)
