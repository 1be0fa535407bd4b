"""Walks response bodies for anything that must never leave the server."""

from __future__ import annotations

import re
from typing import Any

# bcrypt hashes, bare or with our $bcrypt-sha256$ prefix.
HASH_PATTERN = re.compile(r"\$2[abxy]?\$\d\d\$|\$bcrypt-sha256\$")
FORBIDDEN_KEYS = re.compile(r"password|hash|secret|private", re.IGNORECASE)


def assert_no_secrets(body: Any, where: str = "$") -> None:
    """No key that names a password or hash, and no value that looks like a hash."""
    if isinstance(body, dict):
        for key, value in body.items():
            assert not FORBIDDEN_KEYS.search(str(key)), f"{where}.{key} in a response body"
            assert_no_secrets(value, f"{where}.{key}")
    elif isinstance(body, list):
        for index, item in enumerate(body):
            assert_no_secrets(item, f"{where}[{index}]")
    elif isinstance(body, str):
        assert not HASH_PATTERN.search(body), f"{where} looks like a password hash"
