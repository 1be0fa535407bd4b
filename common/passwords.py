"""Password hashing: bcrypt over a SHA-256 pre-hash, so every byte of a long password counts.

bcrypt reads at most 72 bytes; hashing the password first (as passlib's
bcrypt_sha256 does) keeps 128-character and multi-byte passwords whole.

Passwords are NFC-normalised before hashing and verifying (API.md, Text): "é"
typed as one code point or as "e" plus a combining accent (macOS keyboards) is
the same password. Hashes made before that rule verify through the raw form, and
`verify_and_update` hands back a new hash so the login that proves the password
moves the account onto the rule.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from functools import cached_property

import bcrypt

# A use case on the event loop (PostgreSQL) sends each ~0.2 s bcrypt round to a
# worker thread; elsewhere it already runs in one.
from database.engine import off_event_loop

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
        normalised = unicodedata.normalize("NFC", password)
        hashed = off_event_loop(bcrypt.hashpw, _prehash(normalised), bcrypt.gensalt(self.rounds))
        return PREFIX + hashed.decode("ascii")

    def verify(self, password: str, password_hash: str | None) -> bool:
        """Constant-time check; `None` (no such account) still spends a full bcrypt round."""
        return self.verify_and_update(password, password_hash)[0]

    def verify_and_update(
        self, password: str, password_hash: str | None
    ) -> tuple[bool, str | None]:
        """(valid, new hash or None). A new hash comes back when the password was
        right but its hash predates NFC normalisation or the configured rounds."""
        normalised = unicodedata.normalize("NFC", password)
        if self._matches(normalised, password_hash):
            needs_rehash = self.needs_rehash(password_hash)  # type: ignore[arg-type]
            return True, self.hash(password) if needs_rehash else None
        # A hash made from a non-NFC password before the rule: the raw form. Only
        # such input pays the second round, the unknown-account path included.
        if normalised != password and self._matches(password, password_hash):
            return True, self.hash(password)
        return False, None

    def _matches(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None or not password_hash.startswith(PREFIX):
            dummy = self._dummy_hash[len(PREFIX) :].encode("ascii")
            off_event_loop(bcrypt.checkpw, _prehash(password), dummy)
            return False
        expected = password_hash[len(PREFIX) :].encode("ascii")
        candidate = off_event_loop(bcrypt.hashpw, _prehash(password), expected)
        return hmac.compare_digest(candidate, expected)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return int(password_hash[len(PREFIX) :].split("$")[2]) < self.rounds
        except (IndexError, ValueError):
            return True
