from __future__ import annotations

from collections.abc import Callable

import pytest

from common.errors import ForbiddenError
from common.paging import PageParams, keyset_cursor, parse_keyset_cursor
from common.passwords import PasswordHasher
from common.tokens import Principal
from database.keyset import After
from database.memory import MemoryDatabase
from user_service.repos.base import DuplicateUserError, UserRecord, UserUnitOfWork
from user_service.schemas import SignUp, UserUpdate
from user_service.services.users import (
    BY_ID,
    UserNotFoundError,
    UserService,
    WrongCurrentPasswordError,
)


def sign_up(service: UserService, name: str = "alice", password: str = "password123") -> UserRecord:
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
    first = service.list(PageParams(limit=2, offset=0, cursor=None))
    assert [u.id for u in first.items] == ids[:2]
    assert parse_keyset_cursor(first.next_cursor, BY_ID, int) == After(ids[1], ids[1])
    after_fourth = keyset_cursor(BY_ID, ids[3], ids[3])
    last = service.list(PageParams(limit=2, offset=0, cursor=after_fourth))
    assert [u.id for u in last.items] == ids[4:]
    assert last.next_cursor is None


def test_credential_and_role_changes_end_the_sessions(service: UserService) -> None:
    """Each change of password, email or role bumps session_version once, so the
    refresh tokens issued before are refused; other changes leave it."""
    alice = sign_up(service)
    me = as_user(alice.id)
    assert service.update(me, alice.id, UserUpdate(first_name="Al")).session_version == 0
    assert service.update(ADMIN, alice.id, UserUpdate(role="admin")).session_version == 1
    assert service.update(ADMIN, alice.id, UserUpdate(password="reset-pw-1")).session_version == 2
    moved = service.update(
        me, alice.id, UserUpdate(email="al@example.com", current_password="reset-pw-1")
    )
    assert moved.session_version == 3
    same = service.update(me, alice.id, UserUpdate(email="al@example.com", role="admin"))
    assert same.session_version == 3  # the values it already had: no change


class RacingHasher(PasswordHasher):
    """Checks passwords like its parent, but the stored hash changes (another
    request set a new password) while the check runs."""

    def __init__(self, rounds: int, change: Callable[[], None]) -> None:
        super().__init__(rounds)
        self._change = change

    def verify(self, password: str, password_hash: str | None) -> bool:
        valid = super().verify(password, password_hash)
        self._change()
        return valid


def test_a_password_changed_during_the_check_is_refused(
    service: UserService,
    user_unit: Callable[..., UserUnitOfWork],
    memory_db: MemoryDatabase,
) -> None:
    alice = sign_up(service)

    def change_elsewhere() -> None:
        memory_db.users[alice.id]["password_hash"] = "set-by-another-request"

    racing = UserService(user_unit, RacingHasher(4, change_elsewhere))
    with pytest.raises(WrongCurrentPasswordError):
        racing.update(
            as_user(alice.id),
            alice.id,
            UserUpdate(password="new-password-1", current_password="password123"),
        )
    stored = service.get(alice.id)
    assert (stored.password_hash, stored.session_version) == ("set-by-another-request", 0)
