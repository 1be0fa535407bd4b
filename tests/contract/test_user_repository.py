"""What every UserRepository must do, asserted identically on each backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.contract.conftest import Backend
from user_service.repos.base import DuplicateUserError, NewUser, UserRepository
from user_service.repos.memory import InMemoryUserUnitOfWork
from user_service.repos.sql import SqlUserUnitOfWork


def make_repo(backend: Backend) -> UserRepository:
    """The users repository, each call one committed unit of work."""
    return backend.repository(memory=InMemoryUserUnitOfWork, sql=SqlUserUnitOfWork, name="users")


def new_user(name: str, **overrides: str) -> NewUser:
    fields = {
        "username": name,
        "email": f"{name}@example.com",
        "password_hash": "$bcrypt-sha256$hash",
        "first_name": name.title(),
        "last_name": None,
        **overrides,
    }
    return NewUser(**fields)  # type: ignore[arg-type]


def test_add_assigns_id_and_utc_timestamps(backend: Backend) -> None:
    repo = make_repo(backend)
    user = repo.add(new_user("alice"))
    assert user.id >= 1
    assert user.role == "user"
    assert user.created_at.tzinfo is not None and user.created_at.utcoffset().total_seconds() == 0
    assert repo.get(user.id) == user


def test_ids_are_distinct_and_increasing(backend: Backend) -> None:
    repo = make_repo(backend)
    ids = [repo.add(new_user(f"user{i}")).id for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3


@pytest.mark.parametrize(
    ("clash", "field"),
    [({"email": "alice@example.com"}, "email"), ({"username": "alice"}, "username")],
)
def test_duplicates_raise_the_same_error_naming_the_field(
    backend: Backend, clash: dict[str, str], field: str
) -> None:
    repo = make_repo(backend)
    repo.add(new_user("alice"))
    with pytest.raises(DuplicateUserError) as caught:
        repo.add(new_user("bob", **clash))
    assert caught.value.field == field
    # The failed insert left the repository usable and unchanged.
    assert [u.username for u in repo.list(after_id=None, offset=0, limit=10)] == ["alice"]
    assert repo.add(new_user("carol")).username == "carol"


def test_get_missing_is_none(backend: Backend) -> None:
    repo = make_repo(backend)
    assert repo.get(404) is None
    assert repo.get_by_email("nobody@example.com") is None


def test_get_by_email_matches_the_stored_address(backend: Backend) -> None:
    repo = make_repo(backend)
    alice = repo.add(new_user("alice"))
    assert repo.get_by_email("alice@example.com") == alice


def test_list_orders_by_id_with_keyset_and_offset(backend: Backend) -> None:
    repo = make_repo(backend)
    ids = [repo.add(new_user(f"user{i}")).id for i in range(5)]
    assert [u.id for u in repo.list(after_id=None, offset=0, limit=2)] == ids[:2]
    assert [u.id for u in repo.list(after_id=ids[1], offset=0, limit=10)] == ids[2:]
    assert [u.id for u in repo.list(after_id=None, offset=3, limit=10)] == ids[3:]
    assert repo.list(after_id=ids[-1], offset=0, limit=10) == []


def test_update_changes_fields_and_bumps_updated_at(backend: Backend) -> None:
    repo = make_repo(backend)
    alice = repo.add(new_user("alice"))
    updated = repo.update(alice.id, {"first_name": "Al", "role": "admin"})
    assert updated is not None
    assert (updated.first_name, updated.role, updated.email) == ("Al", "admin", alice.email)
    assert updated.updated_at >= alice.updated_at
    assert updated.created_at == alice.created_at
    assert repo.get(alice.id) == updated


def test_update_to_own_current_values_is_not_a_conflict(backend: Backend) -> None:
    repo = make_repo(backend)
    alice = repo.add(new_user("alice"))
    assert repo.update(alice.id, {"email": alice.email, "username": alice.username}) is not None


def test_update_to_a_taken_email_conflicts_and_keeps_the_old_value(backend: Backend) -> None:
    repo = make_repo(backend)
    alice = repo.add(new_user("alice"))
    repo.add(new_user("bob"))
    with pytest.raises(DuplicateUserError) as caught:
        repo.update(alice.id, {"email": "bob@example.com"})
    assert caught.value.field == "email"
    assert repo.get(alice.id).email == "alice@example.com"  # type: ignore[union-attr]


def test_update_missing_is_none(backend: Backend) -> None:
    assert make_repo(backend).update(404, {"first_name": "X"}) is None


def test_delete(backend: Backend) -> None:
    repo = make_repo(backend)
    alice = repo.add(new_user("alice"))
    assert repo.delete(alice.id) is True
    assert repo.get(alice.id) is None
    assert repo.delete(alice.id) is False
    # The freed email can be registered again.
    assert repo.add(new_user("alice")).id != alice.id


def test_concurrent_sign_ups_with_one_email_give_exactly_one_account(backend: Backend) -> None:
    """Each call is a unit of work on a connection of its own, as concurrent
    requests are."""

    def attempt(i: int) -> str:
        try:
            make_repo(backend).add(new_user(f"racer{i}", email="same@example.com"))
        except DuplicateUserError:
            return "conflict"
        return "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count("created") == 1
    assert outcomes.count("conflict") == 15
