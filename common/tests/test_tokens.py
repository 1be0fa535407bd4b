from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common.errors import UnauthorizedError
from common.keys import VerificationKey, load_verification_key
from common.settings import Settings
from common.tokens import SUBSONIC_SCOPE, TokenVerifier


@pytest.fixture
def verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        load_verification_key(settings), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )


def test_a_well_formed_token_verifies(verifier: TokenVerifier, make_token) -> None:
    principal = verifier.verify(make_token(7, "admin"))
    assert (principal.user_id, principal.role, principal.is_admin) == (7, "admin", True)


def test_a_subsonic_scope_is_carried_and_any_other_refused(
    verifier: TokenVerifier, make_token
) -> None:
    assert verifier.verify(make_token(7)).scope is None
    assert verifier.verify(make_token(7, scope=SUBSONIC_SCOPE)).scope == SUBSONIC_SCOPE
    with pytest.raises(UnauthorizedError):
        verifier.verify(make_token(7, scope="everything"))


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "jti", "iss", "aud", "type", "role"])
def test_every_claim_is_required(verifier: TokenVerifier, make_token, claim: str) -> None:
    with pytest.raises(UnauthorizedError):
        verifier.verify(make_token(**{claim: None}))


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 60},
        {"iat": int(time.time()) + 3600},
        {"nbf": int(time.time()) + 3600},
        {"iss": "someone-else"},
        {"aud": "another-product"},
        {"type": "refresh"},
        {"role": "superuser"},
        {"sub": "not-a-number"},
        {"sub": "0"},
        {"sub": str(2**64)},
    ],
)
def test_bad_claims_are_refused(verifier: TokenVerifier, make_token, overrides: dict) -> None:
    with pytest.raises(UnauthorizedError):
        verifier.verify(make_token(**overrides))


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_payload_with_the_old_signature_is_refused(
    verifier: TokenVerifier, make_token
) -> None:
    header, payload, signature = _segments(make_token(5, "user"))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = ".".join([header, _b64({**claims, "role": "admin"}), signature])
    with pytest.raises(UnauthorizedError):
        verifier.verify(forged)


def test_alg_none_is_refused(verifier: TokenVerifier, make_token) -> None:
    _, payload, _ = _segments(make_token(5, "admin"))
    with pytest.raises(UnauthorizedError):
        verifier.verify(".".join([_b64({"alg": "none", "typ": "JWT"}), payload, ""]))


def test_hs256_signed_with_the_public_key_is_refused(
    verifier: TokenVerifier, make_token, key_dir: Path
) -> None:
    """Key confusion: the public key used as an HMAC secret."""
    _, payload, _ = _segments(make_token(5, "admin"))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    public_pem = (key_dir / "jwt_public.pem").read_bytes()
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64(header)}.{_b64(claims)}".encode()
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    ).rstrip(b"=")
    with pytest.raises(UnauthorizedError):
        verifier.verify(f"{signing_input.decode()}.{signature.decode()}")


def test_a_token_from_another_key_pair_is_refused(
    verifier: TokenVerifier, settings: Settings
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    now = int(time.time())
    claims = {
        "sub": "1",
        "role": "admin",
        "type": "access",
        "iat": now,
        "exp": now + 60,
        "jti": "x",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    ours = load_verification_key(settings).kid
    for kid in (None, ours):  # unknown kid, and our kid forged on a foreign key
        headers = {"kid": kid} if kid else {}
        with pytest.raises(UnauthorizedError):
            verifier.verify(jwt.encode(claims, pem, algorithm="RS256", headers=headers))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "...", "x" * 5000, "é.é.é"])
def test_garbage_is_refused(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(UnauthorizedError):
        verifier.verify(garbage)


def test_truncated_token_is_refused(verifier: TokenVerifier, make_token) -> None:
    with pytest.raises(UnauthorizedError):
        verifier.verify(make_token()[:-5])


def test_hs256_mode_verifies_only_hs256(make_token) -> None:
    secret = "s" * 64
    key = VerificationKey("HS256", secret.encode(), None)
    verifier = TokenVerifier(key, issuer="musicplayer-auth", audience="musicplayer")
    now = int(time.time())
    claims = {
        "sub": "3",
        "role": "user",
        "type": "access",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
        "iss": "musicplayer-auth",
        "aud": "musicplayer",
    }
    assert verifier.verify(jwt.encode(claims, secret, algorithm="HS256")).user_id == 3
    with pytest.raises(UnauthorizedError):
        verifier.verify(make_token(3))  # RS256 token in an HS256 deployment
    with pytest.raises(UnauthorizedError):
        verifier.verify(jwt.encode(claims, secret, algorithm="HS512"))


def test_a_remembered_token_still_expires(verifier: TokenVerifier, make_token, monkeypatch) -> None:
    token = make_token(3, exp=int(time.time()) + 30)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # remembered, not re-verified
    full_checks = []

    def full_check(token: str, token_type: str) -> None:
        full_checks.append(token)
        raise UnauthorizedError("Token expired")

    monkeypatch.setattr(verifier, "_verify", full_check)
    monkeypatch.setattr(time, "time", lambda: first.expires_at + 60)
    with pytest.raises(UnauthorizedError):
        verifier.verify(token)
    assert full_checks == [token]  # past its expiry the cache no longer answers


def test_the_cache_is_bounded(verifier: TokenVerifier, make_token, monkeypatch) -> None:
    monkeypatch.setattr(TokenVerifier, "CACHE_SIZE", 3)
    tokens = [make_token(i + 1) for i in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier._verified) == 3
    assert all(verifier.verify(t).user_id == i + 1 for i, t in enumerate(tokens))
