"""The login throttle's metrics (common.metrics): a failure it records and a 429
it answers are counted, for logins and for the Subsonic exchange apart."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from auth_service.tests.conftest import PASSWORD, add_memory_user
from auth_service.tests.test_auth_api import login
from auth_service.tests.test_credentials_api import exchange, new_app_password, token_of
from common.passwords import PasswordHasher
from database.memory import MemoryDatabase

ClientFactory = Callable[..., TestClient]


def counts(flow: str) -> tuple[float, float]:
    """(failures, throttled) of `flow` so far in this process."""
    labels = {"service": "auth_service", "flow": flow}
    return (
        REGISTRY.get_sample_value("musicplayer_login_failures_total", labels) or 0.0,
        REGISTRY.get_sample_value("musicplayer_login_throttled_total", labels) or 0.0,
    )


def test_a_wrong_login_is_a_failure_and_a_throttled_one_is_counted_apart(
    make_client: ClientFactory, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    add_memory_user(memory_db, fast_hasher)
    client = make_client(login_free_failures=2, login_base_delay_seconds=120)
    failures, throttled = counts("login")
    assert login(client).status_code == 200  # a success is neither
    assert counts("login") == (failures, throttled)
    assert [login(client, password="wrong").status_code for _ in range(2)] == [401, 401]
    assert counts("login") == (failures + 2, throttled)
    assert login(client, password=PASSWORD).status_code == 429
    assert login(client, password="wrong").status_code == 429  # refused, not checked
    assert counts("login") == (failures + 2, throttled + 2)


def test_the_subsonic_exchange_is_counted_as_its_own_flow(
    make_client: ClientFactory, memory_db: MemoryDatabase, fast_hasher: PasswordHasher
) -> None:
    add_memory_user(memory_db, fast_hasher)
    client = make_client(login_free_failures=2, login_base_delay_seconds=120)
    password = new_app_password(client, token_of(client))
    logins = counts("login")
    failures, throttled = counts("subsonic")
    assert exchange(client, username="alice", password=password).status_code == 200
    assert [exchange(client, username="alice", password="no").status_code for _ in range(2)] == [
        401,
        401,
    ]
    assert exchange(client, username="alice", password=password).status_code == 429
    wrong_key = "mpk_" + "w" * 43
    assert [exchange(client, api_key=wrong_key).status_code for _ in range(3)] == [401, 401, 429]
    assert counts("subsonic") == (failures + 4, throttled + 2)
    assert counts("login") == logins
