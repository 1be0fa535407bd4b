"""Signing keys: RS256 key pair files (generated once when absent) or an HS256 secret.

Key files are written atomically (a temporary file beside the target, flushed to
disk, given its mode, then renamed into place): a full disk or a crash leaves the
old file or none, never a half-written one that every later start trips over.
The private key is 0600 in a 0700 folder whatever the umask (database.files).

Rotation (`python -m common.keys rotate`, README "Key rotation"): the current
public key is kept as the previous one and a new pair replaces the current one.
auth_service publishes both in its JWKS; every verifier picks the key by the
token's `kid` and reads the key files again when a `kid` it does not know arrives
(common.tokens), so tokens signed by either key verify everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from common.settings import Settings, get_settings
from common.startup import StartupError, run_step
from database.diagnose import describe
from database.files import PRIVATE_FILE, private_folder, tighten_file, tighten_folder

PUBLIC_FILE = 0o644
_CHECK_MESSAGE = b"musicplayer key pair check"


class KeyFileError(StartupError):
    """A key file that cannot be used; the message says which and what to do."""


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


def write_atomic(path: Path, data: bytes, mode: int, *, replace: bool = True) -> bool:
    """`path` holds `data` with `mode`, or is untouched: never partly written.
    With replace=False an existing `path` wins and False is returned."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)  # exactly `mode`, whatever the umask
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if `path` exists: the first writer wins
            except FileExistsError:
                return False
        _sync_folder(path.parent)
        return True
    finally:
        temporary.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError:  # some filesystems cannot sync a folder; the rename stands anyway
        pass
    finally:
        os.close(descriptor)


