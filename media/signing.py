"""Signed stream URLs: an `<audio src>` cannot send an Authorization header, so
POST /songs/{id}/stream-url hands out a short-lived URL whose query carries the
caller's grant, signed with HMAC-SHA256 (RFC 2104).

The signature covers a version, the purpose ("stream" or "download": the route
that is being opened), the song id, the user id and the expiry (POSIX seconds),
so a signature for one song, user, route or expiry is worth nothing for another;
changing any query value breaks it. Comparison is constant-time
(hmac.compare_digest). Errors:

- a signature that does not verify (tampered, another song's, another route's, a
  different key): 403 (the URL was never valid for this request);
- a genuine signature past its expiry: 401 with a detail saying it expired, so a
  player knows to ask for a new URL;
- some but not all of the signed parameters: 401.

The key: settings.stream_url_secret when set, else the key file
settings.stream_url_key_file (written by `python -m common.keys`, or here on first
use if absent; every replica reads the same file on the shared keys volume). It is
read once per process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from common.errors import ForbiddenError, ServiceUnavailableError, UnauthorizedError
from common.keys import ensure_hmac_key
from common.settings import Settings

Purpose = Literal["stream", "download"]
PURPOSES: tuple[Purpose, ...] = ("stream", "download")
# The query parameters of a signed URL: user id, expiry (POSIX seconds), signature.
USER_PARAM, EXPIRES_PARAM, SIGNATURE_PARAM = "uid", "expires", "sig"
SIGNED_PARAMS = (USER_PARAM, EXPIRES_PARAM, SIGNATURE_PARAM)
_VERSION = "v1"

_lock = threading.Lock()
_keys: dict[Path, bytes] = {}


class SignedUrlExpiredError(UnauthorizedError):
    detail = "The signed stream URL has expired; ask for a new one (POST /songs/{id}/stream-url)"


class SignedUrlInvalidError(ForbiddenError):
    detail = "The signed stream URL is not valid for this song"


@dataclass(frozen=True, slots=True)
class Grant:
    """What a verified signed URL allows: `user_id` may open `song_id` for
    `purpose` until `expires_at` (POSIX seconds)."""

    song_id: int
    user_id: int
    purpose: Purpose
    expires_at: int


def signing_key(settings: Settings) -> bytes:
    """The HMAC key: STREAM_URL_SECRET, else the key file (made when missing), read
    once per process. 503 when the file can be neither read nor written."""
    if settings.stream_url_secret is not None:
        return settings.stream_url_secret.get_secret_value().encode()
    path = settings.stream_url_key_file
    with _lock:
        key = _keys.get(path)
        if key is None:
            try:
                try:
                    key = path.read_bytes().strip()
                except FileNotFoundError:
                    # `make run` without `python -m common.keys` first; in compose the
                    # keys job made it and this (read-only) mount only reads it.
                    ensure_hmac_key(path)
                    key = path.read_bytes().strip()
            except OSError as exc:
                raise ServiceUnavailableError(
                    f"The stream URL key is not available ({exc.strerror or 'unreadable'})"
                ) from None
            if len(key) < 16:
                raise ServiceUnavailableError("The stream URL key file is too short")
            _keys[path] = key
    return key


def _signature(key: bytes, song_id: int, user_id: int, purpose: str, expires_at: int) -> str:
    message = f"{_VERSION}\n{purpose}\n{song_id}\n{user_id}\n{expires_at}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(key: bytes, song_id: int, user_id: int, purpose: Purpose, expires_at: int) -> str:
    """The query string (without `?`) granting `user_id` `purpose` on `song_id` until
    `expires_at` (POSIX seconds): `uid=..&expires=..&sig=..`."""
    signature = _signature(key, song_id, user_id, purpose, expires_at)
    return urlencode({USER_PARAM: user_id, EXPIRES_PARAM: expires_at, SIGNATURE_PARAM: signature})


def has_signature(query: dict[str, str]) -> bool:
    """Whether a request's query carries any of the signed parameters."""
    return any(name in query for name in SIGNED_PARAMS)


def verify(
    key: bytes, song_id: int, purpose: Purpose, query: dict[str, str], now: float | None = None
) -> Grant:
    """The grant in a signed URL's query for `song_id` and `purpose`.

    Raises UnauthorizedError (401) when parameters are missing,
    SignedUrlInvalidError (403) when the signature does not verify (tampered,
    another song's or route's, malformed), SignedUrlExpiredError (401) when a
    genuine signature has expired."""
    try:
        user_text, expires_text, given = (query[name] for name in SIGNED_PARAMS)
    except KeyError:
        raise UnauthorizedError(
            "Incomplete signed stream URL: uid, expires and sig are all required"
        ) from None
    if not (user_text.isascii() and user_text.isdigit()) or not (
        expires_text.isascii() and expires_text.isdigit()
    ):
        raise SignedUrlInvalidError
    user_id, expires_at = int(user_text), int(expires_text)
    # str() of the parsed numbers: "007" must not verify as "7" was signed.
    if str(user_id) != user_text or str(expires_at) != expires_text:
        raise SignedUrlInvalidError
    expected = _signature(key, song_id, user_id, purpose, expires_at)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise SignedUrlInvalidError
    if (time.time() if now is None else now) >= expires_at:
        raise SignedUrlExpiredError
    return Grant(song_id=song_id, user_id=user_id, purpose=purpose, expires_at=expires_at)


def reset_cache() -> None:
    """Forget the keys read so far (tests, or after replacing the key file)."""
    with _lock:
        _keys.clear()
