from __future__ import annotations

import pytest

from common.passwords import PasswordHasher
from user_service.repos.memory import InMemoryUserRepository
from user_service.schemas import SignUp
from user_service.services.admin import ensure_admin
from user_service.services.users import UserService


def test_creates_the_admin_when_missing(
    user_repo: InMemoryUserRepository, fast_hasher: PasswordHasher
) -> None:
    admin = ensure_admin(
        user_repo, fast_hasher, email="Root@Example.com", password="s3cret-pass", username="Root"
    )
    assert (admin.email, admin.username, admin.role) == ("root@example.com", "root", "admin")
    assert fast_hasher.verify("s3cret-pass", admin.password_hash)


def test_promotes_an_existing_account_and_sets_the_password(
    service: UserService, user_repo: InMemoryUserRepository, fast_hasher: PasswordHasher
) -> None:
    user = service.sign_up(
        SignUp(username="boss", email="boss@example.com", password="old-password", first_name="B")
    )
    admin = ensure_admin(
        user_repo, fast_hasher, email="boss@example.com", password="new-password", username="x"
    )
    assert admin.id == user.id
    assert admin.role == "admin"
    assert fast_hasher.verify("new-password", admin.password_hash)


def test_running_twice_keeps_one_admin(
    user_repo: InMemoryUserRepository, fast_hasher: PasswordHasher
) -> None:
    first = ensure_admin(user_repo, fast_hasher, email="a@x.io", password="p" * 8, username="a")
    second = ensure_admin(user_repo, fast_hasher, email="a@x.io", password="p" * 8, username="a")
    assert first.id == second.id
    assert len(user_repo.list(after_id=None, offset=0, limit=10)) == 1


def test_a_username_held_by_someone_else_is_a_clear_error(
    service: UserService, user_repo: InMemoryUserRepository, fast_hasher: PasswordHasher
) -> None:
    service.sign_up(
        SignUp(username="admin", email="mallory@example.com", password="p" * 8, first_name="M")
    )
    with pytest.raises(ValueError, match="ADMIN_USERNAME"):
        ensure_admin(user_repo, fast_hasher, email="a@x.io", password="p" * 8, username="admin")
