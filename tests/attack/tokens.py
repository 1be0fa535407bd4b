"""Forged, broken and misused tokens: each a way an attacker might try to pass as
someone, and each must be refused with 401 and a Bearer challenge."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

Mint = Callable[..., str]
Attack = Callable[[], dict[str, str]]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def attacks(mint: Mint, key_dir: Path, user_id: int, refresh_token: str) -> dict[str, Attack]:
    """Each attack builds the headers of one request by `user_id` (a plain user)."""
    now = int(time.time())
    public_pem = (key_dir / "jwt_public.pem").read_bytes()
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    def tampered() -> dict[str, str]:
        header, _, signature = mint(user_id).split(".")
        payload = _b64({**_claims(mint(user_id)), "role": "admin"})
        return _bearer(f"{header}.{payload}.{signature}")

    def alg_none() -> dict[str, str]:
        payload = _b64({**_claims(mint(user_id)), "role": "admin"})
        return _bearer(f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.")

    def key_confusion() -> dict[str, str]:
        signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(_claims(mint(user_id)))}"
        digest = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        return _bearer(f"{signing_input}.{signature}")

    def foreign_key(kid: str | None) -> dict[str, str]:
        claims = _claims(mint(user_id))
        headers = {"kid": kid} if kid else {}
        return _bearer(jwt.encode(claims, foreign, algorithm="RS256", headers=headers))

    our_kid = jwt.get_unverified_header(mint(user_id))["kid"]
    return {
        "no token": lambda: {},
        "wrong scheme": lambda: {"Authorization": f"Basic {mint(user_id)}"},
        "scheme only": lambda: {"Authorization": "Bearer"},
        "garbage": lambda: _bearer("not.a.token"),
        "truncated": lambda: _bearer(mint(user_id)[:-12]),
        "tampered payload (role admin, old signature)": tampered,
        "alg none": alg_none,
        "HS256 signed with the RS256 public key": key_confusion,
        "expired": lambda: _bearer(mint(user_id, exp=now - 120, iat=now - 1000)),
        "not yet valid (nbf)": lambda: _bearer(mint(user_id, nbf=now + 3600)),
        "issued in the future (iat)": lambda: _bearer(mint(user_id, iat=now + 3600)),
        "wrong issuer": lambda: _bearer(mint(user_id, iss="evil-auth")),
        "wrong audience": lambda: _bearer(mint(user_id, aud="other-product")),
        "refresh token as access token": lambda: _bearer(refresh_token),
        "JWT of type refresh": lambda: _bearer(mint(user_id, type="refresh")),
        "unknown key id": lambda: _bearer(jwt.encode(
            _claims(mint(user_id)), foreign, algorithm="RS256", headers={"kid": "unknown"})),
        "another key pair, no kid": lambda: foreign_key(None),
        "another key pair, our kid": lambda: foreign_key(our_kid),
        "missing exp": lambda: _bearer(mint(user_id, exp=None)),
        "missing jti": lambda: _bearer(mint(user_id, jti=None)),
    }  # fmt: skip
