"""Which failures re-run a use case (database.unit_of_work): races the database
lost, and connections that were dead before anything was committed; never a
connection lost during COMMIT, whose outcome is unknown."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from database.unit_of_work import (
    COMMIT_OUTCOME_UNKNOWN,
    RerunUnit,
    is_stale_connection,
    run_read,
    run_unit,
)


class DriverError(Exception):
    def __init__(self, sqlstate: str | None = None) -> None:
        super().__init__("driver")
        self.sqlstate = sqlstate


def dropped(*, during_commit: bool = False) -> DBAPIError:
    error = OperationalError("SELECT 1", None, DriverError(), connection_invalidated=True)
    if during_commit:
        setattr(error, COMMIT_OUTCOME_UNKNOWN, True)
    return error


def failing(*errors: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def use_case() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "done"

    return calls, use_case


def test_a_dead_connection_before_commit_is_stale_and_during_commit_is_not() -> None:
    assert is_stale_connection(dropped())
    assert not is_stale_connection(dropped(during_commit=True))
    assert not is_stale_connection(OperationalError("x", None, DriverError()))
    assert not is_stale_connection(ValueError())


def test_a_read_is_run_again_once_on_a_dead_connection() -> None:
    calls, use_case = failing(dropped())
    assert run_read(use_case) == "done"
    assert len(calls) == 2
    calls, use_case = failing(dropped(), dropped())
    with pytest.raises(OperationalError):
        run_read(use_case)
    assert len(calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        dropped(),
        OperationalError("x", None, DriverError("40001")),
        DBAPIError("x", None, DriverError("40P01")),
        RerunUnit(),
    ],
    ids=["dead connection", "serialization failure", "deadlock", "overtaken reads"],
)
def test_a_write_is_run_again_after_a_lost_race_or_a_dead_connection(error: Exception) -> None:
    calls, use_case = failing(error)
    assert run_unit(use_case) == "done"
    assert len(calls) == 2


@pytest.mark.parametrize(
    "error",
    [dropped(during_commit=True), IntegrityError("x", None, DriverError("23505")), ValueError()],
    ids=["lost during commit", "constraint", "a bug"],
)
def test_a_write_is_not_run_again_when_that_could_apply_it_twice(error: Exception) -> None:
    calls, use_case = failing(error)
    with pytest.raises(type(error)):
        run_unit(use_case)
    assert len(calls) == 1
