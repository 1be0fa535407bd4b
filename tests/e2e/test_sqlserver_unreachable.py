"""The fleet pointed at a SQL Server that does not answer: every service starts,
stays up, and says so on readiness and on data endpoints, quickly and clearly."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.databases import require_pyodbc
from tests.e2e.fleet import Fleet, free_ports, running_fleet

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def mssql_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    require_pyodbc()
    port = free_ports(1)[0]  # nothing listens there
    url = f"mssql+pyodbc://sa:Secret-123@127.0.0.1:{port}/musicplayer?driver=FreeTDS"
    with running_fleet(tmp_path_factory.mktemp("mssql"), url, database_reachable=False) as started:
        yield started


def test_services_stay_up_and_report_the_database(mssql_fleet: Fleet) -> None:
    with httpx.Client(timeout=30, trust_env=False) as http:
        for name, base in mssql_fleet.urls.items():
            assert http.get(f"{base}/health").status_code == 200, name
            started = time.monotonic()
            ready = http.get(f"{base}/health/ready")
            assert time.monotonic() - started < 10, name
            assert ready.status_code == 503, (name, ready.text)
            detail = ready.json()["detail"]
            assert detail.startswith("Database unavailable"), detail
            assert "Secret-123" not in ready.text
        songs = http.get(f"{mssql_fleet.song}/songs")
        assert (songs.status_code, songs.json()) == (503, {"detail": "Database unavailable"})
        login = http.post(
            f"{mssql_fleet.auth}/auth/login",
            json={"email": mssql_fleet.admin_email, "password": mssql_fleet.admin_password},
        )
        assert login.status_code == 503
        # Still alive after the failures.
        assert all(
            http.get(f"{base}/health").status_code == 200 for base in mssql_fleet.urls.values()
        )
