"""Failed-login throttling holds across worker processes: auth_service with two
uvicorn workers counts one account's failures together, whichever worker
answers, because the count lives in the shared database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.fleet import Fleet, fleet_environment, free_ports, one_service

pytestmark = pytest.mark.e2e
LIMIT = 4


@pytest.fixture(scope="module")
def two_worker_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("workers")
    port = free_ports(1)[0]
    fleet = Fleet(urls={"auth": f"http://127.0.0.1:{port}"})
    env = fleet_environment(data_dir, fleet.urls | {"user": ""}, f"sqlite:///{data_dir / 'w.db'}")
    # LIMIT free failures, then a wait far longer than the test.
    env.update(LOGIN_FREE_FAILURES=str(LIMIT), LOGIN_BASE_DELAY_SECONDS="600")
    with one_service(fleet, "auth", data_dir, env, workers=2):
        yield fleet.auth, fleet.logs["auth"]


def test_failures_are_counted_across_workers(two_worker_auth: tuple[str, Path]) -> None:
    base, log_path = two_worker_auth
    statuses = []
    for _ in range(3 * LIMIT):
        # A new connection each time, so the kernel may hand it to either worker.
        with httpx.Client(timeout=20, trust_env=False) as http:
            response = http.post(
                f"{base}/auth/login", json={"email": "victim@example.com", "password": "guess"}
            )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0
    assert statuses == [401] * LIMIT + [429] * (2 * LIMIT)
    workers = set(re.findall(r"auth_service\[(\d+)\] \[\w+\] musicplayer\.access: .*/auth/login",
                             log_path.read_text()))  # fmt: skip
    assert len(workers) == 2, f"only worker(s) {workers} answered; the check proves nothing"
