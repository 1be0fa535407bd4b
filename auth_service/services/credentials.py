"""The cryptography of third-party credentials (API.md, Third-party credentials).

One secret (CREDENTIALS_SECRET, else the key file CREDENTIALS_KEY_FILE written by
`python -m common.keys`) yields two keys through HKDF-SHA256 (RFC 5869) with
distinct labels, so neither key says anything about the other:

- the HMAC key: an API key is stored only as HMAC-SHA256(key) in hex, so a leaked
  table holds nothing a client could present, yet a presented key is found by an
  equality lookup (a bcrypt hash could not be looked up);
- the Fernet key: an app password is stored encrypted (Fernet: AES-128-CBC with
  HMAC-SHA256), because the Subsonic token scheme (`t = md5(password + salt)`,
  Subsonic API 1.13) needs the password itself on the server.

Changing the secret changes both keys: every API key and app password stops
working at once, and their owners make new ones.

Every comparison of something a client sent with something stored is
constant-time (hmac.compare_digest, on bytes: it refuses non-ASCII str).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from common.keys import KeyFileError, ensure_hmac_key
from common.settings import MIN_SECRET_LENGTH, Settings

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "mpk_"
# What a user sees of a stored key: "mpk_" and four characters of its random part
# (24 bits: tells a user's keys apart, says nothing useful about the rest).
HINT_LENGTH = 8
# Lowercase RFC 4648 base32: easy to read out and type on a phone keyboard (no 0/1/8/9,
# which look like O/l/B/g). Four groups of five: 20 x 5 = 100 bits.
APP_PASSWORD_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # noqa: S105 - an alphabet
APP_PASSWORD_GROUPS = 4
APP_PASSWORD_GROUP_LENGTH = 5

_HMAC_LABEL = b"musicplayer credentials v1: api key hmac"
_FERNET_LABEL = b"musicplayer credentials v1: app password encryption"


def _derive(secret: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)


def new_api_key() -> str:
    """A fresh API key: `mpk_` and 43 URL-safe characters (256 random bits)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_hint(key: str) -> str:
    """The part of a key that is stored and listed in clear (its first characters)."""
    return key[:HINT_LENGTH]


def new_app_password() -> str:
    """A fresh app password, e.g. `k3xqa-pz7mn-c2r4t-wbe5h`: 100 random bits that a
    person can type into a phone app."""
    groups = (
        "".join(secrets.choice(APP_PASSWORD_ALPHABET) for _ in range(APP_PASSWORD_GROUP_LENGTH))
        for _ in range(APP_PASSWORD_GROUPS)
    )
    return "-".join(groups)


def subsonic_token(password: str, salt: str) -> str:
    """The Subsonic token for `password` and `salt`: lowercase hex md5(password + salt),
    as the client computes it (Subsonic API 1.13, Authentication). md5 is the
    protocol's choice, not ours; the password it covers is random and single-purpose."""
    return hashlib.md5((password + salt).encode("utf-8"), usedforsecurity=False).hexdigest()


def same_text(expected: str, given: str) -> bool:
    """Constant-time equality of two strings (any Unicode, compared as UTF-8)."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class CredentialKeys:
    """The two keys derived from the credentials secret; built once per process."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the credentials secret needs {MIN_SECRET_LENGTH} bytes or more")
        self._hmac_key = _derive(secret, _HMAC_LABEL)
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, _FERNET_LABEL)))

    @classmethod
    def from_settings(cls, settings: Settings) -> CredentialKeys:
        """CREDENTIALS_SECRET, else the key file (made when missing, as
        `python -m common.keys` would). KeyFileError (one line, no secret in it)
        when the file can be neither read nor made, or is too short."""
        if settings.credentials_secret is not None:
            return cls(settings.credentials_secret.get_secret_value().encode("utf-8"))
        path = settings.credentials_key_file or settings.data_dir / "keys" / "credentials.key"
        return cls(read_key_file(path))

    def key_hmac(self, key: str) -> str:
        """The stored form of an API key: hex HMAC-SHA256 under the HMAC key (64 chars)."""
        return hmac.new(self._hmac_key, key.encode("utf-8"), hashlib.sha256).hexdigest()

    def encrypt(self, password: str) -> str:
        """The stored form of an app password: a Fernet token (ASCII, ~120 chars)."""
        return self._fernet.encrypt(password.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str | None:
        """The app password, or None when the ciphertext was made under another
        secret (rotated) or is damaged: such a password no longer works."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            logger.warning("an app password cannot be decrypted (was the secret changed?)")
            return None


def read_key_file(path: Path) -> bytes:
    """The secret in the credentials key file, made first when missing or empty."""
    try:
        ensure_hmac_key(path)
        secret = path.read_bytes().strip()
    except OSError as exc:  # a folder not writable, a full disk, a read-only mount
        raise KeyFileError(
            f"cannot read or write the credentials key {path} ({exc.strerror or exc}): "
            f"run `python -m common.keys` as a user who may write there, set "
            f"CREDENTIALS_KEY_FILE elsewhere, or set CREDENTIALS_SECRET"
        ) from None
    if len(secret) < MIN_SECRET_LENGTH:
        raise KeyFileError(
            f"{path} holds fewer than {MIN_SECRET_LENGTH} characters: delete it and run "
            f"`python -m common.keys` for a new one (every API key and app password "
            f"stops working), or set CREDENTIALS_SECRET"
        )
    return secret
