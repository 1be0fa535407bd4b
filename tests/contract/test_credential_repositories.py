"""What auth_service's credential repositories (API keys, app passwords, and the
user lookups they need) must do, asserted identically on each backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from auth_service.repos.base import ApiKeyRepository, AppPasswordRepository, NewApiKey
from auth_service.repos.memory import InMemoryAuthUnitOfWork
from auth_service.repos.sql import SqlAuthUnitOfWork
from database.types import utcnow
from tests.contract.conftest import Backend
from tests.contract.test_auth_repositories import auth_repository, credentials, seed_user


def api_keys(backend: Backend) -> ApiKeyRepository:
    return auth_repository(backend, "api_keys")


def app_passwords(backend: Backend) -> AppPasswordRepository:
    return auth_repository(backend, "app_passwords")


def new_key(user_id: int, tag: str, name: str = "phone") -> NewApiKey:
    return NewApiKey(user_id=user_id, name=name, key_hmac=tag.ljust(64, "0"), hint=f"mpk_{tag}"[:8])


def units(backend: Backend) -> Any:
    return backend.units(memory=InMemoryAuthUnitOfWork, sql=SqlAuthUnitOfWork)


# Users by username, and locked


def test_credentials_by_username_is_exact(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = credentials(backend)
    found = repo.get_by_username("alice")
    assert found is not None and (found.id, found.username) == (alice, "alice")
    # Stored lower-cased by user_service; the service lower-cases what it looks up.
    assert repo.get_by_username("Alice") is None
    assert repo.get_by_username("nobody") is None


def test_credentials_for_update_in_a_unit(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    with units(backend)(write=True) as uow:
        locked = uow.credentials.get_for_update(alice)
        assert locked is not None and locked.username == "alice"
        assert uow.credentials.get_for_update(alice + 1000) is None
        uow.commit()


# API keys


def test_api_key_add_list_find(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = api_keys(backend)
    now = utcnow()
    first = repo.add(new_key(alice, "a1", "phone"), now=now)
    second = repo.add(new_key(alice, "a2", "desktop"), now=now)
    repo.add(new_key(bob, "b1"), now=now)
    assert (first.user_id, first.name, first.hint, first.last_used_at) == (
        alice,
        "phone",
        "mpk_a1",
        None,
    )
    assert first.created_at == now
    listed = repo.list_for_user(alice)
    assert [key.id for key in listed] == [first.id, second.id]  # oldest first
    assert listed[0] == first
    assert repo.count_for_user(alice) == 2
    assert repo.count_for_user(bob) == 1
    assert repo.find_by_hmac("a2".ljust(64, "0")) == second
    assert repo.find_by_hmac("zz".ljust(64, "0")) is None


def test_api_key_hmac_is_unique(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = api_keys(backend)
    repo.add(new_key(alice, "same"), now=utcnow())
    with pytest.raises(Exception):  # noqa: B017 - each backend raises its own error
        repo.add(new_key(alice, "same"), now=utcnow())
    assert repo.count_for_user(alice) == 1


def test_api_key_name_keeps_unicode(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = api_keys(backend)
    name = "Téléphone 🎵 " + "ß" * 80
    repo.add(new_key(alice, "u1", name), now=utcnow())
    assert repo.list_for_user(alice)[0].name == name


def test_api_key_delete_only_own(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = api_keys(backend)
    key = repo.add(new_key(alice, "a1"), now=utcnow())
    assert repo.delete(key.id, user_id=bob) is False
    assert repo.find_by_hmac(key.key_hmac) is not None
    assert repo.delete(key.id, user_id=alice) is True
    assert repo.delete(key.id, user_id=alice) is False
    assert repo.find_by_hmac(key.key_hmac) is None
    assert repo.list_for_user(alice) == []


def test_api_key_touch_at_most_once_per_interval(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    repo = api_keys(backend)
    key = repo.add(new_key(alice, "a1"), now=utcnow())
    start = utcnow()
    minute = timedelta(minutes=1)
    assert repo.touch(key.id, now=start, not_since=start - minute) is True
    assert repo.find_by_hmac(key.key_hmac).last_used_at == start
    later = start + timedelta(seconds=30)  # within the minute: not written
    assert repo.touch(key.id, now=later, not_since=later - minute) is False
    assert repo.find_by_hmac(key.key_hmac).last_used_at == start
    after = start + timedelta(seconds=61)
    assert repo.touch(key.id, now=after, not_since=after - minute) is True
    assert repo.find_by_hmac(key.key_hmac).last_used_at == after
    assert repo.touch(key.id + 1000, now=after, not_since=after - minute) is False


def test_api_keys_go_with_their_user(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = api_keys(backend)
    gone = repo.add(new_key(alice, "a1"), now=utcnow())
    kept = repo.add(new_key(bob, "b1"), now=utcnow())
    backend.delete("users", alice)
    assert repo.find_by_hmac(gone.key_hmac) is None
    assert repo.list_for_user(alice) == []
    assert repo.find_by_hmac(kept.key_hmac) == kept


def test_api_key_add_rolls_back_with_its_unit(backend: Backend) -> None:
    alice = seed_user(backend, "alice")
    with units(backend)(write=True) as uow:
        uow.api_keys.add(new_key(alice, "a1"), now=utcnow())
        # no commit: the unit ends rolled back
    assert api_keys(backend).list_for_user(alice) == []


# App passwords


def test_app_password_set_get_replace_delete(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = app_passwords(backend)
    assert repo.get(alice) is None
    now = utcnow()
    stored = repo.set(alice, "cipher-1", now=now)
    assert (stored.user_id, stored.ciphertext, stored.created_at) == (alice, "cipher-1", now)
    assert repo.get(alice) == stored
    later = now + timedelta(minutes=5)
    replaced = repo.set(alice, "cipher-2", now=later)
    assert repo.get(alice) == replaced
    assert replaced.ciphertext == "cipher-2" and replaced.created_at == later
    assert repo.get(bob) is None
    assert repo.delete(bob) is False
    assert repo.delete(alice) is True
    assert repo.get(alice) is None
    assert repo.delete(alice) is False


def test_app_password_goes_with_its_user(backend: Backend) -> None:
    alice, bob = seed_user(backend, "alice"), seed_user(backend, "bob")
    repo = app_passwords(backend)
    repo.set(alice, "cipher-a", now=utcnow())
    repo.set(bob, "cipher-b", now=utcnow())
    backend.delete("users", alice)
    assert repo.get(alice) is None
    assert repo.get(bob) is not None


def test_app_password_replace_in_one_unit(backend: Backend) -> None:
    """Two sets in one unit (the service's replace) leave one row, the last."""
    alice = seed_user(backend, "alice")
    with units(backend)(write=True) as uow:
        uow.app_passwords.set(alice, "first", now=utcnow())
        uow.app_passwords.set(alice, "second", now=utcnow())
        uow.commit()
    stored = app_passwords(backend).get(alice)
    assert stored is not None and stored.ciphertext == "second"
