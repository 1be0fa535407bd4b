"""Walks response bodies for anything that must never leave the server."""

from __future__ import annotations

import re
from typing import Any

# bcrypt hashes, bare or with our $bcrypt-sha256$ prefix.
HASH_PATTERN = re.compile(r"\$2[abxy]?\$\d\d\$|\$bcrypt-sha256\$")
FORBIDDEN_KEYS = re.compile(r"password|hash|secret|private", re.IGNORECASE)
# The one answer that carries a secret, once, by design (API.md, Third-party
# credentials): a new app password for Subsonic apps, at `$.password`.
SHOWN_ONCE = ("POST", "/auth/app-password", 201, "password")


def assert_no_secrets(body: Any, where: str = "$", *, shown_once: str | None = None) -> None:
    """No key that names a password or hash, and no value that looks like a hash.
    `shown_once`: the one top-level key the answer may carry a secret in (see
    SHOWN_ONCE and shown_once_key); its value still must not be a hash."""
    if isinstance(body, dict):
        for key, value in body.items():
            allowed = key == shown_once  # top level only: the recursion passes None
            assert allowed or not FORBIDDEN_KEYS.search(str(key)), (
                f"{where}.{key} in a response body"
            )
            assert_no_secrets(value, f"{where}.{key}")
    elif isinstance(body, list):
        for index, item in enumerate(body):
            assert_no_secrets(item, f"{where}[{index}]")
    elif isinstance(body, str):
        assert not HASH_PATTERN.search(body), f"{where} looks like a password hash"


def shown_once_key(method: str, url: str, status: int) -> str | None:
    """The key SHOWN_ONCE allows in this answer, if it is that answer."""
    shown_method, path, shown_status, key = SHOWN_ONCE
    same_path = url.split("?", 1)[0].endswith(path)
    return key if (method.upper(), status) == (shown_method, shown_status) and same_path else None
