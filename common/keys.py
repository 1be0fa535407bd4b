"""Signing keys: RS256 key pair files (generated once when absent) or an HS256 secret."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common.settings import Settings


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(public_pem: bytes) -> dict[str, str]:
    """The RSA public key as a JWK, with an RFC 7638 thumbprint as its `kid`."""
    key = serialization.load_pem_public_key(public_pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the JWT public key is not an RSA key")
    numbers = key.public_numbers()
    members = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**members, "kid": kid, "use": "sig", "alg": "RS256"}


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ensure_key_pair(private_path: Path, public_path: Path) -> bool:
    """Create the RS256 key pair if the private key is missing; True when one was made."""
    if private_path.exists():
        if not public_path.exists():
            private = serialization.load_pem_private_key(private_path.read_bytes(), None)
            _write_exclusive(public_path, _public_pem(private), 0o644)
        return False
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        _write_exclusive(private_path, pem, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return False
    public_path.unlink(missing_ok=True)
    _write_exclusive(public_path, _public_pem(private), 0o644)
    return True


def _public_pem(private: object) -> bytes:
    return private.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class VerificationKey:
    algorithm: str
    key: object  # a parsed RSA public key or the HS256 secret bytes
    kid: str | None


def load_verification_key(settings: Settings) -> VerificationKey:
    """Parse the key once per process; every request reuses it."""
    if settings.jwt_algorithm == "HS256":
        secret = settings.jwt_secret_key.get_secret_value().encode()  # type: ignore[union-attr]
        return VerificationKey("HS256", secret, None)
    pem = settings.public_key_path.read_bytes()
    return VerificationKey("RS256", serialization.load_pem_public_key(pem), public_jwk(pem)["kid"])


def main() -> None:
    """`python -m common.keys`: create the RS256 key pair before the fleet starts."""
    from common.settings import get_settings

    settings = get_settings()
    if settings.jwt_algorithm != "RS256":
        print("JWT_ALGORITHM is HS256: no key pair needed")
        return
    made = ensure_key_pair(settings.private_key_path, settings.public_key_path)
    state = "created" if made else "present"
    print(f"RS256 key pair {state}: {settings.private_key_path}, {settings.public_key_path}")


if __name__ == "__main__":
    main()
