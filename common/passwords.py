"""Password hashing: bcrypt over a SHA-256 pre-hash, so every byte of a long password counts.

bcrypt reads at most 72 bytes; hashing the password first (as passlib's
bcrypt_sha256 does) keeps 128-character and multi-byte passwords whole.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cached_property

import bcrypt

PREFIX = "$bcrypt-sha256$"


def _prehash(password: str) -> bytes:
    digest = hashlib.sha256(password.encode("utf-8")).digest()
    return base64.b64encode(digest)  # 44 bytes, no NUL: safe bcrypt input


class PasswordHasher:
    def __init__(self, rounds: int) -> None:
        self.rounds = rounds

    @cached_property
    def _dummy_hash(self) -> str:
        """Verified against when an account does not exist, so an unknown email
        costs the same time as a wrong password. Made on first use, not at start-up."""
        return self.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        hashed = bcrypt.hashpw(_prehash(password), bcrypt.gensalt(self.rounds))
        return PREFIX + hashed.decode("ascii")

    def verify(self, password: str, password_hash: str | None) -> bool:
        """Constant-time check; `None` (no such account) still spends a full bcrypt round."""
        if password_hash is None or not password_hash.startswith(PREFIX):
            bcrypt.checkpw(_prehash(password), self._dummy_hash[len(PREFIX) :].encode("ascii"))
            return False
        expected = password_hash[len(PREFIX) :].encode("ascii")
        candidate = bcrypt.hashpw(_prehash(password), expected)
        return hmac.compare_digest(candidate, expected)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return int(password_hash[len(PREFIX) :].split("$")[2]) < self.rounds
        except (IndexError, ValueError):
            return True
