"""Signing keys that survive a full disk, refuse a mismatched pair at start, stay
private whatever the umask, and rotate without a split fleet."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auth_service.main import _prepare_signing, create_app
from auth_service.services.tokens import TokenIssuer
from common.errors import UnauthorizedError
from common.keys import (
    KeyFileError,
    check_key_pair,
    ensure_key_pair,
    load_verification_keys,
    main,
    rotate_key_pair,
)
from common.settings import Settings
from common.startup import STARTUP_FAILURE
from common.tokens import TokenVerifier


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def key_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose key pair lives in this test's own folder."""
    keys = tmp_path / "data" / "keys"
    return settings.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "jwt_private_key_file": keys / "jwt_private.pem",
            "jwt_public_key_file": keys / "jwt_public.pem",
        }
    )


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask: files and folders get whatever mode the code asks for."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_full_disk_leaves_no_half_written_key(
    key_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = key_settings.private_key_path, key_settings.public_key_path
    real_fdopen = os.fdopen

    def full_disk(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)

        def write(_data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        handle.write = write
        return handle

    monkeypatch.setattr(os, "fdopen", full_disk)
    with pytest.raises(OSError, match="No space left"):
        ensure_key_pair(private, public)
    assert not private.exists() and not public.exists()
    assert list(private.parent.iterdir()) == []  # no temporary file left either
    monkeypatch.undo()
    # The disk has room again: the next start makes the pair and uses it.
    assert ensure_key_pair(private, public) is True
    check_key_pair(private, public)


def test_an_empty_private_key_from_an_older_version_is_replaced(key_settings: Settings) -> None:
    private, public = key_settings.private_key_path, key_settings.public_key_path
    private.parent.mkdir(parents=True)
    private.write_bytes(b"")  # what a full disk left before writes were atomic
    assert ensure_key_pair(private, public) is True
    check_key_pair(private, public)


def test_a_public_key_of_another_pair_is_refused_in_one_line(
    key_settings: Settings, tmp_path: Path
) -> None:
    private, public = key_settings.private_key_path, key_settings.public_key_path
    ensure_key_pair(private, public)
    ensure_key_pair(tmp_path / "other" / "private.pem", tmp_path / "other" / "public.pem")
    public.write_bytes((tmp_path / "other" / "public.pem").read_bytes())
    with pytest.raises(KeyFileError) as refused:
        check_key_pair(private, public)
    assert "does not match" in str(refused.value) and "\n" not in str(refused.value)


def test_auth_service_will_not_start_with_a_mismatched_pair(
    key_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public = key_settings.private_key_path, key_settings.public_key_path
    ensure_key_pair(private, public)
    ensure_key_pair(tmp_path / "other" / "private.pem", tmp_path / "other" / "public.pem")
    public.write_bytes((tmp_path / "other" / "public.pem").read_bytes())
    # Its start-up hook, run as the lifespan runs it (the app logs to stdout).
    app = create_app(key_settings.model_copy(update={"log_level": "INFO"}))
    with pytest.raises(SystemExit) as exited:
        _prepare_signing(app)
    assert exited.value.code == STARTUP_FAILURE
    errors = [line for line in capsys.readouterr().out.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "does not match" in errors[0], errors


def test_key_files_are_private_whatever_the_umask(key_settings: Settings, open_umask: None) -> None:
    private, public = key_settings.private_key_path, key_settings.public_key_path
    ensure_key_pair(private, public)
    assert mode(private) == 0o600
    assert mode(private.parent) == mode(key_settings.data_dir) == 0o700


def test_the_setup_step_tightens_what_an_older_version_left_open(
    key_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    private = key_settings.private_key_path
    ensure_key_pair(private, key_settings.public_key_path)
    os.chmod(key_settings.data_dir, 0o755)  # noqa: S103 - what an older version left
    os.chmod(private, 0o644)
    monkeypatch.setattr("common.keys.get_settings", lambda: key_settings)
    main([])
    assert mode(key_settings.data_dir) == 0o700 and mode(private) == 0o600


def test_rotation_keeps_the_previous_key_verifying(key_settings: Settings) -> None:
    private, public = key_settings.private_key_path, key_settings.public_key_path
    ensure_key_pair(private, public)
    old_issuer = TokenIssuer.from_settings(key_settings)
    old_token = old_issuer.issue(7, "user").token
    old_kid = old_issuer.jwks["keys"][0]["kid"]

    new_kid = rotate_key_pair(private, public, key_settings.previous_public_key_path)
    new_issuer = TokenIssuer.from_settings(key_settings)
    assert [key["kid"] for key in new_issuer.jwks["keys"]] == [new_kid, old_kid]
    verifier = TokenVerifier(
        load_verification_keys(key_settings),
        issuer=key_settings.jwt_issuer,
        audience=key_settings.jwt_audience,
    )
    assert verifier.verify(old_token).user_id == 7
    assert verifier.verify(new_issuer.issue(8, "user").token).user_id == 8


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_verifier_reads_the_keys_again_for_an_unknown_kid_now_and_then(
    key_settings: Settings,
) -> None:
    """A service started before the rotation meets the new key's first token."""
    private, public = key_settings.private_key_path, key_settings.public_key_path
    ensure_key_pair(private, public)
    reads = []

    def reload() -> Any:
        reads.append(1)
        return load_verification_keys(key_settings)

    clock = Clock()
    verifier = TokenVerifier(
        load_verification_keys(key_settings),
        issuer=key_settings.jwt_issuer,
        audience=key_settings.jwt_audience,
        reload=reload,
        monotonic=clock,
    )
    rotate_key_pair(private, public, key_settings.previous_public_key_path)
    token = TokenIssuer.from_settings(key_settings).issue(9, "user").token
    assert verifier.verify(token).user_id == 9
    assert len(reads) == 1
    # Later, a forged kid makes it look again, but not more than once in a while.
    clock.now += 60
    forged = "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUiLCJ0eXAiOiJKV1QifQ.e30.c2ln"
    for _ in range(5):
        with pytest.raises(UnauthorizedError):
            verifier.verify(forged)
    assert len(reads) == 2
    clock.now += 60
    with pytest.raises(UnauthorizedError):
        verifier.verify(forged)
    assert len(reads) == 3