def _public_pem(private: rsa.RSAPrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _private_pem(private: rsa.RSAPrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The RSA private key in `path`; KeyFileError (one line) when it is not one."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(
            f"{path} is not a PEM RSA private key ({exc}): restore it from a backup, or "
            f"delete it and run `python -m common.keys` for a new pair (every token "
            f"issued so far stops working)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"{path} is not an RSA key: RS256 needs one")
    return key


def ensure_key_pair(private_path: Path, public_path: Path) -> bool:
    """Create the RS256 key pair if the private key is missing; True when one was
    made. A private key with no public one gets it derived; an empty private key
    file (left by a full disk before writes were atomic) signed nothing and is
    replaced."""
    private_folder(private_path.parent)
    private_folder(public_path.parent)
    if private_path.exists() and private_path.stat().st_size > 0:
        tighten_file(private_path)
        if not public_path.exists():
            write_atomic(public_path, _public_pem(load_private_key(private_path)), PUBLIC_FILE)
        return False
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    empty = private_path.exists()  # zero bytes: replace it
    if not write_atomic(private_path, _private_pem(private), PRIVATE_FILE, replace=empty):
        return False  # another process made the pair meanwhile; its key is used
    write_atomic(public_path, _public_pem(private), PUBLIC_FILE)
    return True


def check_key_pair(private_path: Path, public_path: Path) -> None:
    """Sign and verify once: KeyFileError (one line) unless the public key is the
    private key's own, which would otherwise refuse every token it signed."""
    private = load_private_key(private_path)
    try:
        public = serialization.load_pem_public_key(public_path.read_bytes())
    except FileNotFoundError:
        raise KeyFileError(
            f"{public_path} is missing: run `python -m common.keys` to derive it from "
            f"{private_path}"
        ) from None
    except ValueError as exc:
        raise KeyFileError(
            f"{public_path} is not a PEM public key ({exc}): delete it and run "
            f"`python -m common.keys` to derive it from {private_path}"
        ) from None
    signature = private.sign(_CHECK_MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    try:
        if not isinstance(public, rsa.RSAPublicKey):
            raise InvalidSignature
        public.verify(signature, _CHECK_MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise KeyFileError(
            f"{public_path} does not match {private_path}: every token would be refused; "
            f"delete the public key and run `python -m common.keys` to derive it again "
            f"(or set JWT_PUBLIC_KEY_FILE / JWT_PRIVATE_KEY_FILE to a matching pair)"
        ) from None


def rotate_key_pair(private_path: Path, public_path: Path, previous_path: Path) -> str:
    """A new pair in place of the current one, whose public key becomes the previous
    one (tokens it signed keep verifying until they expire). The new `kid`."""
    ensure_key_pair(private_path, public_path)
    check_key_pair(private_path, public_path)
    private_folder(previous_path.parent)
    write_atomic(previous_path, public_path.read_bytes(), PUBLIC_FILE)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_atomic(private_path, _private_pem(private), PRIVATE_FILE)
    public = _public_pem(private)
    write_atomic(public_path, public, PUBLIC_FILE)
    return public_jwk(public)["kid"]


def ensure_hmac_key(path: Path) -> bool:
    """Create an HMAC key file (the stream-URL key, the credentials secret: 32
    random bytes as hex, 0600, in a 0700 folder) when it is missing or empty; True
    when one was made. Racing processes keep the first key written (every replica
    must use the same one)."""
    try:
        size: int | None = path.stat().st_size
    except FileNotFoundError:
        size = None
    if size:
        tighten_file(path)
        return False
    private_folder(path.parent)
    data = secrets.token_hex(32).encode() + b"\n"
    # One stat decides: a file that appears meanwhile (another replica) wins the link.
    return write_atomic(path, data, PRIVATE_FILE, replace=size == 0)


@dataclass(frozen=True)
class VerificationKey:
    algorithm: str
    key: object  # a parsed RSA public key or the HS256 secret bytes
    kid: str | None


def load_verification_key(settings: Settings) -> VerificationKey:
    """The current key (the one auth_service signs with now)."""
    if settings.jwt_algorithm == "HS256":
        secret = settings.jwt_secret_key.get_secret_value().encode()  # type: ignore[union-attr]
        return VerificationKey("HS256", secret, None)
    return _rsa_key(settings.public_key_path.read_bytes())


def load_verification_keys(settings: Settings) -> dict[str | None, VerificationKey]:
    """Every key a token may be signed with, by `kid`: the current one and, after a
    rotation, the previous one. HS256 has one secret and no `kid` (key None)."""
    current = load_verification_key(settings)
    keys = {current.kid: current}
    if settings.jwt_algorithm == "RS256":
        try:
            previous = _rsa_key(settings.previous_public_key_path.read_bytes())
        except FileNotFoundError:
            return keys
        keys.setdefault(previous.kid, previous)
    return keys


def _rsa_key(pem: bytes) -> VerificationKey:
    return VerificationKey("RS256", serialization.load_pem_public_key(pem), public_jwk(pem)["kid"])


def previous_jwk(settings: Settings) -> dict[str, str] | None:
    """The previous public key as a JWK, when a rotation left one."""
    try:
        return public_jwk(settings.previous_public_key_path.read_bytes())
    except FileNotFoundError:
        return None


def _ensure_key_file(label: str, path: Path | None, setting: str) -> None:
    """Write the HMAC key file `path` when missing (ensure_hmac_key) and say so; a
    folder that cannot be written is one line naming `<setting>_KEY_FILE` and
    `<setting>_SECRET`, the two ways around it."""
    if path is None:  # Settings always derives one from DATA_DIR
        raise RuntimeError(f"{setting}_KEY_FILE is not set")

    def _describe(exc: BaseException) -> str | None:
        if isinstance(exc, OSError):
            return (
                f"cannot write the {label} {path} ({exc.strerror or exc}): make that "
                f"folder writable, or set {setting}_KEY_FILE elsewhere or {setting}_SECRET"
            )
        return describe(exc, None)

    made = run_step(lambda: ensure_hmac_key(path), _describe)
    print(f"{label} {'created' if made else 'present'}: {path}")


def main(argv: list[str] | None = None) -> None:
    """`python -m common.keys [rotate]`: create (or check) the RS256 key pair, the
    stream-URL key and the credentials key before the fleet starts; `rotate`
    replaces the pair, keeping the old public key as previous."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["rotate"]):
        print("usage: python -m common.keys [rotate]", file=sys.stderr)
        raise SystemExit(2)
    settings = run_step(get_settings, describe)
    tighten_folder(settings.data_dir)
    if args == []:
        if settings.stream_url_secret is None:
            _ensure_key_file("stream URL key", settings.stream_url_key_file, "STREAM_URL")
        if settings.credentials_secret is None:
            _ensure_key_file("credentials key", settings.credentials_key_file, "CREDENTIALS")
    if settings.jwt_algorithm != "RS256":
        print("JWT_ALGORITHM is HS256: no key pair needed")
        return
    private, public = settings.private_key_path, settings.public_key_path

    def _describe(exc: BaseException) -> str | None:
        if isinstance(exc, OSError):  # a folder not writable, a full disk
            return (
                f"cannot write the signing keys in {private.parent} "
                f"({exc.strerror or exc}): make that folder writable for this user, free "
                f"some disk space, or set JWT_PRIVATE_KEY_FILE / JWT_PUBLIC_KEY_FILE elsewhere"
            )
        return describe(exc, None)

    if args == ["rotate"]:
        kid = run_step(
            lambda: rotate_key_pair(private, public, settings.previous_public_key_path),
            _describe,
        )
        print(
            f"RS256 key pair rotated: new kid {kid}; the old public key is now "
            f"{settings.previous_public_key_path}. Restart auth_service to sign with the new key."
        )
        return
    made = run_step(lambda: ensure_key_pair(private, public), _describe)
    run_step(lambda: check_key_pair(private, public), _describe)
    state = "created" if made else "present"
    print(f"RS256 key pair {state}: {private}, {public}")


if __name__ == "__main__":
    main()
