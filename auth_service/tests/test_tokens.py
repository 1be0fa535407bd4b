from __future__ import annotations

import shutil
from pathlib import Path

import jwt
import pytest
from pydantic import SecretStr

from auth_service.services.tokens import TokenIssuer
from auth_service.tests.conftest import FakeClock
from common.errors import UnauthorizedError
from common.keys import load_verification_key, public_jwk
from common.settings import Settings
from common.tokens import REQUIRED_CLAIMS, TokenVerifier


def verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        load_verification_key(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def hs256(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"jwt_algorithm": "HS256", "jwt_secret_key": SecretStr("s" * 40)}
    )


def test_rs256_token_verifies_with_the_fleet_verifier(
    issuer: TokenIssuer, settings: Settings
) -> None:
    issued = issuer.issue(42, "admin")
    principal = verifier(settings).verify(issued.token)
    assert (principal.user_id, principal.role, principal.expires_at) == (
        42,
        "admin",
        issued.expires_at,
    )


def test_token_carries_every_required_claim(issuer: TokenIssuer, settings: Settings) -> None:
    issued = issuer.issue(7, "user")
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert set(REQUIRED_CLAIMS) <= set(claims)
    assert claims["sub"] == "7" and claims["type"] == "access"
    assert claims["iss"] == settings.jwt_issuer and claims["aud"] == settings.jwt_audience
    assert claims["exp"] - claims["iat"] == settings.access_token_expire_minutes * 60
    assert issued.expires_in == settings.access_token_expire_minutes * 60
    assert len(claims["jti"]) == 32
    assert (
        claims["jti"]
        != jwt.decode(issuer.issue(7, "user").token, options={"verify_signature": False})["jti"]
    )


def test_header_names_the_published_key(issuer: TokenIssuer, settings: Settings) -> None:
    header = jwt.get_unverified_header(issuer.issue(1, "user").token)
    published = public_jwk(settings.public_key_path.read_bytes())
    assert header == {"alg": "RS256", "typ": "JWT", "kid": published["kid"]}
    assert issuer.jwks == {"keys": [published]}


def test_hs256_token_verifies_and_publishes_no_key(settings: Settings) -> None:
    config = hs256(settings)
    issuer = TokenIssuer.from_settings(config)
    assert verifier(config).verify(issuer.issue(3, "user").token).user_id == 3
    assert jwt.get_unverified_header(issuer.issue(3, "user").token)["alg"] == "HS256"
    assert issuer.jwks == {"keys": []}


def test_expired_token_is_refused(settings: Settings, clock: FakeClock) -> None:
    issuer = TokenIssuer.from_settings(settings, clock)
    clock.advance(minutes=-(settings.access_token_expire_minutes + 1))
    with pytest.raises(UnauthorizedError, match="Token expired"):
        verifier(settings).verify(issuer.issue(1, "user").token)


def test_private_key_is_read_once(settings: Settings, key_dir: Path, tmp_path: Path) -> None:
    private = tmp_path / "private.pem"
    shutil.copy(key_dir / "jwt_private.pem", private)
    issuer = TokenIssuer.from_settings(
        settings.model_copy(update={"jwt_private_key_file": private})
    )
    private.unlink()  # signing must not touch the file again
    assert verifier(settings).verify(issuer.issue(1, "user").token).user_id == 1
