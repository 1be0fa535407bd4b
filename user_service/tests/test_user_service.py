from __future__ import annotations

import pytest

from common.errors import ForbiddenError
from common.passwords import PasswordHasher
from common.tokens import Principal
from user_service.repos.base import DuplicateUserError
from user_service.schemas import SignUp, UserUpdate
from user_service.services.users import UserNotFoundError, UserService


def sign_up(service: UserService, name: str = "alice", password: str = "password123"):
    return service.sign_up(
        SignUp(
            username=name,
            email=f"{name}@example.com",
            password=password,
            first_name=name.title(),
        )
    )


def as_user(user_id: int) -> Principal:
    return Principal(user_id, "user", "jti", 0)


ADMIN = Principal(10_000, "admin", "jti", 0)


def test_sign_up_hashes_the_password_and_makes_a_plain_user(
    service: UserService, fast_hasher: PasswordHasher
) -> None:
    user = sign_up(service)
    assert user.role == "user"
    assert user.password_hash != "password123"
    assert fast_hasher.verify("password123", user.password_hash)


def test_sign_up_lower_cases_email_and_username(service: UserService) -> None:
    user = service.sign_up(
        SignUp(username="Alice", email="Alice@Example.COM", password="x" * 8, first_name="A")
    )
    assert (user.username, user.email) == ("alice", "alice@example.com")


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [("alice", "other@example.com", "username"), ("other", "ALICE@example.com", "email")],
)
def test_duplicate_sign_up_names_the_taken_field(
    service: UserService, username: str, email: str, field: str
) -> None:
    sign_up(service)
    with pytest.raises(DuplicateUserError) as caught:
        service.sign_up(SignUp(username=username, email=email, password="x" * 8, first_name="O"))
    assert caught.value.field == field
    assert caught.value.status_code == 409


def test_user_cannot_update_or_delete_someone_else(service: UserService) -> None:
    alice, bob = sign_up(service, "alice"), sign_up(service, "bob")
    with pytest.raises(ForbiddenError):
        service.update(as_user(bob.id), alice.id, UserUpdate(first_name="Mallory"))
    with pytest.raises(ForbiddenError):
        service.delete(as_user(bob.id), alice.id)
    assert service.get(alice.id).first_name == "Alice"


def test_forbidden_comes_before_not_found_so_ids_cannot_be_probed(service: UserService) -> None:
    bob = sign_up(service, "bob")
    with pytest.raises(ForbiddenError):
        service.update(as_user(bob.id), 999, UserUpdate(first_name="X"))


def test_only_admins_change_roles(service: UserService) -> None:
    alice = sign_up(service)
    with pytest.raises(ForbiddenError):
        service.update(as_user(alice.id), alice.id, UserUpdate(role="admin"))
    assert service.update(ADMIN, alice.id, UserUpdate(role="admin")).role == "admin"


def test_sending_your_current_role_is_not_a_role_change(service: UserService) -> None:
    alice = sign_up(service)
    updated = service.update(as_user(alice.id), alice.id, UserUpdate(role="user", first_name="Al"))
    assert (updated.role, updated.first_name) == ("user", "Al")


def test_changing_own_password_needs_the_current_one(
    service: UserService, fast_hasher: PasswordHasher
) -> None:
    alice = sign_up(service)
    me = as_user(alice.id)
    with pytest.raises(ForbiddenError):
        service.update(me, alice.id, UserUpdate(password="new-password-1"))
    with pytest.raises(ForbiddenError):
        service.update(
            me, alice.id, UserUpdate(password="new-password-1", current_password="wrong-one")
        )
    updated = service.update(
        me, alice.id, UserUpdate(password="new-password-1", current_password="password123")
    )
    assert fast_hasher.verify("new-password-1", updated.password_hash)
    assert not fast_hasher.verify("password123", updated.password_hash)


def test_changing_own_email_needs_the_current_password(service: UserService) -> None:
    alice = sign_up(service)
    with pytest.raises(ForbiddenError):
        service.update(as_user(alice.id), alice.id, UserUpdate(email="new@example.com"))
    updated = service.update(
        as_user(alice.id),
        alice.id,
        UserUpdate(email="New@Example.com", current_password="password123"),
    )
    assert updated.email == "new@example.com"


def test_admin_resets_another_users_password_without_theirs(
    service: UserService, fast_hasher: PasswordHasher
) -> None:
    alice = sign_up(service)
    updated = service.update(ADMIN, alice.id, UserUpdate(password="reset-by-admin"))
    assert fast_hasher.verify("reset-by-admin", updated.password_hash)


def test_update_to_a_taken_email_conflicts(service: UserService) -> None:
    alice, _ = sign_up(service, "alice"), sign_up(service, "bob")
    with pytest.raises(DuplicateUserError):
        service.update(ADMIN, alice.id, UserUpdate(email="bob@example.com"))


def test_delete_then_get_is_not_found(service: UserService) -> None:
    alice = sign_up(service)
    service.delete(as_user(alice.id), alice.id)
    with pytest.raises(UserNotFoundError):
        service.get(alice.id)
    with pytest.raises(UserNotFoundError):
        service.delete(ADMIN, alice.id)


def test_list_pages_by_id_and_reports_whether_more_exist(service: UserService) -> None:
    ids = [sign_up(service, f"user{i}").id for i in range(5)]
    first = service.list(after_id=None, offset=0, limit=2)
    assert [u.id for u in first.users] == ids[:2]
    assert first.next_after_id == ids[1]
    last = service.list(after_id=ids[3], offset=0, limit=2)
    assert [u.id for u in last.users] == ids[4:]
    assert last.next_after_id is None
