"""The bench's fleet on a loaded machine: it waits long enough, and when a service
still does not get ready the failure carries every service's startup log."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.bench.services import READY_TIMEOUT_SECONDS, running
from tests.e2e.fleet import READY_TIMEOUT_SECONDS as TESTS_READY_TIMEOUT_SECONDS
from tests.e2e.fleet import SERVICES

pytestmark = pytest.mark.e2e

# Port 1 answers nothing: every service starts, none is ever ready.
NOWHERE = "postgresql+psycopg://nobody:secret@127.0.0.1:1/musicplayer"


def test_the_bench_waits_longer_than_the_tests_for_a_loaded_machine() -> None:
    # Once, in CI, two workers per service were not ready after the tests' 30 s.
    assert READY_TIMEOUT_SECONDS >= 4 * TESTS_READY_TIMEOUT_SECONDS


def test_a_fleet_that_never_gets_ready_fails_with_the_startup_logs(tmp_path: Path) -> None:
    with (
        pytest.raises(pytest.fail.Exception) as failed,
        running(tmp_path, NOWHERE, workers=2, baseline=False, ready_timeout=40),
    ):
        pass
    report = str(failed.value)
    # Not ready in time; or, on a starved machine, uvicorn's supervisor gave up on
    # workers that missed its health checks. Either way every log comes along.
    never_ready = "not ready after 40s" in report
    assert never_ready or " exited with code " in report, report
    for service in SERVICES:
        assert f"----- {service} -----\n" in report, report
        if never_ready:
            log = report.split(f"----- {service} -----\n", 1)[1].split("\n----- ", 1)[0]
            # Even under the bench's LOG_LEVEL=WARNING: how far each worker got.
            assert log.count("Application startup complete") == 2, report
